// The courier app (an installable PWA, phone first): go online or offline, send the
// position from the phone (or a typed one, for testing), take or pass on offers before they
// expire, then the delivery with its stops on a map and one big button for the next step.

import { useEffect, useRef, useState } from '../vendor/preact/hooks.js';
import { signal } from '../vendor/signals/signals.js';
import { api } from '../shared/api.js';
import { distance, money } from '../shared/format.js';
import { Settings } from '../shared/account.js';
import { follow } from '../shared/sse.js';
import { MapView } from '../shared/map.js';
import {
  Action, Header, Login, Problem, Reconnecting, html, render, signedIn, unreachable, useNow,
} from '../shared/ui.js';

/** How often a moving phone's position is sent at most. */
const SEND_EVERY_MS = 5_000;

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/courier/sw.js', { scope: '/courier' }).catch(() => {});
}

function Position({ online, onSent }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState(null);
  const [sharing, setSharing] = useState(false);
  const lastSent = useRef(0);
  async function send(lat, lon) {
    await api('PUT', '/courier/location', { lat, lon });
    setError(null);
    onSent({ lat, lon });
  }
  useEffect(() => {
    if (!online || !sharing || !navigator.geolocation) return undefined;
    const watch = navigator.geolocation.watchPosition(
      (p) => {
        if (Date.now() - lastSent.current < SEND_EVERY_MS) return;
        lastSent.current = Date.now();
        send(p.coords.latitude, p.coords.longitude).catch(setError);
      },
      () => setError(new Error('Your position is not shared; type it below instead.')),
      { enableHighAccuracy: true },
    );
    return () => navigator.geolocation.clearWatch(watch);
  }, [online, sharing]);
  async function sendTyped() {
    const [lat, lon] = typed.split(',').map((v) => Number(v.trim()));
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) throw new Error('Type the position as latitude, longitude.');
    await send(lat, lon);
  }
  return html`<section class="card" aria-label="Position">
    <label class="row"><input type="checkbox" class="choice" checked=${sharing}
      onChange=${(e) => setSharing(e.currentTarget.checked)} /> Share my position from this phone</label>
    <div class="row">
      <label for="position">Or set it</label>
      <input id="position" class="narrow" placeholder="52.53, 13.41" value=${typed}
        onInput=${(e) => setTyped(e.currentTarget.value)} />
      <${Action} action=${sendTyped} busy="Sending…" kind="">Set position</${Action}>
    </div>
    <${Problem} error=${error} />
  </section>`;
}

/** Whether the offer may still be answered at `now`: it leaves the screen at its expiry. */
const open = (offer, now) => Date.parse(offer.expires_at) > now;

function Offer({ offer, now, reload }) {
  const left = Math.max(0, Math.round((Date.parse(offer.expires_at) - now) / 1000));
  // Whatever the answer, the screen is loaded again: a late one finds the offer gone.
  const answer = (how) => async () => {
    try {
      await api('POST', `/courier/offers/${offer.id}/${how}`);
    } finally {
      reload();
    }
  };
  return html`<article class="card offer" aria-label="Offer">
    <div class="spread"><h2>New delivery</h2><strong class="big-figure" data-testid="payout">${money(offer.payout)}</strong></div>
    <p class="big-figure">${distance(offer.distance_km)} to ${offer.pickup.name ?? 'the merchant'}, then ${distance(offer.trip_km)}</p>
    <p class="muted">${offer.pickup.address ?? ''}</p>
    <p class=${left < 10 ? 'countdown urgent' : 'countdown'} role="timer">${left} s to answer</p>
    <div class="row">
      <${Action} kind="primary big" busy="Accepting…" action=${answer('accept')}>Accept</${Action}>
      <${Action} kind="" busy="Passing…" action=${answer('decline')}>Decline</${Action}>
    </div>
  </article>`;
}

function Delivery({ delivery, here, reload }) {
  const stops = [
    { ...delivery.pickup, label: 'Pick up', kind: 'merchant' },
    ...(delivery.drop_off ? [{ ...delivery.drop_off, label: 'Drop off', kind: 'customer' }] : []),
    ...(here ? [{ ...here, label: 'You', kind: 'courier' }] : []),
  ];
  const picked = delivery.status === 'picked_up';
  return html`<article class="card" aria-label="Current delivery">
    <h2>${picked ? 'Bring it to the customer' : 'Go to the merchant'}</h2>
    <ol class="timeline">
      <li class=${picked ? 'done' : 'now'}>Pick up at ${delivery.pickup.name ?? ''} ${delivery.pickup.address ?? ''}</li>
      <li class=${picked ? 'now' : ''}>Drop off${delivery.drop_off?.address ? ` at ${delivery.drop_off.address}` : ''}</li>
    </ol>
    <${MapView} label="The stops on a map" points=${stops} labelled=${true} />
    ${picked
      ? html`<${Action} kind="primary big" busy="Saving…"
          action=${async () => { await api('POST', `/deliveries/${delivery.id}/delivered`); reload(); }}>Delivered</${Action}>`
      : html`<p class="muted">The merchant hands it over when it is ready.</p>`}
  </article>`;
}

