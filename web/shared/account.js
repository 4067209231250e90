// One's account: the page an emailed link opens to choose a new password, and the settings
// — a phone number, and how to be told of each kind of message besides the app's own
// notifications.

import { useEffect, useState } from '../vendor/preact/hooks.js';
import { api } from './api.js';
import { useLoad } from './load.js';
import { Field, Problem, html, signedIn, useForm } from './ui.js';

/** The token of the link the page was opened with (`#/reset?token=…`). */
function linkToken() {
  return new URLSearchParams(location.hash.split('?')[1] ?? '').get('token') ?? '';
}

/**
 * Choosing a new password with an emailed link. Every session with the old one ends, this
 * browser's too; the person then logs in with the new one.
 */
export function ResetPassword({ title }) {
  const [token] = useState(linkToken);
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const { submit, busy, error, fields } = useForm(async () => {
    await api('POST', '/auth/password-reset/confirm', { token, password });
    setDone(true);
  });
  const unusable = fields.token || (!token && 'This page needs the link from the email.');
  return html`<main class="login">
    <h1>${title}</h1>
    <form onSubmit=${submit} class="card">
      <h2>Choose a new password</h2>
      ${done
        ? html`<p class="notice" role="status">Your new password is set, and every session with the old one
            has ended.</p><a href="#/">Log in with the new password</a>`
        : unusable
          ? html`<p class="problem" role="alert">${unusable}</p>
            <a href="#/">Ask for a new link from the login form</a>`
          : html`<${Field} label="New password" type="password" value=${password} onInput=${setPassword}
              autocomplete="new-password" error=${fields.password} />
            <p class="muted">At least 10 characters.</p>
            <${Problem} error=${fields.password ? null : error} />
            <button class="primary" type="submit" disabled=${busy} aria-busy=${busy}>
              ${busy ? 'Please wait…' : 'Set the password'}</button>`}
    </form>
  </main>`;
}

/** The kinds of message a person chooses for, in words; delivery offers are couriers'. */
const KINDS = [
  ['order_updates', 'Order updates'],
  ['payments', 'Payments and refunds'],
  ['delivery_offers', 'Delivery offers', 'courier'],
];

function Phone({ me, onSaved }) {
  const [phone, setPhone] = useState(me.phone ?? '');
  const [saved, setSaved] = useState(false);
  const { submit, busy, error, fields } = useForm(async () => {
    setSaved(false);
    // People write numbers with spaces and dashes; the API takes them bare (E.164).
    const bare = phone.replace(/[\s\-().]/g, '');
    await api('PATCH', '/me', { phone: bare || null });
    setSaved(true);
    onSaved();
  });
  return html`<form class="card" aria-label="Phone" onSubmit=${submit}>
    <h2>Phone number</h2>
    <${Field} label="Phone number" type="tel" value=${phone} onInput=${setPhone} autocomplete="tel"
      required=${false} error=${fields.phone} />
    <p class="muted">With the country code, for example +49 151 12345678; text messages go to it.</p>
    <${Problem} error=${fields.phone ? null : error} />
    <button type="submit" disabled=${busy} aria-busy=${busy}>${busy ? 'Saving…' : 'Save the phone number'}</button>
    ${saved && html`<p role="status" class="badge ok">Saved.</p>`}
  </form>`;
}

function Choices({ preferences, hasPhone }) {
  const role = signedIn.value?.user?.role;
  const kinds = KINDS.filter(([, , only]) => !only || only === role);
  const [chosen, setChosen] = useState(preferences);
  const [saved, setSaved] = useState(false);
  useEffect(() => setChosen(preferences), [preferences]);
  const { submit, busy, error } = useForm(async () => {
    setSaved(false);
    const body = Object.fromEntries(kinds.map(([kind]) => [kind, { email: chosen[kind].email, sms: chosen[kind].sms }]));
    setChosen(await api('PUT', '/me/notification-preferences', body));
    setSaved(true);
  });
  const toggle = (kind, channel) => {
    setSaved(false);
    setChosen({ ...chosen, [kind]: { ...chosen[kind], [channel]: !chosen[kind][channel] } });
  };
  return html`<form class="card" aria-label="How we tell you" onSubmit=${submit}>
    <h2>How we tell you</h2>
    <p class="muted">Everything comes to the notifications in the app; choose what also comes by email or text message.</p>
    <table class="choices">
      <thead><tr><th scope="col">Kind</th><th scope="col">In the app</th><th scope="col">Email</th><th scope="col">Text</th></tr></thead>
      <tbody>${kinds.map(([kind, words]) => html`<tr>
        <th scope="row">${words}</th>
        <td><input type="checkbox" checked disabled aria-label=${`${words} in the app`} /></td>
        <td><input type="checkbox" checked=${chosen[kind].email} onChange=${() => toggle(kind, 'email')}
          aria-label=${`${words} by email`} /></td>
        <td><input type="checkbox" checked=${chosen[kind].sms} disabled=${!hasPhone && !chosen[kind].sms}
          onChange=${() => toggle(kind, 'sms')} aria-label=${`${words} by text message`} /></td>
      </tr>`)}</tbody>
    </table>
    ${!hasPhone && html`<p class="muted">Save a phone number to choose text messages.</p>`}
    <${Problem} error=${error} />
    <button class="primary" type="submit" disabled=${busy} aria-busy=${busy}>${busy ? 'Saving…' : 'Save the choices'}</button>
    ${saved && html`<p role="status" class="badge ok">Saved.</p>`}
  </form>`;
}

/** The account's settings: the phone number, and the channels of each kind of message. */
export function Settings() {
  const [me, meError, reloadMe] = useLoad('/me');
  const [preferences, preferencesError] = useLoad('/me/notification-preferences');
  return html`<main class="settings">
    <h1>Your account</h1>
    <${Problem} error=${meError || preferencesError} />
    ${me && html`<${Phone} me=${me} onSaved=${reloadMe} />`}
    ${me && preferences && html`<${Choices} preferences=${preferences} hasPhone=${Boolean(me.phone)} />`}
  </main>`;
}
