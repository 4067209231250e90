// The text messages sent to people, newest first: with the sandbox provider, the messages
// themselves, which reach nobody else.

import { when } from '../shared/format.js';
import { useLoad } from '../shared/load.js';
import { Problem, html } from '../shared/ui.js';
import { REFRESH_MS } from './refresh.js';

export function Texts() {
  const [texts, error] = useLoad('/admin/sms?limit=20', [], REFRESH_MS);
  const items = texts?.items ?? [];
  return html`<section class="panel" aria-label="Text messages">
    <h2>Text messages</h2>
    <${Problem} error=${error} />
    ${texts && items.length === 0 && html`<p class="muted">No text message yet.</p>`}
    ${items.length > 0 && html`<table class="list">
      <thead><tr><th scope="col">To</th><th scope="col">Message</th><th scope="col">Sent</th></tr></thead>
      <tbody>${items.map((t) => html`<tr data-user=${t.user_id}>
        <td data-label="To">${t.to}</td>
        <td data-label="Message">${t.body}</td>
        <td data-label="Sent">${when(t.at)} <span class=${`badge ${t.status === 'sent' ? 'ok' : 'bad'}`}>
          ${t.status === 'sent' ? `sent (${t.provider})` : `failed: ${t.error}`}</span></td>
      </tr>`)}</tbody>
    </table>`}
  </section>`;
}
