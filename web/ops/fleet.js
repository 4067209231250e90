// The city now: couriers at work and deliveries under way, on a map and in lists, with the
// deliveries waiting too long for a courier flagged.

import { MapView } from '../shared/map.js';
import { duration, status as statusWords } from '../shared/format.js';
import { Problem, html, useNow } from '../shared/ui.js';
import { useLoad } from '../shared/load.js';
import { REFRESH_MS, STUCK_SECS } from './refresh.js';

const short = (id) => id.slice(-8);

function points(fleet) {
  const out = [];
  for (const c of fleet.couriers) {
    out.push({ lat: c.lat, lon: c.lon, kind: c.busy ? 'courier' : 'idle', label: `Courier ${short(c.id)}, ${c.busy ? 'on a delivery' : 'free'}` });
  }
  for (const d of fleet.deliveries) {
    out.push({ ...d.pickup, kind: 'merchant', label: `Pick-up of order ${short(d.order_id)} at ${d.pickup.name}` });
    out.push({ ...d.drop_off, kind: 'customer', label: `Drop-off of order ${short(d.order_id)}` });
  }
  return out;
}

function waiting(delivery, now) {
  return ['searching', 'offered'].includes(delivery.status)
    && (now - Date.parse(delivery.searching_since)) / 1000 > STUCK_SECS;
}

export function Fleet() {
  const [fleet, error] = useLoad('/admin/fleet', [], REFRESH_MS);
  const now = useNow();
  const couriers = fleet?.couriers ?? [];
  const deliveries = fleet?.deliveries ?? [];
  const busy = couriers.filter((c) => c.busy).length;
  return html`<section class="panel" aria-label="Fleet">
    <h2>Couriers and deliveries</h2>
    <${Problem} error=${error} />
    <p class="row">
      <span class="badge">${couriers.length} at work</span>
      <span class="badge">${busy} delivering</span>
      <span class="badge">${deliveries.length} under way</span>
    </p>
    <div class="fleet">
      <div>
        <${MapView} label="Couriers and deliveries on a map" fitOnce=${true} points=${fleet ? points(fleet) : []} />
        <p class="legend muted">
          <span><i class="dot courier"></i> courier delivering</span>
          <span><i class="dot idle"></i> courier free</span>
          <span><i class="dot merchant"></i> pick-up</span>
          <span><i class="dot customer"></i> drop-off</span>
        </p>
      </div>
      <div>
        <h3>Deliveries</h3>
        ${fleet && deliveries.length === 0 && html`<p class="muted">No delivery under way.</p>`}
        <table class="list">
          <thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">From → to</th><th scope="col">Waiting</th></tr></thead>
          <tbody>${deliveries.map((d) => html`<tr class=${waiting(d, now) ? 'stuck' : ''} data-delivery=${d.order_id}>
            <td data-label="Order"><code>${short(d.order_id)}</code></td>
            <td data-label="Status">${statusWords(d.status)} ${waiting(d, now) && html`<span class="badge bad">no courier</span>`}</td>
            <td data-label="From → to">${d.pickup.name} → ${d.drop_off.address}</td>
            <td data-label="Waiting">${d.assigned_at ? `courier ${short(d.courier_id)}` : duration((now - Date.parse(d.searching_since)) / 1000)}</td>
          </tr>`)}</tbody>
        </table>
        <h3>Couriers</h3>
        ${fleet && couriers.length === 0 && html`<p class="muted">No courier is online.</p>`}
        <table class="list">
          <thead><tr><th scope="col">Courier</th><th scope="col">State</th><th scope="col">Last position</th></tr></thead>
          <tbody>${couriers.map((c) => html`<tr data-courier=${c.id}>
            <td data-label="Courier"><code>${short(c.id)}</code></td>
            <td data-label="State">${c.busy ? 'delivering' : c.online ? 'free' : 'offline'}</td>
            <td data-label="Last position">${c.located_at ? `${duration((now - Date.parse(c.located_at)) / 1000)} ago` : 'none yet'}</td>
          </tr>`)}</tbody>
        </table>
      </div>
    </div>
  </section>`;
}
