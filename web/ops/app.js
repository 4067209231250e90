// The operator console (administrators): today's figures and orders per hour, the couriers
// and deliveries on a map, the latest orders with the stuck ones flagged and refunds, dead
// letters to replay or discard, the platform's metrics in charts, the alerts with their
// runbook sections, reviews waiting for
// moderation, users with their roles, and the text messages sent. It refreshes itself.

import { useState } from '../vendor/preact/hooks.js';
import { api } from '../shared/api.js';
import { duration, money, orderRef, status as statusWords, when } from '../shared/format.js';
import { useLoad } from '../shared/load.js';
import { Action, Header, Login, Problem, html, render, signedIn } from '../shared/ui.js';
import { Alerts } from './alerts.js';
import { LineChart } from './charts.js';
import { Fleet } from './fleet.js';
import { Metrics } from './metrics.js';
import { FindOrders, OrderPage, openOrder } from './orders.js';
import { REFRESH_MS, STUCK_SECS } from './refresh.js';
import { Texts } from './texts.js';

const ROLES = ['customer', 'merchant', 'courier', 'admin'];

/** Every hour of today, those without orders at zero, so that the axis is the day. */
function hourly(buckets) {
  const day = new Date();
  day.setUTCHours(0, 0, 0, 0);
  const byHour = new Map(buckets.map((b) => [Date.parse(b.start), b]));
  const hours = Array.from({ length: 24 }, (_, h) => day.getTime() + h * 3_600_000);
  return {
    times: hours.map((t) => t / 1000),
    series: [
      { label: 'Orders', values: hours.map((t) => byHour.get(t)?.orders ?? 0) },
      { label: 'Completed', values: hours.map((t) => byHour.get(t)?.completed ?? 0) },
    ],
  };
}

function Overview() {
  const today = new Date().toISOString().slice(0, 10);
  const [report, error] = useLoad(`/admin/reports/summary?from=${today}&bucket=hour`, [], REFRESH_MS);
  const buckets = report?.buckets ?? [];
  const sum = (key) => buckets.reduce((total, b) => total + (b[key] ?? 0), 0);
  const revenue = buckets.reduce((total, b) => total + (b.revenue?.amount ?? 0), 0);
  const currency = buckets.find((b) => b.revenue)?.revenue.currency ?? 'EUR';
  return html`<section aria-label="Today">
    <h2>Today</h2>
    <${Problem} error=${error} />
    <div class="figures">
      <div class="card figure"><span class="muted">Orders</span><strong data-testid="orders-today">${sum('orders')}</strong></div>
      <div class="card figure"><span class="muted">Completed</span><strong>${sum('completed')}</strong></div>
      <div class="card figure"><span class="muted">Cancelled</span><strong>${sum('cancelled')}</strong></div>
      <div class="card figure"><span class="muted">Rejected</span><strong>${sum('rejected')}</strong></div>
      <div class="card figure"><span class="muted">Revenue</span><strong>${money({ amount: revenue, currency })}</strong></div>
    </div>
    ${buckets.length > 0 && html`<${LineChart} label="Orders and completions per hour today"
      caption="Orders and completions per hour, today" unit="per hour" ...${hourly(buckets)} />`}
  </section>`;
}

/** Statuses in which an order waits for someone: its merchant to accept, a courier to come. */
const WAITING_ON_SOMEONE = ['paid', 'ready'];

function stuck(order, now) {
  const waited = (now - Date.parse(order.updated_at)) / 1000;
  return waited > STUCK_SECS && WAITING_ON_SOMEONE.includes(order.status);
}

/** Every order under way, counted by status, with the longest wait in each. */
function UnderWay() {
  const [open, error] = useLoad('/admin/orders/open', [], REFRESH_MS);
  const now = Date.now();
  const statuses = open?.statuses ?? [];
  return html`<div>
    <${Problem} error=${error} />
    ${open && statuses.length === 0 && html`<p class="muted">No order is under way.</p>`}
    <p class="row">${statuses.map((s) => {
      const waited = (now - Date.parse(s.oldest_since)) / 1000;
      const late = waited > STUCK_SECS && WAITING_ON_SOMEONE.includes(s.status);
      return html`<span class=${late ? 'badge bad' : 'badge'} data-open-status=${s.status}>
        ${statusWords(s.status)}: ${s.count} · longest ${duration(waited)}</span>`;
    })}</p>
  </div>`;
}

/**
 * A refund asks first: how much (the whole total unless changed, in the order's currency)
 * and a confirmation naming the amount.
 */
