// The city now: couriers at work and deliveries under way, on a map and in lists, with the
// deliveries waiting too long for a courier flagged, and what an operator does for one:
// give it to a courier, offer it again over a wider area, or cancel the order and refund.

import { useState } from '../vendor/preact/hooks.js';
import { api } from '../shared/api.js';
import { MapView } from '../shared/map.js';
import { distance, duration, orderRef, status as statusWords } from '../shared/format.js';
import { Action, Problem, html, useNow } from '../shared/ui.js';
import { useLoad } from '../shared/load.js';
import { REFRESH_MS, STUCK_SECS } from './refresh.js';

const short = (id) => id.slice(-8);
const nameOf = (courier) => courier?.name ?? `Courier ${short(courier.id)}`;

/** Great-circle distance in km, to rank couriers by how far they are from a pick-up. */
function km(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 12_742 * Math.asin(Math.sqrt(h));
}

/** The free couriers with a position, nearest to `delivery`'s pick-up first. */
function nearestFree(couriers, delivery) {
  return couriers
    .filter((c) => c.online && !c.busy && c.lat != null)
    .map((c) => ({ ...c, km: km(delivery.pickup, c) }))
    .sort((a, b) => a.km - b.km);
}

/** An operator's ways out for a delivery nobody took. */
function Rescue({ delivery, couriers, reload }) {
  const free = nearestFree(couriers, delivery);
  const [chosen, setChosen] = useState('');
  const [confirming, setConfirming] = useState(false);
  const order = orderRef(delivery.order_id);
  const courier = chosen || free[0]?.id || '';
  return html`<div class="rescue">
    <span class="row">
      <label class="sr-only" for=${`assign-${delivery.id}`}>Courier for order ${order}</label>
      <select id=${`assign-${delivery.id}`} value=${courier} onChange=${(e) => setChosen(e.currentTarget.value)}
        disabled=${free.length === 0}>
        ${free.length === 0 && html`<option value="">No courier is free</option>`}
        ${free.map((c) => html`<option value=${c.id}>${nameOf(c)} · ${distance(c.km)}</option>`)}
      </select>
      <${Action} kind="" busy="Assigning…" disabled=${!courier} label=${`Assign order ${order} to the chosen courier`}
        action=${async () => { await api('POST', `/admin/deliveries/${delivery.id}/assign`, { courier_id: courier }); reload(); }}>Assign</${Action}>
    </span>
    <${Action} kind="" busy="Offering…" label=${`Offer again (wider): order ${order}`}
      action=${async () => { await api('POST', `/admin/deliveries/${delivery.id}/redispatch`); reload(); }}>Offer again (wider)</${Action}>
    ${confirming
      ? html`<span class="row" role="group" aria-label=${`Cancel order ${order}?`}>
          <span>Cancel order ${order} and give the customer their money back?</span>
          <${Action} kind="danger" busy="Cancelling…"
            action=${async () => { await api('POST', `/orders/${delivery.order_id}/cancel`); reload(); }}>Yes, cancel and refund</${Action}>
          <button type="button" onClick=${() => setConfirming(false)}>Keep it</button>
        </span>`
      : html`<button type="button" onClick=${() => setConfirming(true)}>Cancel and refund</button>`}
  </div>`;
}

function points(fleet) {
  const out = [];
  for (const c of fleet.couriers) {
    out.push({ lat: c.lat, lon: c.lon, kind: c.busy ? 'courier' : 'idle', label: `${nameOf(c)}, ${c.busy ? 'on a delivery' : 'free'}` });
  }
  for (const d of fleet.deliveries) {
    out.push({ ...d.pickup, kind: 'merchant', label: `Pick-up of order ${orderRef(d.order_id)} at ${d.pickup.name}` });
    out.push({ ...d.drop_off, kind: 'customer', label: `Drop-off of order ${orderRef(d.order_id)}` });
  }
  return out;
}

function waiting(delivery, now) {
  return ['searching', 'offered'].includes(delivery.status)
    && (now - Date.parse(delivery.searching_since)) / 1000 > STUCK_SECS;
}

export function Fleet() {
  const [fleet, error, reload] = useLoad('/admin/fleet', [], REFRESH_MS);
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
        ${deliveries.length > 0 && html`<table class="list">
          <thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">From → to</th><th scope="col">Waiting</th><th scope="col">Action</th></tr></thead>
          <tbody>${deliveries.map((d) => html`<tr class=${waiting(d, now) ? 'stuck' : ''} data-delivery=${d.order_id}>
            <td data-label="Order"><code>${orderRef(d.order_id)}</code></td>
            <td data-label="Status">${statusWords(d.status)} ${waiting(d, now) && html`<span class="badge bad">no courier</span>`}</td>
            <td data-label="From → to">${d.pickup.name} → ${d.drop_off.address}</td>
            <td data-label="Waiting">${d.assigned_at
              ? nameOf(couriers.find((c) => c.id === d.courier_id) ?? { id: d.courier_id })
              : duration((now - Date.parse(d.searching_since)) / 1000)}</td>
            <td data-label="Action">${['searching', 'offered'].includes(d.status)
              && html`<${Rescue} delivery=${d} couriers=${couriers} reload=${reload} />`}</td>
          </tr>`)}</tbody>
        </table>`}
        <h3>Couriers</h3>
        ${fleet && couriers.length === 0 && html`<p class="muted">No courier is online.</p>`}
        ${couriers.length > 0 && html`<table class="list">
          <thead><tr><th scope="col">Courier</th><th scope="col">State</th><th scope="col">Last position</th></tr></thead>
          <tbody>${couriers.map((c) => html`<tr data-courier=${c.id}>
            <td data-label="Courier">${nameOf(c)}</td>
            <td data-label="State">${c.busy ? 'delivering' : c.online ? 'free' : 'offline'}</td>
            <td data-label="Last position">${c.located_at ? `${duration((now - Date.parse(c.located_at)) / 1000)} ago` : 'none yet'}</td>
          </tr>`)}</tbody>
        </table>`}
      </div>
    </div>
  </section>`;
}
