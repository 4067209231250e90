// What every panel of the console shares: data read again every few seconds, and when an
// order or delivery counts as stuck.

import { useEffect, useState } from '../vendor/preact/hooks.js';

/** How often the console looks again. */
export const REFRESH_MS = 5_000;
/** Waiting this long for a merchant or a courier, an order is stuck. */
export const STUCK_SECS = 5 * 60;

/**
 * `load()`'s latest answer and error, read again every few seconds, and a function to read
 * it again now. An answer that comes after a newer one was asked for is dropped.
 */
export function useRefreshed(load, deps = []) {
  const [value, setValue] = useState(null);
  const [error, setError] = useState(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let latest = 0;
    let current = true;
    const run = () => {
      const asked = ++latest;
      load().then(
        (v) => current && asked === latest && (setValue(v), setError(null)),
        (e) => current && asked === latest && setError(e),
      );
    };
    run();
    const timer = setInterval(run, REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [round, ...deps]);
  return [value, error, () => setRound((r) => r + 1)];
}
