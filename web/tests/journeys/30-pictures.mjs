// Pictures: the customer sees the demo city's merchants and dishes with their pictures
// (each one loaded, not a broken image); a new merchant gives a dish and the shop pictures
// from the menu editor, and the customer sees them on the menu; a file too large and one
// that is not a picture are refused with words that say so, and change nothing.

import { deflateSync, crc32 } from 'node:zlib';
import {
  accessible, asPage, call, open, screenshot, signUp, step, tokenOf, tolerating, unique,
} from '../lib.mjs';

const MAX_UPLOAD = 5 * 1024 * 1024;

/** A PNG `width` by `height` whose colours `pixel(x, y)` gives as [r, g, b]. */
function png(width, height, pixel) {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const start = y * (width * 3 + 1);
    for (let x = 0; x < width; x += 1) rows.set(pixel(x, y), start + 1 + x * 3);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), data])));
    return Buffer.concat([length, Buffer.from(type), data, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Every picture `images` finds is loaded and decoded: its natural width, at least 1. */
async function loaded(images, what) {
  await images.first().waitFor({ state: 'attached' }).catch(() => {
    throw new Error(`no picture of ${what} is shown`);
  });
  const count = await images.count();
  for (let i = 0; i < count; i += 1) {
    const image = images.nth(i);
    await image.scrollIntoViewIfNeeded();
    const width = await image.evaluate((img) => img.decode().then(() => img.naturalWidth, () => 0));
    if (!(width > 0)) throw new Error(`a picture of ${what} did not load: ${await image.getAttribute('src')}`);
  }
  return count;
}

export async function run() {
  const customer = await open('customer pictures', { width: 390, height: 844 });
  const merchant = await open('merchant pictures');
  const shop = `Bildbäckerei ${unique}`;
  const owner = { email: `baker-${unique}@example.com`, password: 'a long enough password' };
  let merchantId;

  await step('the customer sees the demo city with its pictures', async () => {
    await customer.goto('/');
    await signUp(customer, { name: 'Pia Pictures', email: `pia-${unique}@example.com`, password: 'a long enough password' });
    const luigi = customer.getByRole('listitem').filter({ has: customer.getByRole('link', { name: 'Trattoria Luigi' }) });
    await loaded(luigi.locator('img.banner'), 'Trattoria Luigi in the list');
    await customer.getByRole('link', { name: 'Trattoria Luigi' }).click();
    await customer.getByRole('button', { name: 'Add Tiramisù to the cart' }).waitFor();
    const dishes = await loaded(customer.locator('main img.thumb'), 'the menu');
    if (dishes !== 5) throw new Error(`${dishes} dishes of 5 have a picture`);
    await loaded(customer.locator('main img.banner'), 'the trattoria on its page');
    const wider = await customer.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (wider > 0) throw new Error(`the menu is ${wider} px wider than the phone`);
    await accessible(customer, 'customer menu with pictures');
    await screenshot(customer, 'customer-menu-pictures');
  });

  await step('search results show the pictures of what they found', async () => {
    await customer.goto('/');
    await customer.getByLabel('Search dishes and merchants').fill('tiramisu');
    await customer.getByRole('button', { name: 'Search' }).click();
    const results = customer.getByRole('region', { name: 'Search results' });
    await results.getByRole('link', { name: 'Tiramisù' }).waitFor();
    await loaded(results.locator('img.thumb'), 'the search results');
    // A hit leads to its merchant's menu.
    await results.getByRole('link', { name: 'Tiramisù' }).click();
    await customer.getByRole('button', { name: 'Add Tiramisù to the cart' }).waitFor();
  });

  await step('a new merchant gives a dish and the shop pictures in the menu editor', async () => {
    await merchant.goto('/merchant#/menu');
    await signUp(merchant, { name: 'Bruno Baker', ...owner });
    await merchant.getByText('You do not work for any merchant yet').waitFor();
    // Merchants are created through the API.
    const created = await call(await tokenOf(owner), 'POST', '/merchants', {
      name: shop, kind: 'shop', address: 'Torstraße 1, 10119 Berlin', lat: 52.529, lon: 13.401,
    });
    merchantId = created.id;
    await merchant.reload();
    await merchant.getByRole('heading', { name: `Menu of ${shop}` }).waitFor();
    await merchant.getByLabel('Name', { exact: true }).fill('Focaccia');
    await merchant.getByLabel('Category', { exact: true }).fill('Bread');
    await merchant.getByLabel('Price (EUR)').fill('3.80');
    await merchant.getByRole('button', { name: 'Add to the menu' }).click();
    const row = merchant.getByRole('row', { name: /Focaccia/ });
    await row.getByLabel('A picture of Focaccia').setInputFiles({
      name: 'focaccia.png', mimeType: 'image/png', buffer: png(640, 480, (x, y) => [200, 150 + (x % 60), 60 + (y % 90)]),
    });
    await row.getByLabel('Another picture of Focaccia').waitFor();
    await loaded(row.locator('img.thumb'), 'the focaccia in the editor');
    await merchant.getByLabel(`A picture of ${shop}`).setInputFiles({
      name: 'shop.png', mimeType: 'image/png', buffer: png(1200, 600, (x) => [40, 90 + (x % 120), 160]),
    });
    await merchant.getByLabel(`Another picture of ${shop}`).waitFor();
    await accessible(merchant, 'merchant menu with pictures');
    await screenshot(merchant, 'merchant-menu-pictures');
  });

  await step('the customer sees the new pictures on the shop\'s menu', async () => {
    const { items: [focaccia] } = await asPage(customer, `/merchants/${merchantId}/products`);
    if (!focaccia.image) throw new Error('the focaccia has no picture');
    await customer.goto('/#/');
    const card = customer.getByRole('listitem').filter({ has: customer.getByRole('link', { name: shop }) });
    await loaded(card.locator('img.banner'), 'the shop in the list');
    await customer.getByRole('link', { name: shop }).click();
    await customer.getByRole('button', { name: 'Add Focaccia to the cart' }).waitFor();
    const thumb = customer.locator('main li').filter({ hasText: 'Focaccia' }).locator('img.thumb');
    await loaded(thumb, 'the focaccia on the menu');
    const src = await thumb.getAttribute('src');
    if (src !== focaccia.image.thumb_url) throw new Error(`the menu shows ${src}, not ${focaccia.image.thumb_url}`);
  });

  await step('a file too large and one that is not a picture are refused in words', async () => {
    const row = merchant.getByRole('row', { name: /Focaccia/ });
    const input = row.getByLabel('Another picture of Focaccia');
    const before = (await asPage(merchant, `/merchants/${merchantId}/products`)).items[0].image;
    await tolerating(/status of 41[35]/, async () => {
      const large = Buffer.alloc(MAX_UPLOAD + 1);
      large.set([0xff, 0xd8, 0xff]);
      await input.setInputFiles({ name: 'huge.jpg', mimeType: 'image/jpeg', buffer: large });
      await row.getByRole('alert').getByText('This picture is larger than 5 MB.').waitFor();
      await input.setInputFiles({ name: 'menu.png', mimeType: 'image/png', buffer: Buffer.from('Focaccia, 3.80 EUR') });
      await row.getByRole('alert').getByText('This file is not a PNG picture.').waitFor();
    });
    const after = (await asPage(merchant, `/merchants/${merchantId}/products`)).items[0].image;
    if (after?.url !== before.url) throw new Error('a refused file changed the picture');
    await accessible(merchant, 'merchant menu with a refused picture');
    await screenshot(merchant, 'merchant-picture-refused');
  });
}