function Refund({ order, reload }) {
  const [asking, setAsking] = useState(false);
  const [done, setDone] = useState(null);
  const [amount, setAmount] = useState((order.total.amount / 100).toFixed(2));
  const short = orderRef(order.id);
  if (!asking) {
    return html`<span class="rescue">
      <button type="button" aria-label=${`Refund… order ${short}`} onClick=${() => setAsking(true)}>Refund…</button>
      ${done && html`<span role="status">Refunded ${money(done.amount)}${done.status === 'pending' ? ' (the provider confirms later)' : ''}</span>`}
    </span>`;
  }
  const minor = Math.round(Number(amount.replace(',', '.')) * 100);
  const valid = Number.isFinite(minor) && minor > 0 && minor <= order.total.amount;
  return html`<div class="rescue" role="group" aria-label=${`Refund order ${short}`}>
    <label for=${`refund-${order.id}`}>Amount (${order.total.currency})</label>
    <input id=${`refund-${order.id}`} class="narrow" inputmode="decimal" value=${amount}
      aria-invalid=${valid ? undefined : 'true'} onInput=${(e) => setAmount(e.currentTarget.value)} />
    <${Action} kind="danger" busy="Refunding…" disabled=${!valid}
      action=${async () => {
        setDone(await api('POST', `/admin/orders/${order.id}/refund`, minor === order.total.amount ? {} : { amount: minor }));
        setAsking(false);
        reload();
      }}>Refund ${valid ? money({ amount: minor, currency: order.total.currency }) : ''}</${Action}>
    <button type="button" onClick=${() => setAsking(false)}>Keep the money</button>
  </div>`;
}

/**
 * An order not yet completed has not been charged, only authorised: cancelling it voids
 * the authorisation (the customer is not charged). Asks first.
 */
function CancelAndRefund({ order, reload }) {
  const [asking, setAsking] = useState(false);
  const short = orderRef(order.id);
  if (!asking) {
    return html`<button type="button" aria-label=${`Cancel… order ${short}`} onClick=${() => setAsking(true)}>Cancel…</button>`;
  }
  return html`<div class="rescue" role="group" aria-label=${`Cancel order ${short}?`}>
    <span>Cancel order ${short}? The customer is not charged.</span>
    <${Action} kind="danger" busy="Cancelling…"
      action=${async () => { await api('POST', `/orders/${order.id}/cancel`); setAsking(false); reload(); }}>Yes, cancel it</${Action}>
    <button type="button" onClick=${() => setAsking(false)}>Keep it</button>
  </div>`;
}

function Orders() {
  const [orders, error, reload] = useLoad('/orders?limit=50', [], REFRESH_MS);
  const items = orders?.items ?? [];
  const now = Date.now();
  const counts = {};
  for (const o of items) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return html`<section class="panel" aria-label="Orders">
    <h2>Orders under way</h2>
    <${UnderWay} />
    <h3>The latest 50</h3>
    <${Problem} error=${error} />
    <p class="row">${Object.entries(counts).map(([s, n]) => html`<span class="badge" data-status=${s}>${statusWords(s)}: ${n}</span>`)}</p>
    <table class="list">
      <thead><tr><th scope="col">Placed</th><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Total</th><th scope="col">Refund or cancel</th></tr></thead>
      <tbody>${items.map((o) => html`<tr class=${stuck(o, now) ? 'stuck' : ''}>
        <td data-label="Placed">${when(o.created_at)}</td>
        <td data-label="Order"><a href=${`#/orders/${o.id}`}><code>${orderRef(o.id)}</code></a> <span class="muted">${o.fulfilment}</span></td>
        <td data-label="Status">${statusWords(o.status)} ${stuck(o, now) && html`<span class="badge bad">stuck</span>`}</td>
        <td data-label="Total">${money(o.total)}</td>
        <td data-label="Refund or cancel">${o.status === 'completed'
          ? html`<${Refund} order=${o} reload=${reload} />`
          : !['cancelled', 'rejected'].includes(o.status) && html`<${CancelAndRefund} order=${o} reload=${reload} />`}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

/** Dead letters shown before "Show all". */
const LETTERS_SHOWN = 5;

function DeadLetters() {
  const [letters, error, reload] = useLoad('/admin/dead-letters?limit=100', [], REFRESH_MS);
  const [all, setAll] = useState(false);
  const items = letters?.items ?? [];
  const shown = all ? items : items.slice(0, LETTERS_SHOWN);
  return html`<section class="panel" aria-label="Dead letters">
    <h2>Dead letters <span class="badge">${items.length}${letters?.next_cursor ? '+' : ''}</span></h2>
    <${Problem} error=${error} />
    ${letters && items.length === 0 && html`<p class="muted">None: every event was handled.</p>`}
    <ul class="plain letters">${shown.map((d) => html`<li data-dead-letter=${d.id} data-consumer=${d.consumer}>
      <div class="spread"><strong>${d.event_type}</strong><span class="muted">${d.consumer} · ${d.attempts} attempts · ${when(d.dead_at)}</span></div>
      <p class="muted">${d.replay_requested ? 'Replay requested; waiting for the consumer.' : d.last_error}</p>
      <div class="row">
        <${Action} kind="primary" busy="Replaying…" label=${`Replay ${d.event_type} for ${d.consumer}`}
          action=${async () => { await api('POST', `/admin/dead-letters/${d.id}/replay`); reload(); }}>Replay</${Action}>
        <${Action} kind="" busy="Discarding…" label=${`Discard ${d.event_type} for ${d.consumer}`}
          action=${async () => { await api('DELETE', `/admin/dead-letters/${d.id}`); reload(); }}>Discard</${Action}>
        <details><summary>The event</summary><pre data-testid="event-data">${JSON.stringify(d.event.data, null, 2)}</pre></details>
      </div>
    </li>`)}</ul>
    ${items.length > LETTERS_SHOWN && html`<button class="link" onClick=${() => setAll(!all)}>
      ${all ? `Show the first ${LETTERS_SHOWN}` : `Show all ${items.length}`}</button>`}
  </section>`;
}

function Reviews() {
  const [reviews, error, reload] = useLoad('/admin/reviews?status=pending&limit=20', [], REFRESH_MS);
  const items = reviews?.items ?? [];
  return html`<section class="panel" aria-label="Reviews to moderate">
    <h2>Reviews to moderate <span class="badge">${items.length}</span></h2>
    <${Problem} error=${error} />
    <ul class="plain">${items.map((r) => html`<li>
      <p><strong>${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)}</strong> ${r.comment}</p>
      <div class="row">
        <${Action} kind="primary" busy="Approving…" action=${async () => { await api('POST', `/admin/reviews/${r.id}/approve`); reload(); }}>Approve</${Action}>
        <${Action} kind="" busy="Rejecting…" action=${async () => { await api('POST', `/admin/reviews/${r.id}/reject`); reload(); }}>Reject</${Action}>
      </div>
    </li>`)}</ul>
  </section>`;
}