/** What `deliveries` paid, in their currency (a courier is paid in one). */
function earned(deliveries) {
  const currency = deliveries[0]?.payout.currency ?? 'EUR';
  return { amount: deliveries.reduce((total, d) => total + d.payout.amount, 0), currency };
}

function Work() {
  const [me, setMe] = useState(null);
  const [offers, setOffers] = useState([]);
  const [deliveries, setDeliveries] = useState([]);
  const [here, setHere] = useState(null);
  const [ready, setReady] = useState(new Set());
  const [error, setError] = useState(null);
  const now = useNow();
  // Only the latest look counts: an older one answering late must not undo a newer state.
  const looks = useRef(0);
  async function load() {
    const look = ++looks.current;
    try {
      const [availability, open, mine, told] = await Promise.all([
        api('GET', '/courier/availability'),
        api('GET', '/courier/offers'),
        api('GET', '/courier/deliveries?limit=50'),
        api('GET', '/notifications?limit=50'),
      ]);
      if (look !== looks.current) return;
      setReady(new Set(told.items.filter((n) => n.kind === 'order_ready').map((n) => n.order_id)));
      setMe(availability);
      if (availability.lat != null) setHere({ lat: availability.lat, lon: availability.lon });
      setOffers(open.items);
      setDeliveries(mine.items);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
    // Offers and changes to a delivery are notifications to the courier; after a break in
    // the stream the whole screen is loaded again.
    return follow('/notifications/stream', {
      onEvent: () => load(),
      onState: (state) => state === 'open' && load(),
    });
  }, []);
  const online = me?.online ?? false;
  const active = deliveries.find((d) => ['assigned', 'picked_up'].includes(d.status));
  // The merchant handing the order over is a step of the order, followed on its own stream
  // once the courier was told it is ready: by then the order knows its courier.
  const following = active && (ready.has(active.order_id) || active.status === 'picked_up')
    ? active.order_id
    : null;
  useEffect(() => {
    if (!following) return undefined;
    return follow(`/orders/${following}/track`, {
      onEvent: ({ event }) => ['status', 'delivery'].includes(event) && load(),
    });
  }, [following]);
  const today = new Date().toDateString();
  const doneToday = deliveries.filter((d) => d.delivered_at && new Date(d.delivered_at).toDateString() === today);
  const answerable = offers.filter((o) => open(o, now));
  return html`<main class="phone">
    <${Reconnecting} error=${error} />
    ${!unreachable(error) && html`<${Problem} error=${error} />`}
    <div class="spread">
      <h1>${online ? 'Online' : 'Offline'}</h1>
      <${Action} kind=${online ? '' : 'primary'} busy="…"
        action=${async () => { await api('PUT', '/courier/availability', { online: !online }); await load(); }}>
        ${online ? 'Go offline' : 'Go online'}</${Action}>
    </div>
    <${Position} online=${online} onSent=${setHere} />
    ${active && html`<${Delivery} delivery=${active} here=${here} reload=${load} />`}
    ${!active && online && answerable.length === 0 && html`<p class="muted" role="status">Waiting for offers…</p>`}
    ${!active && answerable.map((o) => html`<${Offer} key=${o.id} offer=${o} now=${now} reload=${load} />`)}
    <section class="card" aria-label="Today">
      <h2>Today</h2>
      <p class="spread"><span>${doneToday.length} ${doneToday.length === 1 ? 'delivery' : 'deliveries'}</span>
        <strong data-testid="earned-today">${money(earned(doneToday))} earned</strong></p>
    </section>
  </main>`;
}

/** The screen the address asks for: the work (offers and the delivery) or the account. */
const screen = signal(location.hash === '#/account' ? 'account' : 'work');
addEventListener('hashchange', () => {
  screen.value = location.hash === '#/account' ? 'account' : 'work';
});

function App() {
  if (!signedIn.value) return html`<${Login} role="courier" title="Ordo for couriers" />`;
  const account = screen.value === 'account';
  return html`<${Header} title="Ordo for couriers">
      <a href="#/" aria-current=${account ? undefined : 'page'}>Work</a>
      <a href="#/account" aria-current=${account ? 'page' : undefined}>Account</a>
    </${Header}>
    ${account ? html`<${Settings} />` : html`<${Work} />`}`;
}

render(html`<${App} />`, document.getElementById('app'));
