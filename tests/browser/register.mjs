// Registers for an event in headless Chromium, as a person would: reads the form by its labels,
// sends it once with a mistake, corrects it, lands on the ticket page and keeps the QR code.
//
//   node register.mjs BASE_URL SLUG OUTDIR
//
// Debian's Chromium (/usr/bin/chromium, or $ADMIT_CHROMIUM) is driven by playwright-core, which
// brings no browser of its own. playwright-core is looked up in $ADMIT_BROWSER_MODULES (the
// folder where `npm ci` ran: the build tree under ctest) or next to this file. Screenshots and
// the two QR images (the QR element as the page shows it, and qr.png downloaded through the
// page's link) go to OUTDIR. The last line of stdout is a JSON summary for run.py; any failed
// expectation exits 1 with one line on stderr.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.ADMIT_BROWSER_MODULES || here;
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');

const [base, slug, outdir] = process.argv.slice(2);
if (!base || !slug || !outdir) {
  console.error('usage: node register.mjs BASE_URL SLUG OUTDIR');
  process.exit(2);
}
fs.mkdirSync(outdir, { recursive: true });

class Failure extends Error {}
function expect(condition, message) {
  if (!condition) throw new Failure(message);
}

const TIMEOUT = 60000; // generous: the ASan build and a busy 2-core machine are slow
const browser = await chromium.launch({
  executablePath: process.env.ADMIT_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: TIMEOUT,
});
const summary = { console: [], posts: [] };
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                             acceptDownloads: true, locale: 'en-GB' });
  context.setDefaultTimeout(TIMEOUT);
  page = await context.newPage();
  // The pages carry no script; a CSP refusal (an inline style, a foreign image) shows here.
  page.on('console', (m) => summary.console.push(`${m.type()}: ${m.text()}`));
  page.on('response', async (r) => {
    if (r.request().method() === 'POST') {
      const headers = await r.request().allHeaders();
      const where = new URL(r.url()).pathname.replace(/\/tickets\/[^/]+/, '/tickets/T');
      summary.posts.push({ url: where,
                           status: r.status(), origin: headers.origin ?? null,
                           secFetchSite: headers['sec-fetch-site'] ?? null });
    }
  });
  const submit = async () => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Register' }).click(),
    ]);
    await page.waitForLoadState('load');
    return response;
  };
  const explainRefusal = async (response) => {
    if (response.status() !== 403) return '';
    const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    const sent = await response.request().allHeaders();
    return ` (403 "${text.slice(0, 160)}"; the browser sent Origin: ${sent.origin}, ` +
           `Sec-Fetch-Site: ${sent['sec-fetch-site']})`;
  };

  // The event page and its form.
  const first = await page.goto(`${base}/events/${slug}`);
  expect(first.status() === 200, `GET /events/${slug}: ${first.status()}`);
  await page.getByRole('heading', { name: 'Registration', exact: true }).waitFor();
  await page.screenshot({ path: path.join(outdir, 'form.png'), fullPage: true });

  // Sent with mistakes: only a given name and a malformed email address.
  await page.getByLabel('Given name').fill('Ada');
  await page.getByLabel('Email address').fill('ada.example.org');
  let response = await submit();
  expect(response.status() === 422,
         `the incomplete form got ${response.status()}, not 422${await explainRefusal(response)}`);
  const errors = page.locator('.error-summary');
  await errors.waitFor({ state: 'visible' });
  expect(await errors.evaluate((el) => el === document.activeElement),
         'the error summary is not focused');
  const box = await errors.boundingBox();
  expect(box && box.y < 900 && box.y + box.height > 0, 'the error summary is not in view');
  const errorText = await errors.innerText();
  for (const message of ['Enter your family name', 'Enter an email address like name@example.org',
                         'Agree to the privacy notice']) {
    expect(errorText.includes(message), `the error summary lacks "${message}": ${errorText}`);
  }
  expect(await page.getByLabel('Given name').inputValue() === 'Ada', 'the given name was lost');
  const emailField = page.getByLabel('Email address');
  expect(await emailField.getAttribute('aria-invalid') === 'true', 'email not aria-invalid');
  const describedBy = (await emailField.getAttribute('aria-describedby')) || '';
  expect(describedBy.split(' ').includes('error-email'), `email aria-describedby: ${describedBy}`);
  await page.screenshot({ path: path.join(outdir, 'form-errors.png'), fullPage: false });
  // The summary's link leads to the field.
  await errors.getByRole('link', { name: /Enter your family name/ }).click();
  expect(page.url().endsWith('#field-family_name'), `the link went to ${page.url()}`);

  // Corrected and completed, like a person: by the labels.
  await page.getByLabel('Family name').fill('Lovelace');
  await emailField.fill('ada.browser@example.org');
  await page.getByLabel(/^Organisation/).fill('Analytical Engine Society');
  await page.getByLabel('Type of organisation')
    .selectOption({ label: 'University or research organisation' });
  await page.getByLabel('Country').selectOption({ label: 'Belgium' });
  await page.getByLabel('Day 1').check();
  await page.getByLabel('Cluster session').check();
  await page.getByLabel('Dietary requirements').fill('Vegetarian, no nuts');
  await page.getByLabel(/I agree that the organisers store my registration/).check();
  response = await submit();
  expect(response.status() === 303 || page.url().includes('/tickets/'),
         `the completed form got ${response.status()}${await explainRefusal(response)}`);
  await page.waitForURL(/\/tickets\/[A-Za-z0-9_-]{22}\?welcome=1$/);
  summary.ticket_url = page.url();

  // The ticket page: a visible QR code.
  await page.getByText('You are registered').waitFor();
  const qr = page.getByRole('img', { name: 'Ticket QR code' });
  await qr.waitFor({ state: 'visible' });
  const qrBox = await qr.boundingBox();
  expect(qrBox.width >= 150 && qrBox.height >= 150,
         `the QR code is small: ${JSON.stringify(qrBox)}`);
  expect(await page.getByText('Ada Lovelace').isVisible(), 'the name is not on the ticket');
  await page.screenshot({ path: path.join(outdir, 'ticket.png'), fullPage: true });
  summary.qr_element = path.join(outdir, 'qr-element.png');
  await qr.screenshot({ path: summary.qr_element });
  // qr.png through the page's own link (a download).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the QR code as PNG' }).click(),
  ]);
  summary.qr_download = path.join(outdir, 'qr-download.png');
  await download.saveAs(summary.qr_download);
  summary.download_name = download.suggestedFilename();
  console.log(JSON.stringify(summary));
} catch (e) {
  if (page) {
    await page.screenshot({ path: path.join(outdir, 'failure.png'), fullPage: true })
      .catch(() => {});
  }
  console.log(JSON.stringify(summary));
  console.error(e instanceof Failure ? `register.mjs: ${e.message}` : e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
