// The merchant board, a kitchen display: for the merchant you work for, tickets in columns
// (new, accepted, ready, handed over) that move live as orders come and go, a timer on
// each and the time left to accept a new one; one tap per step. And the menu: prices,
// availability, stock and pictures.

import { useEffect, useRef, useState } from '../vendor/preact/hooks.js';
import { signal } from '../vendor/signals/signals.js';
import { api } from '../shared/api.js';
import { distance, duration, money, orderRef } from '../shared/format.js';
import { Settings } from '../shared/account.js';
import { PictureInput } from '../shared/pictures.js';
import { follow } from '../shared/sse.js';
import { Action, Field, Header, Login, Problem, html, render, signedIn, useNow } from '../shared/ui.js';
import { Reviews } from './reviews.js';

const acceptTimeout = Number(document.querySelector('meta[name="ordo-accept-timeout"]')?.content ?? 600);
const TABS = { '#/menu': 'menu', '#/reviews': 'reviews', '#/account': 'account' };
const tab = signal(TABS[location.hash] ?? 'orders');
addEventListener('hashchange', () => {
  tab.value = TABS[location.hash] ?? 'orders';
});

function clockOf(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A short chime, rising for a new order and falling for a cancelled one, made on the spot (no sound file to fetch). */
function chime(tones = [[0, 880], [0.18, 1320]]) {
  try {
    const audio = new AudioContext();
    for (const [at, pitch] of tones) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = pitch;
      gain.gain.setValueAtTime(0.2, audio.currentTime + at);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + at + 0.3);
      tone.connect(gain).connect(audio.destination);
      tone.start(audio.currentTime + at);
      tone.stop(audio.currentTime + at + 0.3);
    }
  } catch {
    // No sound where the browser allows none before a tap.
  }
}

const COLUMNS = [
  { key: 'new', title: 'New', statuses: ['pending_payment', 'payment_failed', 'paid'] },
  { key: 'accepted', title: 'Accepted', statuses: ['accepted'] },
  { key: 'ready', title: 'Ready', statuses: ['ready'] },
  { key: 'out', title: 'Handed over', statuses: ['picked_up', 'shipped'] },
];

/** How often orders waiting for their payment are looked at again. */
const PAYMENT_POLL_MS = 1_000;
/** How often the couriers coming for delivery tickets are looked at again. */
const COURIER_POLL_MS = 3_000;

const REASONS = ['Sold out', 'Too busy right now', 'Closing soon'];

/** How long a cancelled ticket stays on the board, struck through. */
const CANCELLED_SHOWN_MS = 60_000;

const CANCELLED_BY = {
  customer: 'Cancelled by the customer',
  admin: 'Cancelled by Ordo support',
  system: 'Cancelled: nobody paid it in time',
};

/** A ticket whose order was cancelled while on the board: struck through, nothing to do. */
function CancelledTicket({ order }) {
  const id = orderRef(order.id);
  return html`<article class="ticket cancelled" aria-label=${`Order ${id}, cancelled`} data-order=${order.id}>
    <div class="spread"><strong class="ticket-id">#${id}</strong><span class="badge bad">${order.cancelledBy}</span></div>
    <ul class="plain lines">${(order.lines ?? []).map((l) => html`<li><s>${l.quantity} × ${l.name}</s></li>`)}</ul>
  </article>`;
}

/**
 * Who is coming for a delivery order, as the ticket says it: searching, on the way (name,
 * distance, time to the shop) or here.
 */
function Courier({ delivery }) {
  if (!delivery) return html`<p class="courier muted" data-testid="courier">Looking for a courier…</p>`;
  const name = delivery.courier_name ?? 'A courier';
  const way = delivery.to_pickup;
  if (['searching', 'offered'].includes(delivery.status)) {
    return html`<p class="courier muted" data-testid="courier">Looking for a courier…</p>`;
  }
  if (way?.arrived) return html`<p class="courier here" data-testid="courier">${name} is here</p>`;
  return html`<p class="courier" data-testid="courier">${name} is coming${way
    ? ` · ${distance(way.distance_km)}, about ${duration(way.eta_secs)}` : ''}</p>`;
}

/** Whether the order may be handed over now: to its courier once they are at the shop. */
function handOver(order) {
  return order.fulfilment !== 'delivery' || order.delivery?.to_pickup?.arrived === true;
}

