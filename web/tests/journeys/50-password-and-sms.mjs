// A forgotten password and a phone number. A customer asks for a link on the login form;
// the journey reads the mail from a relay it runs, opens the link and sets a new password;
// the session another page held ends, and only the new password logs in. Then she saves a
// phone number and chooses text messages for order updates; her next order's text is
// recorded by the sandbox and shown in the console. On a 360 px phone the notifications
// panel fits the screen, and "Mark all read" clears it.

import {
  accessible, account, base, call, logIn, open, orderPizza, pages, screenshot, smtpPort, startMailRelay,
  step, tokenOf, tolerating, unique,
} from '../lib.mjs';

const PHONE = { width: 360, height: 780 };

/** The reset link in the newest mail the relay took for `email`, or null. */
function resetLink(relay, email) {
  const mail = relay.messages.filter((m) => m.lines.some((line) => line.includes(email))).at(-1);
  // Quoted-printable soft line breaks and `=` undone, should the mail be so encoded.
  const text = (mail?.lines ?? []).map((line) => line.replace(/=$/, '\u0000')).join('\n')
    .replace(/\u0000\n/g, '').replace(/=3D/g, '=');
  return text.match(/https?:\/\/\S+#\/reset\?token=[\w-]+/)?.[0] ?? null;
}

/** Waits for what a relay or the platform does in its own time: `look()` until it is not null. */
async function eventually(what, look) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await look();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** No horizontal scrolling on `page`. */
async function fits(page, what) {
  const wider = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (wider > 0) throw new Error(`${what} is ${wider} px wider than the screen`);
}

export async function run() {
  const admin = account('admin@demo.ordo.dev');
  if (!admin) throw new Error('the demo accounts were not given (ORDO_WEB_DEMO)');
  if (!smtpPort) throw new Error('ORDO_WEB_SMTP_PORT must name the port of the server\'s smtp_url');
  const eve = { name: 'Eve Forgetful', email: `eve-${unique}@example.com`, password: 'the first long password' };
  const renewed = 'a second, newer passphrase';
  const digits = String(Date.now()).slice(-7);
  const relay = await startMailRelay(smtpPort);
  const page = await open('password', PHONE);
  const elsewhere = await open('password elsewhere');
  try {
    await step('a customer signs up on her phone, and is logged in on another page too', async () => {
      await page.goto('/');
      await page.getByRole('button', { name: 'Create an account' }).click();
      await page.getByLabel('Name').fill(eve.name);
      await page.getByLabel('Email').fill(eve.email);
      await page.getByLabel('Password').fill(eve.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('heading', { name: 'Order food and more' }).waitFor();
      await elsewhere.goto('/');
      await logIn(elsewhere, eve);
      await elsewhere.getByRole('heading', { name: 'Order food and more' }).waitFor();
    });

    let link;
    await step('she forgets her password: the login form sends her a link by email', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByRole('button', { name: 'Forgot password?' }).click();
      await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
      await page.getByLabel('Email').fill(eve.email);
      await page.getByRole('button', { name: 'Send me a link' }).click();
      await page.getByRole('status').getByText(`If an account has the address ${eve.email}`).waitFor();
      await accessible(page, 'forgotten password');
      await fits(page, 'the forgotten-password form');
      await screenshot(page, 'customer-forgot-password');
      link = await eventually('the mail with the link', () => resetLink(relay, eve.email));
      if (!link.startsWith(`${base}/#/reset?token=ordo_pr_`)) throw new Error(`the link leads elsewhere: ${link}`);
    });

    await step('the link sets a new password, and the session on the other page ends', async () => {
      await page.goto(link);
      await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
      await page.getByLabel('New password').fill(renewed);
      await accessible(page, 'new password');
      // The other page's live stream ends and its tokens are refused: it asks to log in again.
      await tolerating(/status of 401/, async () => {
        await page.getByRole('button', { name: 'Set the password' }).click();
        await page.getByRole('status').getByText('Your new password is set').waitFor();
        await screenshot(page, 'customer-password-reset');
        await elsewhere.getByRole('heading', { name: 'Log in' }).waitFor();
        await elsewhere.getByRole('status').getByText('Your session has ended').waitFor();
      });
    });

    await step('the old password is refused, the new one logs in', async () => {
      await page.getByRole('link', { name: 'Log in with the new password' }).click();
      await tolerating(/status of 401/, async () => {
        await logIn(page, eve);
        await page.getByRole('alert').getByText('the email address or the password is wrong').waitFor();
      });
      await logIn(page, { ...eve, password: renewed });
      await page.getByRole('heading', { name: 'Order food and more' }).waitFor();
    });

    let me;
    await step('she saves a phone number and chooses text messages for order updates', async () => {
      await page.getByRole('link', { name: 'Account' }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      await page.getByLabel('Phone number').fill(`+49 151 ${digits}`);
      await page.getByRole('button', { name: 'Save the phone number' }).click();
      const phone = page.getByRole('form', { name: 'Phone' });
      await phone.getByRole('status').getByText('Saved.').waitFor();
      const choices = page.getByRole('form', { name: 'How we tell you' });
      await choices.getByLabel('Order updates by text message').check();
      await choices.getByRole('button', { name: 'Save the choices' }).click();
      await choices.getByRole('status').getByText('Saved.').waitFor();
      await accessible(page, 'account settings');
      await fits(page, 'the account settings');
      await screenshot(page, 'customer-account');
      me = await call(await tokenOf({ ...eve, password: renewed }), 'GET', '/me');
      if (me.phone !== `+49151${digits}`) throw new Error(`the profile's phone is ${me.phone}`);
    });

    await step('her next order comes as a text, which the console shows', async () => {
      await orderPizza(await tokenOf({ ...eve, password: renewed }), `sms-${unique}`);
      const ops = await open('text messages', { width: 1440, height: 1000 });
      await ops.goto('/ops');
      await logIn(ops, admin);
      const texts = ops.getByRole('region', { name: 'Text messages' });
      const text = texts.locator(`[data-user="${me.id}"]`).filter({ hasText: 'placed' }).first();
      await text.waitFor({ timeout: 30_000 });
      await text.getByText(`+49151${digits}`).waitFor();
      await text.getByText('sent (sandbox)').waitFor();
      await accessible(ops, 'console with text messages');
      await screenshot(ops, 'ops-text-messages');
      await ops.context().close();
      pages.delete('text messages');
    });

    await step('on a 360 px phone the notifications panel fits, and marks all read', async () => {
      const bell = page.getByRole('button', { name: /^Notifications, [1-9]\d* unread$/ });
      await bell.click();
      const panel = page.getByRole('region', { name: 'Notifications' });
      await panel.getByText(/placed/).first().waitFor();
      const box = await panel.boundingBox();
      if (box.x < 0 || box.x + box.width > PHONE.width) {
        throw new Error(`the panel spans ${Math.round(box.x)}–${Math.round(box.x + box.width)} px of a ${PHONE.width} px screen`);
      }
      await fits(page, 'the page with the notifications open');
      await accessible(page, 'notifications panel at 360 px');
      await screenshot(page, 'customer-notifications-360');
      await panel.getByRole('button', { name: 'Mark all read' }).click();
      await page.getByRole('button', { name: 'Notifications, 0 unread' }).waitFor();
      const unread = await call(await tokenOf({ ...eve, password: renewed }), 'GET', '/notifications?unread=true');
      if (unread.items.length > 0) throw new Error(`${unread.items.length} notification(s) still unread`);
    });
  } finally {
    relay.close();
    for (const [name, opened] of [['password', page], ['password elsewhere', elsewhere]]) {
      await opened.context().close();
      pages.delete(name);
    }
  }
}
