// Server-sent events over fetch, so that the request carries the session's bearer token
// (EventSource cannot). Reconnects with growing pauses — cut short the moment the browser
// says the network is back — sending the last event's id back as `Last-Event-ID` so that
// the server resumes where the stream broke. `connection` tells every view whether the
// streams are live.

import { signal } from '../vendor/signals/signals.js';
import { renew, session } from './api.js';

/** 'open' while every stream is connected; 'reconnecting' while one retries. */
export const connection = signal('open');
const retrying = new Set();

function retryingNow(stream, yes) {
  if (yes) retrying.add(stream);
  else retrying.delete(stream);
  connection.value = retrying.size > 0 ? 'reconnecting' : 'open';
}

/** Waits `ms`, or less when the network comes back meanwhile. */
function pauseFor(ms) {
  return new Promise((resolve) => {
    const back = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      window.removeEventListener('online', back);
      resolve();
    }, ms);
    window.addEventListener('online', back, { once: true });
  });
}

function parse(block) {
  const event = { event: 'message', data: '', id: null };
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event.event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') event.id = value;
  }
  event.data = data.join('\n');
  return event;
}

/**
 * Follows `path` (under /api/v1): `onEvent({event, data, id})` for each event (`data`
 * parsed as JSON when it is), `onState('open' | 'reconnecting' | 'closed')` as the
 * connection goes — 'open' again after a break is the moment to load the whole screen
 * anew, since what happened meanwhile may not all be events on this stream. Stops when the
 * server ends the stream after an `end` event, on a 4xx (but a 401 that new tokens cure),
 * or when the returned function is called.
 */
export function follow(path, { onEvent, onState: told = () => {} }) {
  const stream = {};
  const onState = (state, ...rest) => {
    retryingNow(stream, state === 'reconnecting');
    told(state, ...rest);
  };
  let lastId = null;
  let stopped = false;
  let controller = null;
  let pause = 500;

  async function connect() {
    while (!stopped) {
      controller = new AbortController();
      const headers = { accept: 'text/event-stream' };
      const current = session();
      if (current) headers.authorization = `Bearer ${current.access_token}`;
      if (lastId) headers['last-event-id'] = lastId;
      let ended = false;
      try {
        const response = await fetch(`/api/v1${path}`, { headers, signal: controller.signal });
        // A stream outlives its access token; a reconnect refused for it tries new tokens.
        if (response.status === 401 && (await renew(current?.access_token))) throw new Error('the token was renewed');
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          onState('closed', response.status);
          return;
        }
        if (!response.ok || !response.body) throw new Error(String(response.status));
        onState('open');
        pause = 500;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const event = parse(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event.id) lastId = event.id;
            if (!event.data && event.event === 'message') continue;
            try {
              event.data = JSON.parse(event.data);
            } catch {
              // Not JSON: given as text.
            }
            if (event.event === 'end') ended = true;
            onEvent(event);
          }
        }
      } catch {
        if (stopped) return;
      }
      if (ended || stopped) {
        onState('closed');
        return;
      }
      onState('reconnecting');
      await pauseFor(pause);
      pause = Math.min(pause * 2, 10_000);
    }
  }

  // A phone that says it lost the network drops the stream at once rather than waiting
  // for it to time out: the screen says so, and reconnects when the network is back.
  const dropped = () => controller?.abort();
  window.addEventListener('offline', dropped);
  connect();
  return () => {
    stopped = true;
    window.removeEventListener('offline', dropped);
    retryingNow(stream, false);
    controller?.abort();
  };
}
