// An operator finds an order by its customer's email and reads its whole story. A customer
// of her own places an order (through the API); in the console, "Find an order" with her
// email lists it with her name and the merchant; its page shows the order and a timeline
// with entries from orders (with trace ids), payments and notifications, in time order.
// Axe-clean at 1440 px; the order page fits a 360 px phone.

import {
  accessible, account, call, logIn, open, orderPizza, pages, screenshot, step, tokenOf, unique,
} from '../lib.mjs';

const WIDE = { width: 1440, height: 1000 };

export async function run() {
  const admin = account('admin@demo.ordo.dev');
  if (!admin) throw new Error('the demo accounts were not given (ORDO_WEB_DEMO)');
  const grace = { name: `Grace Hopper ${unique}`, email: `grace-${unique}@example.com`, password: 'a long enough password' };
  let order;
  await step('a customer places an order', async () => {
    await call(null, 'POST', '/auth/register', { ...grace, role: 'customer' });
    order = await orderPizza(await tokenOf(grace), `finds-${unique}`);
  });

  const ops = await open('console orders', WIDE);
  try {
    await step('the operator finds it by the customer\'s email', async () => {
      await ops.goto('/ops');
      await logIn(ops, admin);
      const finder = ops.getByRole('region', { name: 'Find an order' });
      await finder.getByLabel('Reference, id, email, name or merchant').fill(grace.email.toUpperCase());
      await finder.getByRole('button', { name: 'Find' }).click();
      const row = finder.locator(`tr[data-order="${order.id}"]`);
      await row.waitFor();
      await row.getByText(grace.name).waitFor();
      await row.getByText('Trattoria Luigi').waitFor();
      await finder.getByText(`1 order matches “${grace.email.toUpperCase()}”.`).waitFor();
      await accessible(ops, 'console with orders found');
      await screenshot(ops, 'ops-orders-found');
    });

    await step('its page shows the order and its timeline across services', async () => {
      const reference = order.id.slice(-8);
      await ops.getByRole('link', { name: `Order ${reference}` }).click();
      await ops.getByRole('heading', { name: `Order ${reference}` }).waitFor();
      const facts = ops.getByRole('region', { name: 'The order' });
      await facts.getByText(grace.email, { exact: false }).waitFor();
      await facts.getByText('Pizza Margherita').waitFor();
      const timeline = ops.getByRole('region', { name: 'Timeline' });
      // The payment is asked after the checkout; the page reads again until it shows.
      await timeline.locator('li[data-service="payments"]').first().waitFor({ timeout: 30_000 });
      await timeline.locator('li[data-service="notifications"]').first().waitFor({ timeout: 30_000 });
      const placed = timeline.locator('li[data-service="orders"]').first();
      await placed.getByText(/^Placed/).waitFor();
      await placed.getByText(/^trace [0-9a-f]{32}$/).waitFor();
      const instants = await timeline.locator('li').evaluateAll((items) => items.map((li) => Date.parse(li.dataset.at)));
      if (instants.length < 4) throw new Error(`the timeline has ${instants.length} entries`);
      if (instants.some((at, i) => i > 0 && at < instants[i - 1])) throw new Error('the timeline is not in time order');
      await accessible(ops, 'order page');
      await screenshot(ops, 'ops-order-timeline');
      await ops.setViewportSize({ width: 360, height: 780 });
      const wider = await ops.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (wider > 0) throw new Error(`the order page is ${wider} px wider than a 360 px phone`);
      await accessible(ops, 'order page at 360 px');
      await ops.setViewportSize(WIDE);
      await ops.getByRole('link', { name: '← Back to the console' }).click();
      await ops.getByRole('heading', { name: 'Operations' }).waitFor();
    });
  } finally {
    await ops.context().close();
    pages.delete('console orders');
  }
}
