// Pictures of merchants and products: shown as a thumbnail beside a name or a banner
// across a page, and chosen from a file to send (the server checks, resizes and keeps
// them; a refusal, too large or not a picture, is shown in its words).

import { useState } from '../vendor/preact/hooks.js';
import { api } from './api.js';
import { Problem, html } from './ui.js';

/**
 * A picture's thumbnail (`small` in lists of lines), or an empty tile of its size when there
 * is none; the name beside it says what it shows.
 */
export function Thumb({ image, small = false }) {
  const kind = small ? 'thumb small' : 'thumb';
  if (!image) return html`<span class=${`${kind} none`} aria-hidden="true"></span>`;
  const side = small ? 48 : 72;
  return html`<img class=${kind} src=${image.thumb_url} alt="" width=${side} height=${side} loading="lazy" decoding="async" />`;
}

/** A picture across the top of a merchant's card or page. */
export function Banner({ image }) {
  if (!image) return null;
  return html`<img class="banner" src=${image.url} alt="" loading="lazy" decoding="async" />`;
}

/**
 * The picture of `name` with a way to choose another: the file is sent to `path` (PUT) as
 * it is, and the picture the server made of it shown.
 */
export function PictureInput({ image, path, name, id }) {
  const [shown, setShown] = useState(image);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState(null);
  async function send(event) {
    const input = event.currentTarget;
    const file = input.files[0];
    if (!file) return;
    setSending(true);
    setError(null);
    try {
      setShown((await api('PUT', path, file)).image);
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
      // The same file may be chosen again after a refusal.
      input.value = '';
    }
  }
  return html`<div class="picture-input">
    <${Thumb} image=${shown} />
    <div>
      <label for=${id}>${shown ? 'Another picture' : 'A picture'}<span class="sr-only"> of ${name}</span></label>
      <input id=${id} type="file" accept="image/jpeg,image/png,image/webp" disabled=${sending} onChange=${send} />
      ${sending && html`<span role="status" class="muted">Sending…</span>`}
      <${Problem} error=${error} />
    </div>
  </div>`;
}
