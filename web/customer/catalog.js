// What the catalogue shows a customer beside names and prices: pictures, ratings and the
// reviews people wrote, and how many things wait in the cart. Merchants and products a
// page names are read once and kept for a minute, however many views show them.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { api, onWrite } from '../shared/api.js';
import { when } from '../shared/format.js';
import { Thumb } from '../shared/pictures.js';
import { html } from '../shared/ui.js';

const KEEP_MS = 60_000;
const kept = new Map();

/** The answer at `path`, shared by every view that asks within a minute; null meanwhile or when refused. */
function useKept(path) {
  const [value, setValue] = useState(kept.get(path)?.value ?? null);
  useEffect(() => {
    if (!path) return undefined;
    let current = true;
    let entry = kept.get(path);
    if (!entry || Date.now() - entry.at > KEEP_MS) {
      entry = { at: Date.now(), value: null };
      entry.asked = api('GET', path).then((v) => { entry.value = v; return v; }, () => null);
      kept.set(path, entry);
    }
    entry.asked.then((v) => current && setValue(v));
    return () => {
      current = false;
    };
  }, [path]);
  return value;
}

/** A product's thumbnail, its picture read from the catalogue: for carts and orders, which name only the product. */
export function ProductThumb({ id }) {
  const product = useKept(`/products/${id}`);
  return html`<${Thumb} image=${product?.image} small />`;
}

/** A merchant's thumbnail, its picture read from the catalogue: for search hits, which name only the merchant. */
export function MerchantThumb({ id }) {
  const merchant = useKept(`/merchants/${id}`);
  return html`<${Thumb} image=${merchant?.image} small />`;
}

/** A rating as stars and in words: `★ 4.5 (12)`, nothing before the first. */
export function Stars({ rating }) {
  if (!rating || rating.count === 0) return null;
  const average = rating.average.toFixed(1);
  const people = rating.count === 1 ? '1 rating' : `${rating.count} ratings`;
  return html`<span class="rating" title=${`${average} of 5, ${people}`}>
    <span aria-hidden="true">★ ${average} (${rating.count})</span>
    <span class="sr-only">Rated ${average} of 5 from ${people}</span></span>`;
}

/** The rating of a merchant or product: `reviews` is its reviews' path. */
export function Rating({ reviews }) {
  const page = useKept(`${reviews}?limit=5`);
  return html`<${Stars} rating=${page?.rating} />`;
}

/**
 * What people wrote, newest first, with the merchant's answers: the reviews a moderator
 * approved. A merchant's stand as a section titled `title`; a product's are `folded` under
 * a line that opens them.
 */
export function Reviews({ reviews, title, folded = false }) {
  const page = useKept(`${reviews}?limit=5`);
  const written = (page?.items ?? []).filter((r) => r.comment);
  if (written.length === 0) return null;
  const list = html`<ul class="plain">${written.map((r) => html`<li>
    <p><span class="rating" aria-hidden="true">${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)}</span>
      <span class="sr-only">${r.rating} of 5</span> <span class="muted">${when(r.created_at)}</span></p>
    <p>${r.comment}</p>
    ${r.answer && html`<p class="answer"><strong>The answer:</strong> ${r.answer}</p>`}
  </li>`)}</ul>`;
  if (folded) {
    return html`<details class="reviews"><summary>${written.length === 1 ? '1 review' : `${written.length} reviews`}</summary>${list}</details>`;
  }
  return html`<section class="reviews" aria-label=${title}>
    <h2>${title} <${Stars} rating=${page.rating} /></h2>
    ${list}
  </section>`;
}

/** Where an order comes from and goes to: its merchant (a way to its menu) and the address it is brought to. */
export function OrderFrom({ order }) {
  const merchant = useKept(`/merchants/${order.merchant_id}`);
  const a = order.address;
  const to = a ? `${a.line1}${a.line2 ? `, ${a.line2}` : ''}, ${a.postal_code} ${a.city}` : null;
  return html`<p class="pictured" data-testid="order-from">
    <${Thumb} image=${merchant?.image} small />
    <span>From <a href=${`#/m/${order.merchant_id}`}>${merchant?.name ?? 'the merchant'}</a>${to
      ? html`<br />To ${to}`
      : html`<br />Pick it up at ${merchant?.address ?? 'the merchant'}`}</span></p>`;
}

/** The header's way to the cart, with how many things are in it; counted again after each change. */
export function CartLink() {
  const [count, setCount] = useState(0);
  useEffect(() => {
    let latest = 0;
    const look = () => {
      const asked = ++latest;
      api('GET', '/cart').then(
        (cart) => asked === latest && setCount(cart.items.reduce((n, item) => n + item.quantity, 0)),
        () => {},
      );
    };
    look();
    // A paid order empties the cart after it is placed: look again on the way elsewhere too.
    addEventListener('hashchange', look);
    const stop = onWrite((method, path) => {
      if (path.startsWith('/cart') || path.startsWith('/orders')) look();
    });
    return () => {
      removeEventListener('hashchange', look);
      stop();
    };
  }, []);
  // The link is named "Cart" whatever it holds; the count is its description.
  return html`<a href="#/cart" aria-describedby="cart-count">Cart${count > 0
    && html` <span class="badge count" aria-hidden="true">${count}</span>`}</a>
    <span id="cart-count" class="sr-only">${count === 1 ? '1 item' : `${count} items`}</span>`;
}
