// The notifications bell: how many are unread, a list that opens on demand, each marked
// read when opened or all at once, and new ones arriving live. On a phone the list takes
// the screen's width below the header.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { api } from './api.js';
import { when } from './format.js';
import { follow } from './sse.js';
import { Action, Problem, html } from './ui.js';

export function Bell() {
  const [items, setItems] = useState([]);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState(null);
  async function load() {
    try {
      setItems((await api('GET', '/notifications?limit=20')).items);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
    return follow('/notifications/stream', { onEvent: () => load() });
  }, []);
  const unread = items.filter((n) => !n.read).length;
  async function readAll() {
    await api('POST', '/notifications/read-all');
    await load();
  }
  async function read(n) {
    if (!n.read) {
      await api('POST', `/notifications/${n.id}/read`).catch(setError);
      await load();
    }
    if (n.order_id) location.hash = `#/orders/${n.order_id}`;
    setOpen(false);
  }
  return html`<span class="bell">
    <button aria-expanded=${open} aria-controls="notifications" onClick=${() => setOpen(!open)}
      aria-label=${`Notifications, ${unread} unread`}>
      <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/>
      </svg>
      ${unread > 0 && html` <span class="badge bad">${unread}</span>`}</button>
    ${open && html`<div id="notifications" class="card bell-panel" role="region" aria-label="Notifications">
      <div class="bell-head"><h2>Notifications</h2>
        ${unread > 0 && html`<${Action} kind="link" busy="Marking…" action=${readAll}>Mark all read</${Action}>`}</div>
      <${Problem} error=${error} />
      ${items.length === 0 && html`<p class="muted">Nothing yet.</p>`}
      <ul class="plain">${items.map((n) => html`<li class=${n.read ? 'muted' : ''}>
        <button class="link" onClick=${() => read(n)}><strong>${n.title}</strong></button>
        <div>${n.body}</div><div class="muted">${when(n.created_at)}</div></li>`)}</ul>
    </div>`}
  </span>`;
}
