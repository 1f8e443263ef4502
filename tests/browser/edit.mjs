// An attendee changes their registration in headless Chromium, as a person would: from the
// ticket page's "Change my registration", one mistake first (the given name emptied), then the
// family name, the country and the sessions changed and saved; the ticket page then shows the
// change, with the same QR code.
//
//   node edit.mjs BASE_URL TICKET_PATH OUTDIR
//
// Chromium and playwright-core as in register.mjs. Screenshots go to OUTDIR. The last line of
// stdout is a JSON summary for edit.py; any failed expectation exits 1 with one line on stderr.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.ADMIT_BROWSER_MODULES || here;
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');

const [base, ticketPath, outdir] = process.argv.slice(2);
if (!base || !ticketPath || !outdir) {
  console.error('usage: node edit.mjs BASE_URL TICKET_PATH OUTDIR');
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
const summary = { console: [] };
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                             locale: 'en-GB' });
  context.setDefaultTimeout(TIMEOUT);
  page = await context.newPage();
  page.on('console', (m) => summary.console.push(`${m.type()}: ${m.text()}`));
  const save = async () => {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Save the changes' }).click(),
    ]);
    await page.waitForLoadState('load');
    return response;
  };

  // The ticket page says until when changes are possible, and leads to the form.
  const first = await page.goto(`${base}${ticketPath}`);
  expect(first.status() === 200, `GET the ticket: ${first.status()}`);
  const qrBefore = await page.locator('.ticket-qr svg').innerHTML();
  const help = await page.locator('section[aria-labelledby="edit-heading"]').innerText();
  expect(/until \d+ \w+ \d{4}, \d\d:\d\d/.test(help), `no deadline on the ticket page: ${help}`);
  await page.getByRole('link', { name: 'Change my registration' }).click();
  await page.getByRole('heading', { name: 'Change your registration' }).waitFor();
  expect(await page.getByLabel('Given name').inputValue() === 'Ada', 'the form is not filled in');
  expect(await page.getByLabel('Day 1').isChecked(), 'Day 1 is not ticked');
  await page.screenshot({ path: path.join(outdir, 'edit-form.png'), fullPage: true });

  // A mistake: the given name emptied. Nothing is saved; the other changes stay typed.
  await page.getByLabel('Given name').fill('');
  await page.getByLabel('Family name').fill('King');
  let response = await save();
  expect(response.status() === 422, `the form without a given name got ${response.status()}`);
  const errors = page.locator('.error-summary');
  await errors.waitFor({ state: 'visible' });
  expect((await errors.innerText()).includes('Enter your given name'),
         `the error summary: ${await errors.innerText()}`);
  expect(await page.getByLabel('Family name').inputValue() === 'King', 'the family name was lost');
  expect(await page.getByLabel('Given name').getAttribute('aria-invalid') === 'true',
         'the given name is not aria-invalid');
  await page.screenshot({ path: path.join(outdir, 'edit-errors.png'), fullPage: false });

  // Corrected, with other changes: the country and the sessions.
  await page.getByLabel('Given name').fill('Ada');
  await page.getByLabel('Country').selectOption({ label: 'United Kingdom' });
  await page.getByLabel('Day 1').uncheck();
  await page.getByLabel('Day 2').check();
  response = await save();
  expect(response.status() === 303 || page.url().includes('changed=1'),
         `the corrected form got ${response.status()}`);
  await page.waitForURL(/\/tickets\/[A-Za-z0-9_-]{22}\?changed=1$/);
  await page.getByText('Your changes are saved').waitFor();
  expect(await page.getByText('Ada King').isVisible(), 'the new name is not on the ticket');
  const admits = await page.locator('.ticket-lists').innerText();
  expect(admits.includes('Day 2') && !admits.includes('Day 1'), `the ticket admits to ${admits}`);
  const qrAfter = await page.locator('.ticket-qr svg').innerHTML();
  expect(qrAfter === qrBefore, 'the QR code changed');
  await page.screenshot({ path: path.join(outdir, 'ticket-changed.png'), fullPage: true });
  console.log(JSON.stringify(summary));
} catch (e) {
  if (page) {
    await page.screenshot({ path: path.join(outdir, 'failure.png'), fullPage: true })
      .catch(() => {});
  }
  console.log(JSON.stringify(summary));
  console.error(e instanceof Failure ? `edit.mjs: ${e.message}` : e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
