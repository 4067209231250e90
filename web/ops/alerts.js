// The alerts operators are paged by (deploy/prometheus/rules.yml), each linked to its section
// of the runbook (/runbook), with what this process's own metrics say of it now. Those that
// need rates over minutes or several processes are Prometheus's to judge.

import { useLoad } from '../shared/load.js';
import { Problem, html } from '../shared/ui.js';
import { parse } from './metrics.js';

const READ_EVERY_MS = 15_000;

const top = (samples, name) => samples.filter((s) => s.name === name).reduce((m, s) => Math.max(m, s.value), -Infinity);
const any = (samples, name) => samples.some((s) => s.name === name);

/** Busy connections over the most each service's pool may hold, at its fullest. */
function poolUse(samples) {
  let fullest = 0;
  for (const most of samples.filter((s) => s.name === 'db_pool_max_connections' && s.value > 0)) {
    const busy = samples.find((s) => s.name === 'db_pool_connections' && s.labels.state === 'busy'
      && s.labels.service === most.labels.service && s.labels.pool === most.labels.pool);
    fullest = Math.max(fullest, (busy?.value ?? 0) / most.value);
  }
  return fullest;
}

/** Each alert: its name, what it means, its runbook section, and how to tell from here. */
const ALERTS = [
  { name: 'OrdoInstanceDown', means: 'a process does not answer scrapes', runbook: 'instance-down' },
  { name: 'OrdoNotReady', means: 'a process is not ready', runbook: 'not-ready',
    firing: (s) => any(s, 'ordo_ready') && top(s, 'ordo_ready') === 0 },
  { name: 'OrdoHigh5xxRatio', means: 'over 5 % of requests fail', runbook: 'high-5xx-ratio' },
  { name: 'OrdoSlowRoute', means: "a route's p99 is over 1 s", runbook: 'slow-route' },
  { name: 'OrdoOutboxBacklogOld', means: 'an event waits over a minute to be published', runbook: 'outbox-backlog',
    firing: (s) => top(s, 'bus_outbox_oldest_age_seconds') > 60 },
  { name: 'OrdoRelayStalled', means: 'events wait and none is published', runbook: 'relay-stalled' },
  { name: 'OrdoConsumerLagging', means: 'a consumer is over 1 000 events behind', runbook: 'consumer-lag',
    firing: (s) => top(s, 'bus_consumer_lag') > 1000 },
  { name: 'OrdoDeadLettersGrowing', means: 'events were given up on', runbook: 'dead-letters' },
  { name: 'OrdoOrdersWaitingForMerchant', means: 'an order waits over 5 minutes for its merchant',
    runbook: 'orders-waiting-for-a-merchant', firing: (s) => top(s, 'orders_awaiting_merchant_oldest_seconds') > 300 },
  { name: 'OrdoDeliveriesWaitingForCourier', means: 'a delivery waits over 10 minutes for a courier',
    runbook: 'deliveries-waiting-for-a-courier', firing: (s) => top(s, 'deliveries_awaiting_courier_oldest_seconds') > 600 },
  { name: 'OrdoOffersExpiring', means: 'most offers expire unanswered', runbook: 'offers-expiring' },
  { name: 'OrdoDatabasePoolSaturated', means: 'a pool uses over 90 % of its connections',
    runbook: 'database-pool-saturated', firing: (s) => poolUse(s) > 0.9 },
  { name: 'OrdoRedisDown', means: 'Redis cannot be reached', runbook: 'redis-down',
    firing: (s) => any(s, 'redis_up') && top(s, 'redis_up') === 0 },
];

/** An alert's name, breakable between its words on a narrow screen. */
const breakable = (name) => name.split(/(?=[A-Z])/).flatMap((word, i) => (i ? [html`<wbr />`, word] : [word]));

function state(alert, samples) {
  if (!alert.firing) return html`<span class="muted">Prometheus judges it</span>`;
  if (!samples) return html`<span class="muted">…</span>`;
  return alert.firing(samples)
    ? html`<span class="badge warn">firing here</span>`
    : html`<span class="badge ok">quiet here</span>`;
}

/** The alerts, with this process's view of each and the way to its runbook section. */
export function Alerts() {
  const [text, error] = useLoad('/metrics', [], READ_EVERY_MS, { root: true });
  const samples = text === null ? null : parse(text);
  return html`<section class="panel" aria-label="Alerts">
    <h2>Alerts</h2>
    <${Problem} error=${error} />
    <table class="list">
      <thead><tr><th>Alert</th><th>Means</th><th>Now</th></tr></thead>
      <tbody>${ALERTS.map((a) => html`<tr data-alert=${a.name}>
        <td data-label="Alert"><a href=${`/runbook#${a.runbook}`} target="_blank" rel="noopener">${breakable(a.name)}</a></td>
        <td data-label="Means">${a.means}</td>
        <td data-label="Now">${state(a, samples)}</td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}
