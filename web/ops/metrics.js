// The platform's own metrics (/metrics, Prometheus' text format) sampled while the console
// is open, as rates and levels over the last minutes.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { api } from '../shared/api.js';
import { Problem, html } from '../shared/ui.js';
import { LineChart } from './charts.js';

/** How often the metrics are read, and how many readings the charts keep (10 minutes). */
const SAMPLE_MS = 5_000;
const KEPT = 120;

/** Prometheus text as samples `{name, labels, value}`. */
export function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = line.match(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function sum(samples, name, keep = () => true) {
  return samples.filter((s) => s.name === name && keep(s.labels)).reduce((total, s) => total + s.value, 0);
}

function max(samples, name) {
  return samples.filter((s) => s.name === name).reduce((top, s) => Math.max(top, s.value), 0);
}

/** What one reading of /metrics says the charts need. */
function reading(text) {
  const samples = parse(text);
  return {
    at: Date.now() / 1000,
    requests: sum(samples, 'http_requests_total'),
    failed: sum(samples, 'http_requests_total', (l) => l.status?.startsWith('5')),
    latencySum: sum(samples, 'http_request_duration_seconds_sum'),
    latencyCount: sum(samples, 'http_request_duration_seconds_count'),
    published: sum(samples, 'bus_published_total'),
    handled: sum(samples, 'bus_handled_total'),
    retried: sum(samples, 'bus_retried_total'),
    deadLettered: sum(samples, 'bus_dead_lettered_total'),
    backlog: sum(samples, 'bus_outbox_backlog'),
    lag: max(samples, 'bus_consumer_lag'),
  };
}

/** Per second between consecutive readings; a restarted server's counters start again. */
function rate(readings, key) {
  return readings.slice(1).map((r, i) => {
    const before = readings[i];
    return Math.max(0, r[key] - before[key]) / Math.max(1e-3, r.at - before.at);
  });
}

/** The readings kept, read again every few seconds while the console is open. */
function useReadings() {
  const [readings, setReadings] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => {
    let current = true;
    const sample = () => api('GET', '/metrics', undefined, { root: true }).then(
      (text) => current && (setReadings((kept) => [...kept, reading(text)].slice(-KEPT)), setError(null)),
      (e) => current && setError(e),
    );
    sample();
    const timer = setInterval(sample, SAMPLE_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, []);
  return [readings, error];
}

/** Requests, latency, events and backlog over the last minutes, in charts. */
export function Metrics() {
  const [readings, error] = useReadings();
  const times = readings.slice(1).map((r) => r.at);
  const meanLatencyMs = readings.slice(1).map((r, i) => {
    const count = r.latencyCount - readings[i].latencyCount;
    return count > 0 ? ((r.latencySum - readings[i].latencySum) / count) * 1000 : 0;
  });
  return html`<section class="panel" aria-label="Platform metrics">
    <h2>The platform, last minutes</h2>
    <${Problem} error=${error} />
    ${times.length === 0
      ? html`<p class="muted">Reading the platform's metrics every ${SAMPLE_MS / 1000} s…</p>`
      : html`<div class="charts">
        <${LineChart} label="HTTP requests per second" caption="HTTP requests per second, and those that failed (5xx)"
          unit="per s" times=${times}
          series=${[{ label: 'Requests', values: rate(readings, 'requests') }, { label: 'Failed', values: rate(readings, 'failed') }]} />
        <${LineChart} label="Mean HTTP response time in milliseconds" caption="Mean HTTP response time (ms)"
          unit="ms" times=${times} series=${[{ label: 'Mean', values: meanLatencyMs }]} />
        <${LineChart} label="Events per second on the bus" caption="Events published and handled per second, retries and dead letters"
          unit="per s" times=${times}
          series=${[
            { label: 'Published', values: rate(readings, 'published') },
            { label: 'Handled', values: rate(readings, 'handled') },
            { label: 'Retried', values: rate(readings, 'retried') },
            { label: 'Dead-lettered', values: rate(readings, 'deadLettered') },
          ]} />
        <${LineChart} label="Events waiting on the bus" caption="Events waiting: in the outboxes, and the largest consumer lag"
          unit="events" times=${times}
          series=${[
            { label: 'Outbox', values: readings.slice(1).map((r) => r.backlog) },
            { label: 'Consumer lag', values: readings.slice(1).map((r) => r.lag) },
          ]} />
      </div>`}
  </section>`;
}
