// Nobody is left stuck: a kitchen sees at once that an order it holds was cancelled; and
// for a delivery nobody took, an offer left unanswered leaves the courier's screen at its
// expiry, the delivery is offered to a courier who comes online later, and an operator
// gives it to a courier by hand from the console — while that courier's phone has lost the
// network, and shows the delivery within seconds of its return.
//
// The server runs with `delivery.offer_secs` 15 and `delivery.reoffer_after_secs` 5
// (app/tests/browser.rs): an offer expires within the journey's patience.

import {
  accessible, account, call, logIn, open, pages, screenshot, step, tokenOf, tolerating, unique,
} from '../lib.mjs';

const MEI = { lat: 52.5246, lon: 13.4020 };
const OFFER_SECS = 15;

/** A courier who signs up on a phone and goes online at Mei's noodle bar. */
async function courierOnline(name) {
  const page = await open(`courier ${name}`, { width: 390, height: 844 });
  await page.goto('/courier');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill(`${name} Courier`);
  await page.getByLabel('Email').fill(`${name.toLowerCase()}-${unique}@example.com`);
  await page.getByLabel('Password').fill('a long enough password');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('button', { name: 'Go online' }).click();
  await page.getByRole('heading', { name: 'Online' }).waitFor();
  await page.getByLabel('Or set it').fill(`${MEI.lat}, ${MEI.lon}`);
  await page.getByRole('button', { name: 'Set position' }).click();
  return page;
}

/** The order's offer on a courier's screen: the card with its pick-up at Mei's. */
const offerCard = (page) => page.getByRole('article', { name: 'Offer' }).filter({ hasText: "Mei's" });

