// The customer app: merchants near you (list and map) and search, a merchant's menu, the
// cart and checkout, and each order followed live until it arrives.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { signal } from '../vendor/signals/signals.js';
import { ApiError, api, idempotencyKey } from '../shared/api.js';
import { clock, money, orderRef, status as statusWords, when, distance } from '../shared/format.js';
import { follow } from '../shared/sse.js';
import { useLoad } from '../shared/load.js';
import { MapView } from '../shared/map.js';
import { Bell } from '../shared/notifications.js';
import { ResetPassword, Settings } from '../shared/account.js';
import { Action, Field, Header, Login, Problem, html, render, signedIn } from '../shared/ui.js';
import { Banner, Thumb } from '../shared/pictures.js';
import { CartLink, MerchantThumb, OrderFrom, ProductThumb, Rating, Reviews } from './catalog.js';
import { CourierOnTheWay } from './tracking.js';

const route = signal(location.hash.slice(1) || '/');
addEventListener('hashchange', () => {
  route.value = location.hash.slice(1) || '/';
});

const place = signal(JSON.parse(localStorage.getItem('ordo.place') ?? 'null'));
function setPlace(value) {
  localStorage.setItem('ordo.place', JSON.stringify(value));
  place.value = value;
}

/** An address as one line. */
const addressLine = (a) => `${a.line1}, ${a.postal_code} ${a.city}`;

function Where() {
  const [typed, setTyped] = useState(place.value ? `${place.value.lat}, ${place.value.lon}` : '');
  const [error, setError] = useState(null);
  const [addresses] = useLoad('/me/addresses');
  const saved = addresses?.items ?? addresses ?? [];
  function locate() {
    setError(null);
    if (!navigator.geolocation) {
      setError('This browser cannot tell where you are; choose one of your addresses or type latitude, longitude.');
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => setPlace({ lat: +p.coords.latitude.toFixed(5), lon: +p.coords.longitude.toFixed(5) }),
      () => setError('Your location was not shared; choose one of your addresses or type latitude, longitude.'),
    );
  }
  function submit(event) {
    event.preventDefault();
    const [lat, lon] = typed.split(',').map((v) => Number(v.trim()));
    // Without a geocoder, an address typed is looked for among the saved ones.
    const words = typed.trim().toLowerCase();
    const known = words && saved.find((a) => addressLine(a).toLowerCase().includes(words));
    if (Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      setError(null);
      setPlace({ lat, lon });
    } else if (known) {
      setError(null);
      setTyped(addressLine(known));
      setPlace({ lat: known.lat, lon: known.lon });
    } else {
      setError('Type one of your addresses, or latitude, longitude (for example 52.52, 13.405).');
    }
  }
  return html`<form class="row" onSubmit=${submit} aria-label="Where to deliver">
    <label for="place">Deliver near</label>
    <input id="place" value=${typed} onInput=${(e) => setTyped(e.currentTarget.value)}
      placeholder="Your street, or 52.52, 13.405" list="saved-addresses" autocomplete="off" />
    <datalist id="saved-addresses">${saved.map((a) => html`<option value=${addressLine(a)} />`)}</datalist>
    <button type="submit">Set</button>
    <button type="button" onClick=${locate}>Use my location</button>
    ${error && html`<p class="problem" role="alert">${error}</p>`}
  </form>`;
}