function Ticket({ order, now, act }) {
  const age = (now - Date.parse(order.created_at)) / 1000;
  const left = acceptTimeout - (now - Date.parse(order.updated_at)) / 1000;
  const tone = age > 900 ? 'late' : age > 480 ? 'aging' : 'fresh';
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState(REASONS[0]);
  const [carrier, setCarrier] = useState('DHL');
  const [tracking, setTracking] = useState('');
  const id = orderRef(order.id);
  return html`<article class=${`ticket ${tone}`} aria-label=${`Order ${id}`} data-order=${order.id}>
    <div class="spread">
      <strong class="ticket-id">#${id}</strong>
      <span class="badge">${order.fulfilment}</span>
      <span class="timer" title="Since the order was placed">${clockOf(age)}</span>
    </div>
    <ul class="plain lines">${order.lines.map((l) => html`<li><strong>${l.quantity} ×</strong> ${l.name}</li>`)}</ul>
    ${order.notes && html`<p class="notes">“${order.notes}”</p>`}
    <p class="muted">${money(order.total)}</p>
    ${order.status === 'pending_payment' && html`<p class="muted">Waiting for the payment…</p>`}
    ${order.status === 'payment_failed' && html`<p class="muted">The card was declined; the customer may pay with another. Nothing to do yet.</p>`}
    ${order.status === 'paid' && html`<p class=${left < 120 ? 'countdown urgent' : 'countdown'}>
      Accept within ${clockOf(left)}, or it is rejected</p>
      <${Action} kind="primary big" busy="Accepting…" action=${() => act(order, 'accept')}>Accept</${Action}>
      ${rejecting
        ? html`<div class="row"><label for=${`reason-${id}`}>Reason</label>
            <select id=${`reason-${id}`} value=${reason} onChange=${(e) => setReason(e.currentTarget.value)}>
              ${REASONS.map((r) => html`<option>${r}</option>`)}</select>
            <${Action} kind="danger" busy="Rejecting…" action=${() => act(order, 'reject', { reason })}>Reject</${Action}></div>`
        : html`<button class="link" onClick=${() => setRejecting(true)}>Reject…</button>`}`}
    ${order.status === 'accepted' && order.fulfilment !== 'shipping' && html`<${Action} kind="primary big"
      busy="Saving…" action=${() => act(order, 'ready')}>Ready</${Action}>`}
    ${order.status === 'accepted' && order.fulfilment === 'shipping' && html`<div>
      <${Field} label=${`Carrier for ${id}`} value=${carrier} onInput=${setCarrier} />
      <${Field} label=${`Tracking number for ${id}`} value=${tracking} onInput=${setTracking} />
      <${Action} kind="primary big" busy="Shipping…"
        action=${() => act(order, 'ship', { carrier, tracking_number: tracking })}>Shipped</${Action}></div>`}
    ${order.fulfilment === 'delivery' && ['accepted', 'ready'].includes(order.status) && html`<${Courier} delivery=${order.delivery} />`}
    ${order.status === 'ready' && handOver(order) && html`<${Action} kind="primary big" busy="Saving…"
      action=${() => act(order, 'picked-up')}>Handed over</${Action}>`}
  </article>`;
}

