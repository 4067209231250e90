// A second card, a second chance: a customer's card is declined at checkout; the order
// page says so in words and keeps the order (and its cart) while she adds another card and
// pays with it, and follows the order live to paid; the cart empties only then. Adding a
// dish of a second merchant asks her to start a new cart instead of failing at checkout,
// and the checkout lets her remove a card.

import { accessible, asPage, open, screenshot, step, tolerating, unique } from '../lib.mjs';

const DECLINED = '4000 0000 0000 0002';
const GOOD = '4242 4242 4242 4242';

/** Waits until the page's own session reads `check(value)` true at `path`: for what follows an event. */
async function until(page, path, what, check) {
  const deadline = Date.now() + 15_000;
  while (!check(await asPage(page, path))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 15 s`);
    await page.waitForTimeout(100);
  }
}

export async function run() {
  const page = await open('second card', { width: 390, height: 844 });
  await step('a customer signs up and puts a pizza in the cart', async () => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Create an account' }).click();
    await page.getByLabel('Name').fill('Bea Second');
    await page.getByLabel('Email').fill(`bea-${unique}@example.com`);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('link', { name: 'Trattoria Luigi' }).click();
    await page.getByRole('button', { name: 'Add Pizza Margherita to the cart' }).click();
    await page.getByRole('status').getByText('Pizza Margherita is in your cart').waitFor();
  });

  await step('her card is declined: the order page says so in words and keeps the order', async () => {
    await page.getByRole('link', { name: /^Cart/ }).click();
    await page.getByLabel('picked up').check();
    await page.getByLabel('Card number').fill(DECLINED);
    await page.getByRole('button', { name: 'Save the card' }).click();
    await page.getByLabel('Pay with').getByText('visa ·· 0002 (default)').waitFor();
    await page.getByRole('button', { name: 'Place the order' }).click();
    await page.getByRole('heading', { name: /^Order / }).waitFor();
    const failure = page.getByTestId('payment-failure');
    await failure.getByText('Your card was declined. Choose another card to place this order.').waitFor();
    await page.getByTestId('order-status').getByText('payment failed', { exact: true }).waitFor();
    if (await page.getByText('card_declined').count() > 0) throw new Error('the provider\'s code is shown');
    const cart = await asPage(page, '/cart');
    if (cart.items.length !== 1) throw new Error(`the cart holds ${cart.items.length} lines while the order waits`);
    await accessible(page, 'customer order with a declined card');
    const wider = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (wider > 0) throw new Error(`the order page is ${wider} px wider than the phone`);
    await screenshot(page, 'customer-card-declined');
  });

  await step('she adds another card, pays with it, and sees the order paid live', async () => {
    await page.getByRole('button', { name: 'Add another card' }).click();
    await page.getByLabel('Card number').fill(GOOD);
    await page.getByRole('button', { name: 'Save the card' }).click();
    await page.getByLabel('visa ·· 4242 (default)').check();
    await page.getByRole('button', { name: 'Pay with this card' }).click();
    await page.getByTestId('order-status').getByText('paid', { exact: true }).waitFor();
    await page.getByTestId('payment-failure').waitFor({ state: 'detached' });
    await screenshot(page, 'customer-paid-with-another-card');
    await until(page, '/cart', 'the cart is emptied once the order is paid', (cart) => cart.items.length === 0);
  });

  await step('a dish of a second merchant asks to start a new cart', async () => {
    await page.getByRole('link', { name: 'Browse' }).click();
    await page.getByRole('link', { name: 'Trattoria Luigi' }).click();
    await page.getByRole('button', { name: 'Add Tiramisù to the cart' }).click();
    await page.getByRole('status').getByText('Tiramisù is in your cart').waitFor();
    await page.getByRole('link', { name: 'Browse' }).click();
    await page.getByRole('link', { name: 'Kiez Kiosk' }).click();
    const question = page.getByRole('alertdialog', { name: 'Start a new cart at Kiez Kiosk?' });
    // The browser logs the refusal (409) it asks about.
    await tolerating(/status of 409/, async () => {
      await page.getByRole('button', { name: 'Add Dark Chocolate to the cart' }).click();
      await question.getByText('Your cart holds items from Trattoria Luigi; one merchant per order.').waitFor();
    });
    await accessible(page, 'customer asked to start a new cart');
    await screenshot(page, 'customer-start-a-new-cart');
    await question.getByRole('button', { name: 'Start a new cart' }).click();
    await page.getByRole('status').getByText('Dark Chocolate is in your cart').waitFor();
    const cart = await asPage(page, '/cart');
    const names = cart.items.map((item) => item.name).join(', ');
    if (names !== 'Dark Chocolate') throw new Error(`the cart holds ${names}`);
  });

  await step('the checkout lists her cards, newest first, and removes one', async () => {
    await page.getByRole('link', { name: /^Cart/ }).click();
    const cards = page.getByLabel('Pay with');
    await cards.getByText('visa ·· 4242 (default)').waitFor();
    await cards.getByRole('button', { name: 'Remove visa ·· 0002' }).click();
    await cards.getByText('visa ·· 0002').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Add another card' }).waitFor();
    await page.getByRole('button', { name: 'Place the order' }).waitFor();
    await accessible(page, 'customer checkout with cards');
    await screenshot(page, 'customer-checkout-cards');
  });
  await page.context().close();
}
