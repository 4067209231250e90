// Finding any order — by its reference or id (or the beginning of it), its customer's email
// or name, its merchant's name — and its page: the order, and its whole timeline across the
// services, each step with the trace it happened in.

import { useState } from '../vendor/preact/hooks.js';
import { signal } from '../vendor/signals/signals.js';
import { money, orderRef, status as statusWords, when } from '../shared/format.js';
import { useLoad } from '../shared/load.js';
import { Problem, html } from '../shared/ui.js';
import { REFRESH_MS } from './refresh.js';

const opened = () => location.hash.match(/^#\/orders\/([0-9a-f-]{36})$/)?.[1] ?? null;

/** The order whose page is open (`#/orders/{id}`), or null for the console. */
export const openOrder = signal(opened());
addEventListener('hashchange', () => {
  openOrder.value = opened();
});

const who = (o) => (o.customer ? `${o.customer.name} (${o.customer.email})` : 'a former customer');

/** The search box and what it found, newest first. */
export function FindOrders() {
  const [typed, setTyped] = useState('');
  const [query, setQuery] = useState('');
  const [found, error] = useLoad(query ? `/admin/orders?limit=20&q=${encodeURIComponent(query)}` : null, []);
  const items = found?.items ?? [];
  return html`<section class="panel" aria-label="Find an order">
    <h2>Find an order</h2>
    <form class="row find" role="search" onSubmit=${(e) => { e.preventDefault(); setQuery(typed.trim()); }}>
      <label for="find-order">Reference, id, email, name or merchant</label>
      <input id="find-order" type="search" value=${typed} maxlength="100" required
        onInput=${(e) => setTyped(e.currentTarget.value)} />
      <button class="primary" type="submit">Find</button>
    </form>
    <${Problem} error=${error} />
    ${found && query && html`<p class="muted" role="status">${items.length === 0
      ? `No order matches “${query}”.`
      : items.length === 1 && !found.next_cursor
        ? `1 order matches “${query}”.`
        : `${items.length}${found.next_cursor ? '+' : ''} orders match “${query}”, newest first.`}</p>`}
    ${items.length > 0 && html`<table class="list" aria-label="Orders found">
      <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Customer</th><th scope="col">Merchant</th><th scope="col">Status</th><th scope="col">Total</th></tr></thead>
      <tbody>${items.map((o) => html`<tr data-order=${o.id}>
        <td data-label="Order"><a href=${`#/orders/${o.id}`}>Order <code>${orderRef(o.id)}</code></a></td>
        <td data-label="Placed">${when(o.created_at)}</td>
        <td data-label="Customer">${who(o)}</td>
        <td data-label="Merchant">${o.merchant_name ?? '—'}</td>
        <td data-label="Status">${statusWords(o.status)}</td>
        <td data-label="Total">${money(o.total)}</td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}

/** The services as the timeline names them. */
const SERVICES = {
  orders: 'Orders',
  inventory: 'Stock',
  payments: 'Payments',
  delivery: 'Delivery',
  notifications: 'Notifications',
};

/**
 * The entries with the same thing said again (a message retried, failing the same way each
 * time) shown once, where it first happened: how many times, and when the last was.
 */
function repeatsTogether(entries) {
  const seen = new Map();
  const runs = [];
  for (const entry of entries) {
    const key = [entry.service, entry.kind, entry.summary, entry.trace_id].join('\u0000');
    const run = seen.get(key);
    if (run) {
      run.times += 1;
      run.last = entry.at;
    } else {
      const first = { entry, times: 1, last: entry.at };
      seen.set(key, first);
      runs.push(first);
    }
  }
  return runs;
}

/** One order with everything that happened to it, oldest first. */
export function OrderPage({ id }) {
  // Read again as the order moves on, like the rest of the console.
  const [page, error] = useLoad(`/admin/orders/${id}/timeline`, [], REFRESH_MS);
  const order = page?.order;
  return html`<main class="console order-page">
    <p><a href="#/">← Back to the console</a></p>
    <h1>Order <code>${orderRef(id)}</code></h1>
    <${Problem} error=${error} />
    ${order && html`<section class="panel" aria-label="The order">
      <dl class="facts">
        <dt>Status</dt><dd data-testid="order-status">${statusWords(order.status)}</dd>
        <dt>Customer</dt><dd>${who(order)}</dd>
        <dt>Merchant</dt><dd>${order.merchant_name ?? order.merchant_id}</dd>
        <dt>Placed</dt><dd>${when(order.created_at)} · ${order.fulfilment}</dd>
        <dt>Id</dt><dd><code>${order.id}</code></dd>
      </dl>
      <table class="list" aria-label="Lines">
        <thead><tr><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col">Price</th></tr></thead>
        <tbody>${order.lines.map((l) => html`<tr>
          <td data-label="Item">${l.name}</td><td data-label="Quantity">${l.quantity}</td><td data-label="Price">${money(l.line_total)}</td>
        </tr>`)}</tbody>
        <tfoot><tr><th scope="row" colspan="2">Total${order.tip.amount > 0 ? ` (tip ${money(order.tip)})` : ''}</th><td>${money(order.total)}</td></tr></tfoot>
      </table>
    </section>`}
    ${page && html`<section class="panel" aria-label="Timeline">
      <h2>Timeline</h2>
      <ol class="plain timeline">${repeatsTogether(page.entries).map(({ entry: e, times, last }) => html`<li data-service=${e.service} data-kind=${e.kind} data-at=${e.at}>
        <span class="muted">${new Date(e.at).toLocaleString()}</span>
        <span class="badge">${SERVICES[e.service] ?? e.service}</span>
        <span>${e.summary}</span>
        ${times > 1 && html`<strong class="repeats">× ${times}, the last at ${new Date(last).toLocaleTimeString()}</strong>`}
        ${e.trace_id && html`<code class="trace" title="Trace id">trace ${e.trace_id}</code>`}
      </li>`)}</ol>
    </section>`}
  </main>`;
}
