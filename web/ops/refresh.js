// What every panel of the console shares: how often it looks again, and when an order or a
// delivery counts as stuck.

/** How often the console looks again. */
export const REFRESH_MS = 5_000;
/** Waiting this long for a merchant or a courier, an order is stuck. */
export const STUCK_SECS = 5 * 60;