function MerchantCard({ merchant, distanceKm }) {
  return html`<li class="card">
    <${Banner} image=${merchant.image} />
    <h3><a href=${`#/m/${merchant.id}`}>${merchant.name}</a> <${Rating} reviews=${`/merchants/${merchant.id}/reviews`} /></h3>
    <p class="muted">${merchant.kind} · ${merchant.address}${distanceKm != null ? ` · ${distance(distanceKm)}` : ''}</p>
  </li>`;
}

function Home() {
  const [query, setQuery] = useState('');
  const [asked, setAsked] = useState('');
  // Fixed decimals: the API takes no exponent, which JavaScript writes for tiny numbers.
  const near = place.value ? `near=${place.value.lat.toFixed(6)},${place.value.lon.toFixed(6)}` : '';
  const [merchants, error, , stale] = useLoad(`/merchants?${near ? `${near}&radius_km=10&` : ''}limit=50`, [near]);
  const [found, searchError] = useLoad(
    asked ? `/search?q=${encodeURIComponent(asked)}${near ? `&${near}&sort=relevance` : ''}` : null,
    [asked, near],
  );
  const items = merchants?.items ?? [];
  return html`<main>
    <h1>Order food and more</h1>
    <${Where} />
    <form class="row" role="search" onSubmit=${(e) => { e.preventDefault(); setAsked(query.trim()); }}>
      <label class="sr-only" for="q">Search dishes and merchants</label>
      <input id="q" type="search" placeholder="Pizza, noodles, bread…" value=${query}
        onInput=${(e) => setQuery(e.currentTarget.value)} class="wide" />
      <button type="submit" class="primary">Search</button>
    </form>
    <${Problem} error=${searchError} />
    ${found && html`<section aria-label="Search results">
      <h2>${found.total} found for “${asked}”</h2>
      <ul class="plain">
        ${found.hits.map((hit) => html`<li class="pictured">
          ${hit.product ? html`<${ProductThumb} id=${hit.product.id} />` : html`<${MerchantThumb} id=${hit.merchant.id} />`}
          <span><a href=${`#/m/${hit.merchant.id}`}>${hit.product ? hit.product.name : hit.merchant.name}</a>
          <span class="muted"> · ${hit.merchant.name}${hit.product ? ` · ${money(hit.product.price)}` : ''}
            ${hit.distance_km != null ? ` · ${distance(hit.distance_km)}` : ''}</span>
          ${hit.product && !hit.product.in_stock && html` <span class="badge warn">sold out</span>`}
          ${!hit.merchant.open_now && html` <span class="badge">closed now</span>`}</span>
        </li>`)}
      </ul>
    </section>`}
    <h2>${place.value ? 'Near you' : 'Merchants'}</h2>
    <${Problem} error=${error} />
    ${items.length > 0 && html`<${MapView} label="Merchants on a map"
      points=${[...items.map((m) => ({ lat: m.lat, lon: m.lon, label: m.name, kind: 'merchant' })),
        ...(place.value ? [{ ...place.value, label: 'You', kind: 'customer' }] : [])]} />`}
    <ul class="grid plain" aria-label="Merchants" aria-busy=${stale ? 'true' : 'false'}>
      ${items.map((m) => html`<${MerchantCard} merchant=${m} distanceKm=${m.distance_km} />`)}</ul>
    ${merchants && items.length === 0 && html`<p>No merchant here yet.</p>`}
  </main>`;
}

function Menu({ id }) {
  const [merchant, error] = useLoad(`/merchants/${id}`);
  const [products] = useLoad(`/merchants/${id}/products?limit=100`);
  const [added, setAdded] = useState(null);
  // A product of this merchant's refused because the cart holds another's: the refusal,
  // and the product to start a new cart with.
  const [elsewhere, setElsewhere] = useState(null);
  const byCategory = {};
  for (const p of (products?.items ?? []).filter((p) => p.active)) {
    (byCategory[p.category] ??= []).push(p);
  }
  async function add(product) {
    try {
      await api('POST', '/cart/items', { product_id: product.id, quantity: 1 });
    } catch (e) {
      if (!(e instanceof ApiError && e.problem.type?.endsWith('/cart-other-merchant'))) throw e;
      setAdded(null);
      setElsewhere({ product, why: e.message });
      return;
    }
    setElsewhere(null);
    setAdded(product.name);
  }
  async function startOver() {
    await api('DELETE', '/cart');
    await add(elsewhere.product);
  }
  return html`<main>
    <${Problem} error=${error} />
    ${merchant && html`<${Banner} image=${merchant.image} />
      <h1>${merchant.name} <${Rating} reviews=${`/merchants/${merchant.id}/reviews`} /></h1>
      <p class="muted">${merchant.address}</p>`}
    ${added && html`<p role="status" class="badge ok">${added} is in your cart. <a href="#/cart">Go to the cart</a></p>`}
    ${elsewhere && html`<section class="notice" role="alertdialog" aria-labelledby="elsewhere-title" aria-describedby="elsewhere-why">
      <h2 id="elsewhere-title">Start a new cart at ${merchant?.name ?? 'this merchant'}?</h2>
      <p id="elsewhere-why">${elsewhere.why}</p>
      <div class="row">
        <${Action} kind="primary" busy="Starting…" action=${startOver}>Start a new cart</${Action}>
        <button type="button" onClick=${() => setElsewhere(null)}>Keep my cart</button>
      </div>
    </section>`}
    ${Object.entries(byCategory).map(([category, list]) => html`<section>
      <h2>${category}</h2>
      <ul class="plain">${list.map((p) => html`<li class="spread">
        <span class="pictured"><${Thumb} image=${p.image} />
          <span><strong>${p.name}</strong> <${Rating} reviews=${`/products/${p.id}/reviews`} />
            <span class="muted">${p.description}</span>
            <${Reviews} reviews=${`/products/${p.id}/reviews`} folded /></span></span>
        <span class="row">${money(p.price)}
          <${Action} action=${() => add(p)} busy="Adding…" label=${`Add ${p.name} to the cart`}>Add</${Action}></span>
      </li>`)}</ul>
    </section>`)}
    <${Reviews} reviews=${`/merchants/${id}/reviews`} title="What people say" />
  </main>`;
}

/** How an order reaches the customer, in words. */
const FULFILMENTS = { delivery: 'delivered by a courier', pickup: 'picked up', shipping: 'shipped as a parcel' };

/** A saved card as people name it: `visa ·· 4242`. */
const cardName = (c) => `${c.brand} ·· ${c.last4}`;

/**
 * The customer's cards to pay with, newest (the default) first: choose one, remove one, or
 * add another (it becomes the one chosen). `chosen` is the card chosen, or '' for the
 * default; `onChoose` is told the card's id.
 */
function Cards({ chosen, onChoose }) {
  const [methods, error, reload] = useLoad('/me/payment-methods');
  const [adding, setAdding] = useState(false);
  const [number, setNumber] = useState('4242424242424242');
  const cards = methods?.items ?? [];
  const current = cards.some((c) => c.id === chosen) ? chosen : cards[0]?.id ?? '';
  useEffect(() => {
    if (current !== chosen) onChoose(current);
  }, [current, chosen]);
  async function save() {
    const saved = await api('POST', '/me/payment-methods', { card_number: number, exp_month: 12, exp_year: new Date().getFullYear() + 2, cvc: '123' });
    setAdding(false);
    onChoose(saved.id);
    reload();
  }
  async function remove(c) {
    await api('DELETE', `/me/payment-methods/${c.id}`);
    if (c.id === current) onChoose('');
    reload();
  }
  const form = adding || (methods && cards.length === 0);
  return html`<div class="cards">
    <${Problem} error=${error} />
    ${cards.length > 0 && html`<fieldset aria-label="Pay with"><legend>Pay with</legend>
      ${cards.map((c) => html`<div class="spread" key=${c.id}>
        <label><input type="radio" name="card" class="choice" checked=${c.id === current}
          onChange=${() => onChoose(c.id)} /> ${cardName(c)}${c.default ? ' (default)' : ''}</label>
        <${Action} kind="" busy="Removing…" label=${`Remove ${cardName(c)}`} action=${() => remove(c)}>Remove</${Action}>
      </div>`)}
    </fieldset>`}
    ${form
      ? html`<div class="row">
          <${Field} label="Card number (sandbox: 4242 4242 4242 4242)" value=${number} onInput=${setNumber} autocomplete="cc-number" />
          <${Action} action=${save} busy="Saving…">Save the card</${Action}>
        </div>`
      : html`<button type="button" class="link" onClick=${() => setAdding(true)}>Add another card</button>`}
  </div>`;
}

/** The tips offered at checkout, in per cent of the subtotal. */
const TIPS = [0, 5, 10, 15];

function Checkout({ cart, onPlaced }) {
  const [addresses, , reloadAddresses] = useLoad('/me/addresses');
  const [fulfilment, setFulfilment] = useState('delivery');
  const [method, setMethod] = useState('');
  const [address, setAddress] = useState('');
  const [line1, setLine1] = useState('');
  const [city, setCity] = useState('');
  const [postal, setPostal] = useState('');
  const [key] = useState(idempotencyKey);
  const [tipShare, setTipShare] = useState(0);
  const places = addresses?.items ?? addresses ?? [];
  // One merchant per cart, so one currency: the subtotal, the tip on it, and the total.
  const subtotal = cart.subtotals[0];
  const tip = subtotal && fulfilment === 'delivery' ? Math.round((subtotal.amount * tipShare) / 100) : 0;
  const chosenAddress = address || places[0]?.id || '';
  async function addAddress() {
    const here = place.value ?? { lat: 52.52, lon: 13.405 };
    await api('POST', '/me/addresses', { line1, city, postal_code: postal, country: 'DE', lat: here.lat, lon: here.lon });
    reloadAddresses();
  }
  async function placeOrder() {
    const body = { from_cart: true, fulfilment, payment_method_id: method };
    if (tip > 0) body.tip = tip;
    if (fulfilment !== 'pickup') body.address_id = chosenAddress;
    const order = await api('POST', '/orders', body, { headers: { 'idempotency-key': key } });
    onPlaced(order);
  }
  return html`<section class="card" aria-label="Checkout">
    <h2>Checkout</h2>
    <fieldset class="row"><legend>How</legend>
      ${Object.entries(FULFILMENTS).map(([f, words]) => html`<label><input type="radio" name="fulfilment" value=${f}
        checked=${fulfilment === f} onChange=${() => setFulfilment(f)} class="choice" /> ${words}</label>`)}
    </fieldset>
    ${fulfilment !== 'pickup' && html`<div>
      <label for="address">${fulfilment === 'shipping' ? 'Ship to' : 'Deliver to'}</label>
      ${places.length > 0
        ? html`<select id="address" value=${chosenAddress} onChange=${(e) => setAddress(e.currentTarget.value)}>
            ${places.map((a) => html`<option value=${a.id}>${a.line1}, ${a.city}</option>`)}</select>`
        : html`<div class="grid">
            <${Field} label="Street and number" value=${line1} onInput=${setLine1} autocomplete="address-line1" />
            <${Field} label="City" value=${city} onInput=${setCity} autocomplete="address-level2" />
            <${Field} label="Postal code" value=${postal} onInput=${setPostal} autocomplete="postal-code" />
            <${Action} action=${addAddress} busy="Saving…">Save the address</${Action}>
          </div>`}
    </div>`}
    <${Cards} chosen=${method} onChoose=${setMethod} />
    ${fulfilment === 'delivery' && subtotal && html`<fieldset class="row"><legend>A tip for the courier</legend>
      ${TIPS.map((share) => html`<label><input type="radio" name="tip" class="choice" checked=${tipShare === share}
        onChange=${() => setTipShare(share)} /> ${share === 0 ? 'No tip' : `${share} %`}</label>`)}
    </fieldset>`}
    ${subtotal && html`<dl class="sums" aria-label="What you pay">
      <dt>Subtotal</dt><dd>${money(subtotal)}</dd>
      ${tip > 0 && html`<dt>Tip</dt><dd>${money({ amount: tip, currency: subtotal.currency })}</dd>`}
      <dt><strong>Total</strong></dt><dd><strong data-testid="checkout-total">${money({ amount: subtotal.amount + tip, currency: subtotal.currency })}</strong></dd>
    </dl>`}
    <${Action} action=${placeOrder} busy="Placing the order…" kind="primary"
      disabled=${!method || (fulfilment !== 'pickup' && !chosenAddress)}>Place the order</${Action}>
  </section>`;
}

function Cart() {
  const [cart, error, reload] = useLoad('/cart');
  async function change(item, quantity) {
    if (quantity <= 0) await api('DELETE', `/cart/items/${item.product_id}`);
    else await api('PATCH', `/cart/items/${item.product_id}`, { quantity });
    reload();
  }
  const items = cart?.items ?? [];
  // Carts filled before one merchant per cart was the rule may hold several.
  const mixed = (cart?.merchants ?? []).length > 1;
  const [merchant] = useLoad(cart?.merchants?.length === 1 ? `/merchants/${cart.merchants[0]}` : null, [cart?.merchants?.[0]]);
  return html`<main>
    <h1>Your cart</h1>
    ${merchant && html`<p>From <a href=${`#/m/${merchant.id}`}>${merchant.name}</a></p>`}
    <${Problem} error=${error} />
    ${mixed && html`<p class="problem" role="alert">Your cart holds items from several merchants; one merchant
      per order. Remove the items of all but one to check out.</p>`}
    ${cart && items.length === 0 && html`<p>The cart is empty. <a href="#/">Find something good</a>.</p>`}
    <ul class="plain">${items.map((item) => html`<li class="spread">
      <span class="pictured"><${ProductThumb} id=${item.product_id} /><span>${item.name ?? 'No longer sold'} ${!item.available && html`<span class="badge warn">unavailable</span>`}</span></span>
      <span class="row">
        <${Action} action=${() => change(item, item.quantity - 1)} label=${`One ${item.name} less`} kind="">−</${Action}>
        <span aria-label="Quantity">${item.quantity}</span>
        <${Action} action=${() => change(item, item.quantity + 1)} label=${`One ${item.name} more`} kind="">+</${Action}>
        ${money(item.line_total)}
      </span>
    </li>`)}</ul>
    ${items.length > 0 && !mixed && html`<${Checkout} cart=${cart} onPlaced=${(order) => { location.hash = `#/orders/${order.id}`; }} />`}
  </main>`;
}

const STEPS = {
  delivery: ['pending_payment', 'paid', 'accepted', 'ready', 'picked_up', 'completed'],
  pickup: ['pending_payment', 'paid', 'accepted', 'ready', 'completed'],
  shipping: ['pending_payment', 'paid', 'accepted', 'shipped', 'completed'],
};

function Review({ id }) {
  const [rating, setRating] = useState(5);
  const [comment, setComment] = useState('');
  const [done, setDone] = useState(null);
  if (done) {
    return html`<p role="status" class="badge ok">${done.status === 'approved'
      ? 'Thank you: your rating is published.'
      : 'Thank you: your review is published once a moderator has read it.'}</p>`;
  }
  async function send() {
    const body = comment.trim() ? { rating, comment } : { rating };
    setDone(await api('POST', `/orders/${id}/review`, body));
  }
  return html`<section class="card" aria-label="Review">
    <h2>How was it?</h2>
    <fieldset class="stars"><legend class="sr-only">Rating</legend>
      ${[1, 2, 3, 4, 5].map((n) => html`<label title=${`${n} of 5`}>
        <input type="radio" name="rating" class="sr-only" checked=${rating === n} onChange=${() => setRating(n)} />
        <span aria-hidden="true">${n <= rating ? '★' : '☆'}</span><span class="sr-only">${n} of 5</span></label>`)}
    </fieldset>
    <label for="comment">A few words (optional)</label>
    <textarea id="comment" rows="3" value=${comment} onInput=${(e) => setComment(e.currentTarget.value)}></textarea>
    <${Action} kind="primary" busy="Sending…" action=${send}>Send the review</${Action}>
  </section>`;
}

/** How often a parcel in transit is looked at again: carriers' scans do not move the order. */
const PARCEL_REFRESH_MS = 30_000;
/** How soon a parcel is asked for again while delivery has not yet heard it was shipped. */
const PARCEL_PENDING_MS = 1_000;

function scanWords(scan) {
  return `${scan.type === 'delivered' ? 'Delivered' : 'In transit'}${scan.location ? ` at ${scan.location}` : ''}`;
}

/** A shipping order's parcel: its carrier, tracking number and the carrier's scans. */
function Parcel({ id, status }) {
  const [parcel, error, reload] = useLoad(`/shipments/${id}`, [status]);
  const delivered = parcel?.status === 'delivered';
  // The order says shipped a moment before delivery has recorded the parcel (it learns of
  // it from the order's event): until then the parcel is not there yet, not missing.
  const pending = !parcel && error instanceof ApiError && error.status === 404;
  const every = pending ? PARCEL_PENDING_MS : PARCEL_REFRESH_MS;
  useEffect(() => {
    if (delivered) return undefined;
    const timer = setInterval(reload, every);
    return () => clearInterval(timer);
  }, [delivered, every]);
  return html`<section class="card" aria-label="Parcel">
    <h2>Parcel</h2>
    ${pending
      ? html`<p class="muted">Handing the parcel to the carrier…</p>`
      : html`<${Problem} error=${error} />`}
    ${parcel && html`<p class="spread"><span>${parcel.carrier}, tracking number <strong>${parcel.tracking_number}</strong></span>
      <span class="badge" data-testid="parcel-status">${parcel.label}</span></p>
      ${parcel.events.length === 0
        ? html`<p class="muted">No news from the carrier yet.</p>`
        : html`<ol class="timeline" aria-label="The carrier's scans">${parcel.events.map((scan) => html`<li class="done">
            ${scanWords(scan)} · ${when(scan.at)}</li>`)}</ol>`}`}
  </section>`;
}

/** A declined order: why, until when its items are kept, and another card to pay it with. */
function SecondChance({ order, onPaying }) {
  const [method, setMethod] = useState('');
  async function pay() {
    await api('POST', `/orders/${order.id}/payment`, { payment_method_id: method });
    onPaying();
  }
  return html`<section class="card" aria-label="Payment">
    <p class="problem" role="alert" data-testid="payment-failure">${order.payment_failure
      ?? 'The payment could not be completed. Choose another card to place this order.'}</p>
    ${order.payment_retry_until && html`<p class="muted">Your items are kept for you until ${clock(order.payment_retry_until)}.</p>`}
    <${Cards} chosen=${method} onChoose=${setMethod} />
    <${Action} kind="primary" busy="Paying…" disabled=${!method} action=${pay}>Pay with this card</${Action}>
  </section>`;
}

function Order({ id }) {
  const [order, error, reload] = useLoad(`/orders/${id}`);
  const [history, setHistory] = useState([]);
  const [courier, setCourier] = useState(null);
  const [delivery, setDelivery] = useState(null);
  const [link, setLink] = useState('connecting');
  useEffect(() => {
    setHistory([]);
    return follow(`/orders/${id}/track`, {
      onEvent: ({ event, data }) => {
        if (event === 'status') {
          setHistory((h) => (h.some((x) => x.id === data.id) ? h : [...h, data]));
          reload();
        } else if (event === 'position') setCourier(data);
        else if (event === 'delivery') setDelivery(data);
      },
      onState: setLink,
    });
  }, [id]);
  if (error) return html`<main><${Problem} error=${error} /></main>`;
  if (!order) return html`<main><p aria-busy="true">Loading the order…</p></main>`;
  const current = history.at(-1)?.to ?? order.status;
  const steps = STEPS[order.fulfilment] ?? STEPS.delivery;
  // A declined order waits where it was placed, for another card.
  const reached = steps.indexOf(current === 'payment_failed' ? 'pending_payment' : current);
  const ended = ['cancelled', 'rejected'].includes(current);
  return html`<main>
    <div class="spread"><h1>Order ${orderRef(order.id)}</h1>
      <span class="badge" aria-live="polite" data-testid="order-status">${statusWords(current)}</span></div>
    <p class="muted">${link === 'open' ? 'Live' : link === 'closed' ? 'Finished' : 'Reconnecting…'}</p>
    <${OrderFrom} order=${order} />
    <ol class="timeline" aria-label="Progress">
      ${ended
        ? html`<li class="now">${statusWords(current)}${history.at(-1)?.cause ? `: ${history.at(-1).cause}` : ''}</li>`
        : steps.map((step, i) => html`<li class=${i < reached ? 'done' : i === reached ? 'now' : ''}>
            ${statusWords(step)}${history.find((h) => h.to === step) ? ` · ${when(history.find((h) => h.to === step).at)}` : ''}</li>`)}
    </ol>
    ${current === 'payment_failed' && order.status === 'payment_failed' && html`<${SecondChance} order=${order} onPaying=${reload} />`}
    ${!ended && current !== 'completed' && html`<${CourierOnTheWay} order=${order} delivery=${delivery} position=${courier} />`}
    ${order.shipment && html`<${Parcel} id=${order.shipment.id} status=${current} />`}
    <ul class="plain">${order.lines.map((l) => html`<li class="spread">
      <span class="pictured"><${ProductThumb} id=${l.product_id} /><span>${l.quantity} × ${l.name}</span></span>${money(l.line_total)}</li>`)}</ul>
    <p class="spread"><strong>Total</strong><strong>${money(order.total)}</strong></p>
    ${current === 'completed' && html`<${Review} id=${id} />`}
    ${['pending_payment', 'payment_failed', 'paid'].includes(current) && html`<${Action} kind="danger" busy="Cancelling…"
      action=${async () => { await api('POST', `/orders/${id}/cancel`); reload(); }}>Cancel the order</${Action}>`}
  </main>`;
}

function Orders() {
  const [orders, error] = useLoad('/orders');
  return html`<main>
    <h1>Your orders</h1>
    <${Problem} error=${error} />
    <ul class="plain">${(orders?.items ?? []).map((o) => html`<li class="spread">
      <a href=${`#/orders/${o.id}`}>${when(o.created_at)}</a>
      <span><span class="badge">${statusWords(o.status)}</span> ${money(o.total)}</span>
    </li>`)}</ul>
    ${orders && orders.items.length === 0 && html`<p>No orders yet.</p>`}
  </main>`;
}

function App() {
  // An emailed link to choose a new password opens here, signed in or not.
  if (route.value.startsWith('/reset')) return html`<${ResetPassword} title="Ordo" />`;
  if (!signedIn.value) return html`<${Login} role="customer" title="Ordo" />`;
  const path = route.value;
  let view;
  if (path.startsWith('/m/')) view = html`<${Menu} id=${path.slice(3)} />`;
  else if (path === '/cart') view = html`<${Cart} />`;
  else if (path.startsWith('/orders/')) view = html`<${Order} id=${path.slice(8)} />`;
  else if (path === '/orders') view = html`<${Orders} />`;
  else if (path === '/account') view = html`<${Settings} />`;
  else view = html`<${Home} />`;
  return html`<${Header} title="Ordo">
      <a href="#/">Browse</a><${CartLink} /><a href="#/orders">Orders</a><a href="#/account">Account</a><${Bell} />
    </${Header}>${view}`;
}

render(html`<${App} />`, document.getElementById('app'));