export async function run() {
  const customer = account('ada@demo.ordo.dev');
  const mei = account('mei@demo.ordo.dev');
  const admin = account('admin@demo.ordo.dev');
  if (!customer || !mei || !admin) throw new Error('the demo accounts were not given (ORDO_WEB_DEMO)');
  let token;
  let meiToken;
  /** A delivery order of the demo customer at Mei's, once paid: its id. */
  async function paidAtMei(key) {
    const [merchant] = (await call(meiToken, 'GET', '/me/merchants')).items;
    const products = await call(null, 'GET', `/merchants/${merchant.id}/products`);
    const [address] = (await call(token, 'GET', '/me/addresses')).items;
    const [card] = (await call(token, 'GET', '/me/payment-methods')).items;
    const placed = await call(token, 'POST', '/orders', {
      items: [{ product_id: products.items[0].id, quantity: 1 }],
      fulfilment: 'delivery',
      address_id: address.id,
      payment_method_id: card.id,
    }, { 'idempotency-key': `${key}-${unique}` });
    for (let look = 0; (await call(token, 'GET', `/orders/${placed.id}`)).status !== 'paid'; look += 1) {
      if (look > 300) throw new Error('the order was not paid within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return placed.id;
  }

  await step('a ticket whose order the customer cancels stays on the board a minute, struck through', async () => {
    token = await tokenOf(customer);
    meiToken = await tokenOf(mei);
    const board = await open('merchant Mei');
    await board.goto('/merchant');
    await logIn(board, mei);
    await board.getByRole('status').getByText('Live').waitFor();
    const gone = await paidAtMei('cancelled');
    await board.locator(`[data-order="${gone}"]`).getByRole('button', { name: 'Accept' }).waitFor();
    await call(token, 'POST', `/orders/${gone}/cancel`);
    const struck = board.getByRole('region', { name: 'Cancelled' }).getByRole('article', { name: `Order ${gone.slice(-8)}, cancelled` });
    await struck.getByText('Cancelled by the customer').waitFor();
    await accessible(board, 'merchant board with a cancelled ticket');
    await screenshot(board, 'merchant-ticket-cancelled');
    await board.context().close();
    pages.delete('merchant Mei');
  });

  let order;
  await step('a delivery order at Mei\'s is paid and accepted', async () => {
    order = await paidAtMei('stuck');
    await call(meiToken, 'POST', `/orders/${order}/accept`);
  });

  let dora;
  await step('an offer nobody answers leaves the courier\'s screen at its expiry', async () => {
    dora = await courierOnline('Dora');
    const card = offerCard(dora);
    await card.waitFor({ timeout: 30_000 });
    await accessible(dora, 'courier app with an offer');
    await screenshot(dora, 'courier-offer-counting-down');
    const { items } = await dora.evaluate(async () => {
      const { access_token: token } = JSON.parse(localStorage.getItem('ordo.session'));
      const response = await fetch('/api/v1/courier/offers', { headers: { authorization: `Bearer ${token}` } });
      return response.json();
    });
    const expiresAt = Date.parse(items.find((o) => o.order_id === order).expires_at);
    await card.waitFor({ state: 'detached', timeout: (OFFER_SECS + 5) * 1000 });
    const late = Date.now() - expiresAt;
    if (late > 2_500) throw new Error(`the expired offer stayed ${late} ms on the screen`);
    await dora.getByText('Waiting for offers…').waitFor();
    await dora.getByRole('button', { name: 'Go offline' }).click();
    await dora.getByRole('heading', { name: 'Offline' }).waitFor();
  });

  await step('a courier who comes online later is offered the delivery', async () => {
    const erik = await courierOnline('Erik');
    const card = offerCard(erik);
    // Those asked before rest first; the offers out now run out, then Erik is asked.
    await card.waitFor({ timeout: (2 * OFFER_SECS + 10) * 1000 });
    await screenshot(erik, 'courier-offered-later');
    await card.getByRole('button', { name: 'Decline' }).click();
    await card.waitFor({ state: 'detached' });
    // Couriers choose how they are told of offers, as everyone does.
    await erik.getByRole('link', { name: 'Account' }).click();
    await erik.getByRole('heading', { name: 'Your account' }).waitFor();
    await accessible(erik, 'courier account');
    await erik.context().close();
    pages.delete('courier Erik');
  });

  await step('the operator gives the delivery to a courier whose phone lost the network; it shows within 3 s of its return', async () => {
    await dora.getByRole('button', { name: 'Go online' }).click();
    await dora.getByRole('heading', { name: 'Online' }).waitFor();
    const ops = await open('operator', { width: 1440, height: 900 });
    await ops.goto('/ops');
    await logIn(ops, admin);
    const row = ops.locator(`[data-delivery="${order}"]`);
    await row.waitFor();
    const short = order.slice(-8);
    const choice = row.getByLabel(`Courier for order ${short}`);
    // Dora is at the shop, nearest of all: first in the list.
    await choice.locator('option', { hasText: 'Dora Courier' }).waitFor({ state: 'attached' });
    await accessible(ops, 'console with a delivery to rescue');
    await screenshot(ops, 'ops-delivery-rescue');
    await tolerating(/ERR_INTERNET_DISCONNECTED|Failed to fetch|net::ERR/, async () => {
      try {
        await dora.context().setOffline(true);
        await dora.getByRole('status').getByText('Reconnecting…').waitFor();
        if (await dora.getByRole('alert').count() > 0) throw new Error('a lost network shows as an error');
        await screenshot(dora, 'courier-reconnecting');
        const value = await choice.locator('option', { hasText: 'Dora Courier' }).getAttribute('value');
        await choice.selectOption(value);
        await row.getByRole('button', { name: `Assign order ${short} to the chosen courier` }).click();
        await ops.locator(`[data-delivery="${order}"]`).getByText('Dora Courier').waitFor();
        // Ten seconds without a network, as in a tunnel.
        await new Promise((resolve) => setTimeout(resolve, 10_000));
      } finally {
        await dora.context().setOffline(false);
      }
      const back = Date.now();
      await dora.getByRole('article', { name: 'Current delivery' }).waitFor({ timeout: 3_000 });
      await dora.getByRole('status').getByText('Reconnecting…').waitFor({ state: 'detached', timeout: 3_000 });
      await dora.getByRole('heading', { name: 'Online' }).waitFor({ timeout: 1_000 });
      console.log(`     the courier app caught up ${Date.now() - back} ms after the network came back`);
    });
    await screenshot(dora, 'courier-caught-up');
  });

  await step('the operator refunds part of a completed order, after saying how much', async () => {
    const ops = pages.get('operator');
    // The main story's orders were completed (and charged) long ago.
    const first = ops.getByRole('button', { name: /^Refund… order / }).first();
    const short = (await first.getAttribute('aria-label')).split(' ').at(-1);
    await first.click();
    const asked = ops.getByRole('group', { name: `Refund order ${short}` });
    await asked.getByLabel('Amount (EUR)').fill('2.00');
    await asked.getByRole('button', { name: 'Refund €2.00' }).click();
    await ops.getByRole('status').getByText('Refunded €2.00').waitFor();
    await screenshot(ops, 'ops-refund');
    await ops.context().close();
    pages.delete('operator');
  });
}
