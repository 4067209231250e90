// A delivery order's courier, as the customer follows it: "courier found" with their name as
// soon as one takes the order, on a map with the shop and home from then on (not only after
// pick-up), and the time until the door.

import { duration } from '../shared/format.js';
import { useLoad } from '../shared/load.js';
import { MapView } from '../shared/map.js';
import { html } from '../shared/ui.js';

/**
 * `delivery` is the order's last `delivery` event (status, courier name), `position` its
 * last `position` event (where the courier is, the ETA to the door).
 */
export function CourierOnTheWay({ order, delivery, position }) {
  const [merchant] = useLoad(`/merchants/${order.merchant_id}`, [order.merchant_id]);
  if (!delivery || !['assigned', 'picked_up'].includes(delivery.status)) {
    if (delivery && ['searching', 'offered'].includes(delivery.status)) {
      return html`<p class="muted" role="status" data-testid="courier">Looking for a courier near ${merchant?.name ?? 'the shop'}…</p>`;
    }
    return null;
  }
  const name = delivery.courier_name ?? 'A courier';
  const picked = delivery.status === 'picked_up';
  const eta = position?.eta_secs != null ? `, at your door in about ${duration(position.eta_secs)}` : '';
  const points = [
    ...(merchant ? [{ lat: merchant.lat, lon: merchant.lon, label: `Shop: ${merchant.name}`, tag: 'Shop', kind: 'merchant' }] : []),
    ...(order.address ? [{ lat: order.address.lat, lon: order.address.lon, label: 'Home', tag: 'Home', kind: 'customer' }] : []),
    ...(position ? [{ lat: position.lat, lon: position.lon, label: `Courier: ${name}`, tag: name, kind: 'courier' }] : []),
  ];
  return html`<section aria-label="Courier">
    <p data-testid="courier"><strong>${picked ? `${name} is on the way to you` : `Courier found: ${name}`}</strong>${eta}.</p>
    ${!picked && html`<p class="muted">${name} is going to ${merchant?.name ?? 'the shop'} to pick up your order.</p>`}
    <${MapView} label="The courier, the shop and your home on a map" points=${points} labelled=${true} />
  </section>`;
}
