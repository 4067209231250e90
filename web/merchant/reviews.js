// The shop's reviews as its staff see them: the rating, what customers said, and an answer
// to each (once; it shows under the review wherever the review is shown).

import { useState } from '../vendor/preact/hooks.js';
import { api } from '../shared/api.js';
import { orderRef, when } from '../shared/format.js';
import { useLoad } from '../shared/load.js';
import { Action, Problem, html } from '../shared/ui.js';

const stars = (n) => '★'.repeat(n) + '☆'.repeat(5 - n);

function Answer({ review, reload }) {
  const [text, setText] = useState('');
  const id = `answer-${review.id}`;
  return html`<div class="row">
    <label for=${id}>Your answer</label>
    <textarea id=${id} rows="2" maxlength="2000" value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    <${Action} busy="Answering…" disabled=${!text.trim()} label=${`Answer the review of order ${orderRef(review.order_id)}`}
      action=${async () => { await api('POST', `/reviews/${review.id}/answer`, { text: text.trim() }); reload(); }}>Answer</${Action}>
  </div>`;
}

export function Reviews({ merchant }) {
  const [page, error, reload] = useLoad(`/merchants/${merchant.id}/reviews?limit=50`, [merchant.id]);
  const items = page?.items ?? [];
  return html`<main class="board-page">
    <h1>Reviews of ${merchant.name}</h1>
    <${Problem} error=${error} />
    ${page && html`<p class="row"><span class="badge" aria-label=${`Rated ${page.rating.average.toFixed(1)} of 5 by ${page.rating.count}`}>
      ${stars(Math.round(page.rating.average))} ${page.rating.average.toFixed(1)} (${page.rating.count})</span></p>`}
    ${page && items.length === 0 && html`<p class="muted">No review yet.</p>`}
    <ul class="plain reviews">${items.map((r) => html`<li class="card" data-review=${r.id}>
      <p class="spread"><span aria-label=${`${r.rating} of 5`}>${stars(r.rating)}</span><span class="muted">${when(r.created_at)}</span></p>
      ${r.comment ? html`<p>“${r.comment}”</p>` : html`<p class="muted">A rating without words.</p>`}
      ${r.answer
        ? html`<p class="answer"><strong>Your answer:</strong> ${r.answer}</p>`
        : html`<${Answer} review=${r} reload=${reload} />`}
    </li>`)}</ul>
  </main>`;
}
