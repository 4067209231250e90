// The operator console (administrators): today's figures and orders per hour, the latest
// orders with the stuck ones flagged and refunds, dead letters to replay or discard, reviews
// waiting for moderation, and users with their roles. It refreshes itself.

import { useEffect, useRef, useState } from '../vendor/preact/hooks.js';
import uPlot from '../vendor/uplot/uplot.js';
import { api } from '../shared/api.js';
import { money, status as statusWords, when } from '../shared/format.js';
import { Action, Header, Login, Problem, html, render, signedIn } from '../shared/ui.js';

/** How often the console looks again. */
const REFRESH_MS = 5_000;
/** A paid order waiting this long for its merchant, or a ready one for its courier, is stuck. */
const STUCK_SECS = 5 * 60;

function useRefreshed(load, deps = []) {
  const [value, setValue] = useState(null);
  const [error, setError] = useState(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    const run = () => load().then((v) => current && (setValue(v), setError(null)), (e) => current && setError(e));
    run();
    const timer = setInterval(run, REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [round, ...deps]);
  return [value, error, () => setRound(round + 1)];
}

function Chart({ buckets }) {
  const element = useRef(null);
  const chart = useRef(null);
  useEffect(() => {
    // Every hour of the day, those without orders at zero, so that the axis is the day.
    const day = new Date();
    day.setUTCHours(0, 0, 0, 0);
    const byHour = new Map(buckets.map((b) => [Date.parse(b.start), b]));
    const hours = Array.from({ length: 24 }, (_, h) => day.getTime() + h * 3_600_000);
    const data = [
      hours.map((t) => t / 1000),
      hours.map((t) => byHour.get(t)?.orders ?? 0),
      hours.map((t) => byHour.get(t)?.completed ?? 0),
    ];
    const width = Math.max(300, element.current.clientWidth);
    if (!chart.current) {
      chart.current = new uPlot({
        width, height: 220,
        series: [{}, { label: 'Orders', stroke: '#0b5cad', width: 2 }, { label: 'Completed', stroke: '#17663a', width: 2 }],
        axes: [{}, { label: 'per hour' }],
      }, data, element.current);
    } else {
      chart.current.setData(data);
    }
  }, [JSON.stringify(buckets)]);
  useEffect(() => () => chart.current?.destroy(), []);
  return html`<figure class="chart"><div ref=${element} role="img" aria-label="Orders and completions per hour today"></div>
    <figcaption class="muted">Orders and completions per hour, today</figcaption></figure>`;
}

function Overview() {
  const [report, error] = useRefreshed(() => {
    const from = new Date();
    from.setUTCHours(0, 0, 0, 0);
    return api('GET', `/admin/reports/summary?from=${from.toISOString().slice(0, 10)}&bucket=hour`);
  });
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
    ${buckets.length > 0 && html`<${Chart} buckets=${buckets} />`}
  </section>`;
}

function stuck(order, now) {
  const waited = (now - Date.parse(order.updated_at)) / 1000;
  return waited > STUCK_SECS && ['paid', 'ready'].includes(order.status);
}

function Orders() {
  const [orders, error, reload] = useRefreshed(() => api('GET', '/orders?limit=50'));
  const items = orders?.items ?? [];
  const now = Date.now();
  const counts = {};
  for (const o of items) counts[o.status] = (counts[o.status] ?? 0) + 1;
  return html`<section aria-label="Latest orders">
    <h2>Latest orders</h2>
    <${Problem} error=${error} />
    <p class="row">${Object.entries(counts).map(([s, n]) => html`<span class="badge" data-status=${s}>${statusWords(s)}: ${n}</span>`)}</p>
    <table class="list">
      <thead><tr><th scope="col">Placed</th><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Total</th><th scope="col">Refund</th></tr></thead>
      <tbody>${items.map((o) => html`<tr class=${stuck(o, now) ? 'stuck' : ''}>
        <td>${when(o.created_at)}</td>
        <td><code>${o.id.slice(-8)}</code> <span class="muted">${o.fulfilment}</span></td>
        <td>${statusWords(o.status)} ${stuck(o, now) && html`<span class="badge bad">stuck</span>`}</td>
        <td>${money(o.total)}</td>
        <td>${['paid', 'accepted', 'ready', 'picked_up', 'shipped', 'completed'].includes(o.status)
          && html`<${Action} kind="" busy="Refunding…" label=${`Refund order ${o.id.slice(-8)} in full`}
            action=${async () => { await api('POST', `/admin/orders/${o.id}/refund`, {}); reload(); }}>Refund</${Action}>`}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

function DeadLetters() {
  const [letters, error, reload] = useRefreshed(() => api('GET', '/admin/dead-letters?limit=50'));
  const items = letters?.items ?? [];
  return html`<section aria-label="Dead letters">
    <h2>Dead letters <span class="badge">${items.length}</span></h2>
    <${Problem} error=${error} />
    ${letters && items.length === 0 && html`<p class="muted">None: every event was handled.</p>`}
    <ul class="plain">${items.map((d) => html`<li data-dead-letter=${d.id}>
      <div class="spread"><strong>${d.event_type}</strong><span class="muted">${d.consumer} · ${d.attempts} attempts · ${when(d.dead_at)}</span></div>
      <p class="muted">${d.last_error}</p>
      <div class="row">
        <${Action} kind="primary" busy="Replaying…" label=${`Replay ${d.event_type} for ${d.consumer}`}
          action=${async () => { await api('POST', `/admin/dead-letters/${d.id}/replay`); reload(); }}>Replay</${Action}>
        <${Action} kind="" busy="Discarding…" label=${`Discard ${d.event_type} for ${d.consumer}`}
          action=${async () => { await api('DELETE', `/admin/dead-letters/${d.id}`); reload(); }}>Discard</${Action}>
      </div>
    </li>`)}</ul>
  </section>`;
}

function Reviews() {
  const [reviews, error, reload] = useRefreshed(() => api('GET', '/admin/reviews?status=pending&limit=20'));
  const items = reviews?.items ?? [];
  return html`<section aria-label="Reviews to moderate">
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

function Users() {
  const [users, error, reload] = useRefreshed(() => api('GET', '/admin/users?limit=50'));
  return html`<section aria-label="Users">
    <h2>Users</h2>
    <${Problem} error=${error} />
    <table class="list">
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Access</th></tr></thead>
      <tbody>${(users?.items ?? []).map((u) => html`<tr>
        <td>${u.name}</td><td>${u.email}</td><td>${u.role}</td>
        <td>${u.role !== 'admin' && html`<${Action} kind="" busy="Saving…" label=${`${u.disabled ? 'Enable' : 'Disable'} ${u.email}`}
          action=${async () => { await api('PATCH', `/admin/users/${u.id}`, { disabled: !u.disabled }); reload(); }}>
          ${u.disabled ? 'Enable' : 'Disable'}</${Action}>`}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

function App() {
  const current = signedIn.value;
  if (!current) return html`<${Login} title="Ordo operations" />`;
  if (current.user && current.user.role !== 'admin') {
    return html`<${Header} title="Ordo operations" /><main><p class="problem" role="alert">
      The console is for administrators; ${current.user.email} is a ${current.user.role}.</p></main>`;
  }
  return html`<${Header} title="Ordo operations" />
    <main class="console">
      <h1>Operations</h1>
      <${Overview} />
      <div class="split"><${Orders} /><${DeadLetters} /></div>
      <div class="split"><${Reviews} /><${Users} /></div>
    </main>`;
}

render(html`<${App} />`, document.getElementById('app'));
