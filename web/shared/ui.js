// The views every app shares: `html` (htm bound to preact), the session as a signal, a
// login and sign-up form that returns to the same page, a button that shows its progress
// and the refusal in words, and the page header.

import { h, render } from '../vendor/preact/preact.js';
import { useEffect, useState } from '../vendor/preact/hooks.js';
import htm from '../vendor/htm/htm.js';
import { signal } from '../vendor/signals/signals.js';
import { ApiError, api, login, logout, onSession, register, session } from './api.js';
import { connection } from './sse.js';

export const html = htm.bind(h);
export { render };

/** The signed-in session (`null` when signed out), kept in step with the API client. */
export const signedIn = signal(session());
/** The last session ended because the server refused it (it expired or was revoked). */
const refusedSession = signal(false);
onSession((value, refused) => {
  signedIn.value = value;
  refusedSession.value = !value && refused;
});

/** Whether `error` is only the connection gone: said quietly, and cured by itself. */
export function unreachable(error) {
  return error instanceof ApiError && error.status === 0;
}

/**
 * A quiet line while the live streams reconnect (or a load found the server unreachable):
 * the screen catches up by itself when the connection is back.
 */
export function Reconnecting({ error }) {
  if (connection.value !== 'reconnecting' && !unreachable(error)) return null;
  return html`<p class="reconnecting" role="status">Reconnecting… The server cannot be reached just now.</p>`;
}

/**
 * A refusal or failure in words, announced to screen readers; a look that only found the
 * server unreachable (marked `quiet` by `useLoad`) is said quietly instead.
 */
export function Problem({ error }) {
  if (!error) return null;
  if (error.quiet) return html`<${Reconnecting} error=${error} />`;
  const text = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  return html`<p class="problem" role="alert">${text}</p>`;
}

/**
 * A button running `action` (async): disabled and labelled `busy` while it runs, then the
 * refusal shown beside it if it failed.
 */
export function Action({ action, children, busy = 'Working…', kind = 'primary', label, disabled }) {
  const [running, setRunning] = useState(false);
  const [error, setError] = useState(null);
  async function run(event) {
    event?.preventDefault();
    setRunning(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setRunning(false);
    }
  }
  return html`<span class="action">
    <button class=${kind} onClick=${run} disabled=${running || disabled} aria-busy=${running}
      aria-label=${label}>${running ? busy : children}</button>
    <${Problem} error=${error} />
  </span>`;
}

function Field({ label, type = 'text', value, onInput, autocomplete, error, required = true }) {
  const id = `f-${label.toLowerCase().replace(/\W+/g, '-')}`;
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <input id=${id} type=${type} value=${value} required=${required} autocomplete=${autocomplete}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? `${id}-error` : undefined}
      onInput=${(e) => onInput(e.currentTarget.value)} />
    ${error && html`<span id=${`${id}-error`} class="field-error">${error}</span>`}
  </div>`;
}

export { Field };

/**
 * A form's submission running `action` (async): `submit` (its onSubmit), `busy`, the
 * `error` and the `fields` a 422 named (with their words), and `clear` to forget them.
 */
export function useForm(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const fields = error instanceof ApiError ? error.fields : {};
  return { submit, busy, error, fields, clear: () => setError(null) };
}

/**
 * Asks for a link to choose a new password. The answer is the same whether or not the
 * address has an account, and so is what the page says.
 */
function ForgotPassword({ title, email: typed, onBack }) {
  const [email, setEmail] = useState(typed);
  const [sent, setSent] = useState(false);
  const { submit, busy, error, fields } = useForm(async () => {
    await api('POST', '/auth/password-reset', { email });
    setSent(true);
  });
  return html`<main class="login">
    <h1>${title}</h1>
    <form onSubmit=${submit} class="card">
      <h2>Forgot your password?</h2>
      ${sent
        ? html`<p class="notice" role="status">If an account has the address ${email}, a link to choose a new
            password is on its way to it. The link works for 30 minutes.</p>`
        : html`<p>Give the email address of your account: we send it a link to choose a new password.</p>
          <${Field} label="Email" type="email" value=${email} onInput=${setEmail} autocomplete="email" error=${fields.email} />
          <${Problem} error=${fields.email ? null : error} />
          <button class="primary" type="submit" disabled=${busy} aria-busy=${busy}>
            ${busy ? 'Please wait…' : 'Send me a link'}</button>`}
      <button class="link" type="button" onClick=${onBack}>Back to log in</button>
    </form>
  </main>`;
}

/**
 * Log in or, when `role` is given, create an account with it; the page stays where it was,
 * so the person comes back to what they were doing.
 */
export function Login({ role, title }) {
  const [creating, setCreating] = useState(false);
  const [forgot, setForgot] = useState(false);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { submit, busy, error, fields, clear } = useForm(() => (creating
    ? register({ name, email, password, role })
    : login(email, password)));
  if (forgot) return html`<${ForgotPassword} title=${title} email=${email} onBack=${() => setForgot(false)} />`;
  return html`<main class="login">
    <h1>${title}</h1>
    <form onSubmit=${submit} class="card">
      <h2>${creating ? 'Create an account' : 'Log in'}</h2>
      ${refusedSession.value && !creating && html`<p class="notice" role="status">
        Your session has ended. Log in again to go on where you were.</p>`}
      ${creating && html`<${Field} label="Name" value=${name} onInput=${setName} autocomplete="name" error=${fields.name} />`}
      <${Field} label="Email" type="email" value=${email} onInput=${setEmail} autocomplete="email" error=${fields.email} />
      <${Field} label="Password" type="password" value=${password} onInput=${setPassword}
        autocomplete=${creating ? 'new-password' : 'current-password'} error=${fields.password} />
      <${Problem} error=${error} />
      <button class="primary" type="submit" disabled=${busy} aria-busy=${busy}>
        ${busy ? 'Please wait…' : creating ? 'Create account' : 'Log in'}
      </button>
      ${role && html`<button class="link" type="button" onClick=${() => { setCreating(!creating); clear(); }}>
        ${creating ? 'I have an account' : 'Create an account'}
      </button>`}
      ${!creating && html`<button class="link" type="button" onClick=${() => setForgot(true)}>Forgot password?</button>`}
    </form>
  </main>`;
}

/** The page header: the app's name, its navigation, who is signed in and a way out. */
export function Header({ title, children }) {
  const current = signedIn.value;
  return html`<header class="top">
    <a class="brand" href="./">${title}</a>
    <nav aria-label="Main">${children}</nav>
    ${current && html`<span class="who">${current.user?.name ?? ''}
      <button class="link" onClick=${() => logout()}>Log out</button></span>`}
  </header>`;
}

/** The time now, in milliseconds, ticking every second: for timers and countdowns. */
export function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