function RoleOf({ user, reload }) {
  const [error, setError] = useState(null);
  const [saving, setSaving] = useState(false);
  async function change(event) {
    const role = event.currentTarget.value;
    setSaving(true);
    setError(null);
    try {
      await api('PATCH', `/admin/users/${user.id}`, { role });
      reload();
    } catch (e) {
      setError(e);
      event.target.value = user.role;
    } finally {
      setSaving(false);
    }
  }
  return html`<select aria-label=${`Role of ${user.email}`} value=${user.role} onChange=${change}
      disabled=${saving} aria-busy=${saving}>
      ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}
    </select><${Problem} error=${error} />`;
}

function Users() {
  const [only, setOnly] = useState('');
  const [users, error, reload] = useLoad(`/admin/users?limit=50${only ? `&role=${only}` : ''}`, [], REFRESH_MS);
  const me = signedIn.value?.user?.id;
  return html`<section class="panel" aria-label="Users">
    <div class="spread"><h2>Users</h2>
      <label class="row">Show <select value=${only} onChange=${(e) => setOnly(e.currentTarget.value)}>
        <option value="">every role</option>
        ${ROLES.map((r) => html`<option value=${r}>${r}s</option>`)}
      </select></label></div>
    <${Problem} error=${error} />
    <table class="list">
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Access</th></tr></thead>
      <tbody>${(users?.items ?? []).map((u) => html`<tr data-user=${u.email}>
        <td data-label="Name">${u.name}</td><td data-label="Email">${u.email}</td>
        <td data-label="Role">${u.id === me ? u.role : html`<${RoleOf} user=${u} reload=${reload} />`}</td>
        <td data-label="Access">${u.id !== me && html`<${Action} kind="" busy="Saving…" label=${`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}
          action=${async () => { await api('PATCH', `/admin/users/${u.id}`, { disabled: !u.disabled }); reload(); }}>
          ${u.disabled ? 'Enable' : 'Disable'}</${Action}>`}</td>
      </tr>`)}</tbody>
    </table>
    ${users?.next_cursor && html`<p class="muted">The newest 50 are shown; choose a role to see fewer.</p>`}
  </section>`;
}

function App() {
  const current = signedIn.value;
  if (!current) return html`<${Login} title="Ordo operations" />`;
  if (current.user && current.user.role !== 'admin') {
    return html`<${Header} title="Ordo operations" /><main><p class="problem" role="alert">
      The console is for administrators; ${current.user.email} is a ${current.user.role}.</p></main>`;
  }
  if (openOrder.value) return html`<${Header} title="Ordo operations" /><${OrderPage} id=${openOrder.value} />`;
  return html`<${Header} title="Ordo operations" />
    <main class="console">
      <h1>Operations</h1>
      <${FindOrders} />
      <${Overview} />
      <${Fleet} />
      <div class="split"><${Orders} /><${DeadLetters} /></div>
      <${Metrics} />
      <${Alerts} />
      <div class="split"><${Users} /><${Reviews} /></div>
      <${Texts} />
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
