// Money, times and distances as people read them, in the browser's language.

const language = navigator.language || 'en';

/** `{amount, currency}` (minor units) as `€9.50`. */
export function money(value) {
  if (!value) return '';
  const digits = new Intl.NumberFormat(language, { style: 'currency', currency: value.currency })
    .resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat(language, { style: 'currency', currency: value.currency }).format(
    value.amount / 10 ** digits,
  );
}

/** A time of day, `14:05`. */
export function clock(instant) {
  return new Date(instant).toLocaleTimeString(language, { hour: '2-digit', minute: '2-digit' });
}

/** A date and time, `30 Nov, 14:05`. */
export function when(instant) {
  return new Date(instant).toLocaleString(language, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Seconds as `4 min` or `35 s`. */
export function duration(seconds) {
  if (seconds == null) return '';
  const s = Math.max(0, Math.round(seconds));
  return s >= 90 ? `${Math.round(s / 60)} min` : `${s} s`;
}

/** Kilometres as `350 m` or `2.4 km`. */
export function distance(km) {
  if (km == null) return '';
  return km < 1 ? `${Math.round(km * 1000)} m` : `${km.toFixed(1)} km`;
}

/**
 * An order's reference, the same short form in every app and message: the last eight hex
 * digits of its id (the operators' console finds an order by it).
 */
export function orderRef(id) {
  return (id ?? '').slice(-8);
}

/** An order's status in words. */
export function status(value) {
  return (value ?? '').replaceAll('_', ' ');
}