function Board({ merchant }) {
  const [orders, setOrders] = useState([]);
  const [error, setError] = useState(null);
  const [link, setLink] = useState('connecting');
  const known = useRef(null);
  const lines = useRef(new Map());
  // The tickets on the board at the last look, and those cancelled since, struck through.
  const shown = useRef(new Set());
  const [cancelled, setCancelled] = useState([]);
  const now = useNow();

  // Only the latest look counts: an older one answering late must not undo a newer state.
  const looks = useRef(0);
  async function load() {
    const look = ++looks.current;
    try {
      const statuses = COLUMNS.flatMap((c) => c.statuses);
      const pages = await Promise.all(
        statuses.map((s) => api('GET', `/merchants/${merchant.id}/orders?status=${s}&limit=50`)),
      );
      // The lists are read side by side, so an order that moved on meanwhile is in two of
      // them: keep what is newest of it.
      const newest = new Map();
      for (const o of pages.flatMap((p) => p.items)) {
        const seen = newest.get(o.id);
        if (!seen || Date.parse(o.updated_at) > Date.parse(seen.updated_at)
          || (o.updated_at === seen.updated_at && statuses.indexOf(o.status) > statuses.indexOf(seen.status))) {
          newest.set(o.id, o);
        }
      }
      const all = [...newest.values()];
      // Lists leave out the lines; an order's lines never change, so each is read once.
      await Promise.all(
        all
          .filter((o) => !lines.current.has(o.id))
          .map(async (o) => lines.current.set(o.id, (await api('GET', `/orders/${o.id}`)).lines)),
      );
      for (const o of all) o.lines = lines.current.get(o.id) ?? [];
      const ended = await api('GET', `/merchants/${merchant.id}/orders?status=cancelled&limit=20`);
      const struck = await Promise.all(ended.items
        .filter((o) => shown.current.has(o.id))
        .map(async (o) => {
          const history = await api('GET', `/orders/${o.id}/history`);
          const by = CANCELLED_BY[history.at(-1)?.actor] ?? 'Cancelled';
          return { ...o, lines: lines.current.get(o.id), cancelledBy: by, struckAt: Date.now() };
        }));
      if (look !== looks.current) return;
      shown.current = new Set(all.map((o) => o.id));
      if (struck.length > 0) {
        chime([[0, 660], [0.2, 440]]);
        setCancelled((before) => [...before, ...struck]);
      }
      const fresh = all.filter((o) => o.status === 'paid' && known.current && !known.current.has(o.id));
      if (fresh.length > 0) chime();
      known.current = new Set(all.filter((o) => o.status === 'paid').map((o) => o.id));
      setOrders(all);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }

  useEffect(() => {
    known.current = null;
    load();
    // Every step of an order concerning this merchant is a notification to its staff.
    // After a break in the stream the board is loaded again: it may have missed steps.
    return follow('/notifications/stream', {
      onEvent: () => load(),
      onState: (state) => {
        setLink(state);
        if (state === 'open') load();
      },
    });
  }, [merchant.id]);

  // An order placed but not yet paid turns paid without telling the staff: look again while
  // one waits. Polling, not a stream per order: each stream holds one of the few connections
  // a browser opens to a server over HTTP/1.1, however many orders wait on a slow payment.
  // Likewise, less often, while a delivery ticket waits for its courier: who comes, and how
  // near they are, changes unasked.
  const every = orders.some((o) => ['pending_payment', 'payment_failed'].includes(o.status))
    ? PAYMENT_POLL_MS
    : orders.some((o) => o.fulfilment === 'delivery' && ['accepted', 'ready'].includes(o.status))
      ? COURIER_POLL_MS
      : 0;
  useEffect(() => {
    if (!every) return undefined;
    const timer = setInterval(load, every);
    return () => clearInterval(timer);
  }, [every]);

  const [today, setToday] = useState(null);
  useEffect(() => {
    const from = new Date().toISOString().slice(0, 10);
    api('GET', `/merchants/${merchant.id}/reports?from=${from}&bucket=day`).then(setToday, () => setToday(null));
  }, [merchant.id, orders.length]);
  const figures = today?.buckets?.[0];

  async function act(order, step, body) {
    await api('POST', `/orders/${order.id}/${step}`, body);
    await load();
  }

  return html`<main class="board-page">
    <div class="spread"><h1>${merchant.name}</h1>
      <span class=${link === 'open' ? 'badge ok' : 'badge warn'} role="status">${link === 'open' ? 'Live' : 'Reconnecting…'}</span></div>
    ${figures && html`<p class="row" aria-label="Today">
      <span class="badge">Today: ${figures.orders} ${figures.orders === 1 ? 'order' : 'orders'}</span>
      <span class="badge ok">${figures.completed} completed</span>
      <span class="badge">${money(figures.revenue)} revenue</span>
      ${figures.average_basket && html`<span class="badge">${money(figures.average_basket)} average</span>`}</p>`}
    <${Problem} error=${error} />
    ${cancelled.some((o) => now - o.struckAt < CANCELLED_SHOWN_MS) && html`<section class="cancelled-strip" aria-label="Cancelled">
      <h2>Cancelled</h2>
      ${cancelled.filter((o) => now - o.struckAt < CANCELLED_SHOWN_MS).map((o) => html`<${CancelledTicket} key=${o.id} order=${o} />`)}
    </section>`}
    <div class="board">
      ${COLUMNS.map((column) => {
        const tickets = orders
          .filter((o) => column.statuses.includes(o.status))
          .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
        return html`<section class="column" aria-label=${column.title}>
          <h2>${column.title} <span class="badge">${tickets.length}</span></h2>
          ${tickets.map((o) => html`<${Ticket} key=${o.id} order=${o} now=${now} act=${act} />`)}
        </section>`;
      })}
    </div>
  </main>`;
}

function Product({ product, reload }) {
  const [stock, setStock] = useState(null);
  const [onHand, setOnHand] = useState('');
  const [price, setPrice] = useState((product.price.amount / 100).toFixed(2));
  const [category, setCategory] = useState(product.category);
  useEffect(() => {
    api('GET', `/products/${product.id}/stock`).then((s) => {
      setStock(s);
      // What the person typed meanwhile wins over the level read.
      setOnHand((typed) => typed || String(s.on_hand));
    }, () => setStock(null));
  }, [product.id]);
  // One Save for the row: what changed of the category and price in one PATCH, the stock
  // when it changed.
  async function save() {
    const amount = Math.round(Number(price.replace(',', '.')) * 100);
    if (!Number.isFinite(amount) || amount < 0) throw new Error(`Type the price of ${product.name} as a number, e.g. 8.50.`);
    const changes = {};
    if (category !== product.category) changes.category = category;
    if (amount !== product.price.amount) changes.price = { amount, currency: product.price.currency };
    if (Object.keys(changes).length > 0) await api('PATCH', `/products/${product.id}`, changes);
    if (onHand !== '' && Number(onHand) !== stock?.on_hand) {
      setStock(await api('PUT', `/products/${product.id}/stock`, { on_hand: Number(onHand) }));
    }
    reload();
  }
  return html`<tr>
    <th scope="row">${product.name}<div>
      <label class="sr-only" for=${`category-${product.id}`}>Category of ${product.name}</label>
      <input id=${`category-${product.id}`} class="narrow" value=${category} onInput=${(e) => setCategory(e.currentTarget.value)} /></div></th>
    <td><${PictureInput} image=${product.image} path=${`/products/${product.id}/image`} name=${product.name}
      id=${`picture-${product.id}`} /></td>
    <td><label class="sr-only" for=${`price-${product.id}`}>Price of ${product.name}</label>
      <input id=${`price-${product.id}`} class="narrow" inputmode="decimal" value=${price} onInput=${(e) => setPrice(e.currentTarget.value)} /></td>
    <td><label class="sr-only" for=${`stock-${product.id}`}>Stock of ${product.name}</label>
      <input id=${`stock-${product.id}`} class="narrow" inputmode="numeric" value=${onHand} onInput=${(e) => setOnHand(e.currentTarget.value)} />
      ${stock && html`<div class="muted">${stock.available} available, ${stock.reserved} held</div>`}</td>
    <td><${Action} busy="Saving…" label=${`Save ${product.name}`} action=${save}>Save</${Action}></td>
    <td><span class=${product.active ? 'badge ok' : 'badge'}>${product.active ? 'On the menu' : 'Hidden'}</span>
      <${Action} busy="Saving…" kind="" label=${`${product.active ? 'Hide' : 'Offer'} ${product.name}`}
      action=${async () => { await api('PATCH', `/products/${product.id}`, { active: !product.active }); reload(); }}>
      ${product.active ? 'Hide' : 'Offer'}</${Action}></td>
  </tr>`;
}

function Menu({ merchant }) {
  const [products, setProducts] = useState(null);
  const [error, setError] = useState(null);
  const [name, setName] = useState('');
  const [category, setCategory] = useState('');
  const [price, setPrice] = useState('');
  async function load() {
    try {
      setProducts((await api('GET', `/merchants/${merchant.id}/products?limit=100`)).items);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => { load(); }, [merchant.id]);
  // A merchant sells in one currency: that of its menu so far.
  const currency = products?.[0]?.price.currency ?? 'EUR';
  async function add() {
    await api('POST', `/merchants/${merchant.id}/products`, {
      name, category, tags: [], price: { amount: Math.round(Number(price) * 100), currency },
    });
    setName('');
    setPrice('');
    await load();
  }
  return html`<main>
    <h1>Menu of ${merchant.name}</h1>
    <${Problem} error=${error} />
    <section class="card" aria-label="Your picture">
      <h2>Your picture</h2>
      <p class="muted">Shown on your page and in the list of merchants. JPEG, PNG or WebP, at most 5 MB.</p>
      <${PictureInput} key=${merchant.id} image=${merchant.image} path=${`/merchants/${merchant.id}/image`}
        name=${merchant.name} id="picture-merchant" />
    </section>
    <table class="menu">
      <thead><tr><th scope="col">Product</th><th scope="col">Picture</th><th scope="col">Price</th><th scope="col">Stock</th><th scope="col">Save</th><th scope="col">Offered</th></tr></thead>
      <tbody>${(products ?? []).map((p) => html`<${Product} key=${p.id} product=${p} reload=${load} />`)}</tbody>
    </table>
    <${Hours} merchant=${merchant} />
    <section class="card">
      <h2>Add a product</h2>
      <div class="grid">
        <${Field} label="Name" value=${name} onInput=${setName} />
        <${Field} label="Category" value=${category} onInput=${setCategory} />
        <${Field} label=${`Price (${currency})`} value=${price} onInput=${setPrice} />
      </div>
      <${Action} kind="primary" busy="Adding…" action=${add}>Add to the menu</${Action}>
    </section>
  </main>`;
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function Hours({ merchant }) {
  const [hours, setHours] = useState(merchant.opening_hours ?? []);
  const [saved, setSaved] = useState(false);
  const change = (i, key, value) => {
    setSaved(false);
    setHours(hours.map((h, j) => (i === j ? { ...h, [key]: value } : h)));
  };
  async function save() {
    const updated = await api('PATCH', `/merchants/${merchant.id}`, { opening_hours: hours });
    setHours(updated.opening_hours);
    setSaved(true);
  }
  return html`<section class="card" aria-label="Opening hours">
    <h2>Opening hours</h2>
    <p class="muted">None at all means always open. A closing time before the opening runs past midnight.</p>
    <ul class="plain">${hours.map((h, i) => html`<li class="row">
      <label class="sr-only" for=${`day-${i}`}>Day</label>
      <select id=${`day-${i}`} class="narrow" value=${h.day} onChange=${(e) => change(i, 'day', e.currentTarget.value)}>
        ${DAYS.map((d) => html`<option value=${d}>${d}</option>`)}</select>
      <label for=${`open-${i}`}>from</label>
      <input id=${`open-${i}`} type="time" class="narrow" value=${h.open} onInput=${(e) => change(i, 'open', e.currentTarget.value)} />
      <label for=${`close-${i}`}>to</label>
      <input id=${`close-${i}`} type="time" class="narrow" value=${h.close} onInput=${(e) => change(i, 'close', e.currentTarget.value)} />
      <button onClick=${() => { setSaved(false); setHours(hours.filter((_, j) => j !== i)); }}>Remove</button>
    </li>`)}</ul>
    <div class="row">
      <button onClick=${() => { setSaved(false); setHours([...hours, { day: 'mon', open: '11:00', close: '22:00' }]); }}>Add an opening</button>
      <${Action} kind="primary" busy="Saving…" action=${save}>Save the hours</${Action}>
      ${saved && html`<span role="status" class="badge ok">Saved</span>`}
    </div>
  </section>`;
}

function App() {
  const [merchants, setMerchants] = useState(null);
  const [chosen, setChosen] = useState(localStorage.getItem('ordo.merchant'));
  const [error, setError] = useState(null);
  const current = signedIn.value;
  useEffect(() => {
    if (!current) return;
    api('GET', '/me/merchants').then((m) => setMerchants(m.items), setError);
  }, [current?.access_token]);
  if (!current) return html`<${Login} role="merchant" title="Ordo for merchants" />`;
  const list = merchants ?? [];
  const merchant = list.find((m) => m.id === chosen) ?? list[0];
  return html`<${Header} title="Ordo for merchants">
      <a href="#/" aria-current=${tab.value === 'orders' ? 'page' : undefined}>Orders</a>
      <a href="#/menu" aria-current=${tab.value === 'menu' ? 'page' : undefined}>Menu</a>
      <a href="#/reviews" aria-current=${tab.value === 'reviews' ? 'page' : undefined}>Reviews</a>
      <a href="#/account" aria-current=${tab.value === 'account' ? 'page' : undefined}>Account</a>
      ${list.length > 1 && html`<label class="sr-only" for="merchant">Merchant</label>
        <select id="merchant" class="narrow" value=${merchant?.id} onChange=${(e) => { localStorage.setItem('ordo.merchant', e.currentTarget.value); setChosen(e.currentTarget.value); }}>
          ${list.map((m) => html`<option value=${m.id}>${m.name}</option>`)}</select>`}
    </${Header}>
    <${Problem} error=${error} />
    ${merchants && !merchant && html`<main><p>You do not work for any merchant yet. Ask its owner to add you, or create one through the API.</p></main>`}
    ${merchant && tab.value === 'menu' && html`<${Menu} merchant=${merchant} />`}
    ${merchant && tab.value === 'reviews' && html`<${Reviews} merchant=${merchant} />`}
    ${tab.value === 'account' && html`<${Settings} />`}
    ${merchant && tab.value === 'orders' && html`<${Board} merchant=${merchant} />`}`;
}

render(html`<${App} />`, document.getElementById('app'));
