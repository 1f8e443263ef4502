// The organisers' area in headless Chromium, as an organiser at the door would use it: logs in,
// finds an attendee by name, checks them in by hand (their phone died), watches the live door
// view update without a reload while a second attendee is checked in from another tab, and
// keeps screenshots of the live view and of the arrivals chart.
//
//   node admin.mjs BASE_URL SLUG EMAIL PASSWORD OUTDIR
//   node admin.mjs --secure-cookie BASE_URL EMAIL PASSWORD
//
// The second form only logs in to a server started with an https --public-url (talking plain
// http to it on loopback, which Chromium treats as a secure context) and reports the cookies
// Chromium kept and where the login landed: the __Host-admit_session variant, end to end.
//
// Reads the password from the command line only because run by admin.py on a throwaway
// database. Debian's Chromium (/usr/bin/chromium, or $ADMIT_CHROMIUM) through playwright-core,
// looked up in $ADMIT_BROWSER_MODULES or next to this file. The last line of stdout is a JSON
// summary for admin.py; a failed expectation exits 1 with one line on stderr.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.ADMIT_BROWSER_MODULES || here;
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');

if (process.argv[2] === '--secure-cookie') {
  const [secureBase, secureEmail, securePassword] = process.argv.slice(3);
  const b = await chromium.launch({
    executablePath: process.env.ADMIT_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await b.newContext();
  const p = await context.newPage();
  await p.goto(`${secureBase}/admin/login`);
  await p.getByLabel('Email address').fill(secureEmail);
  await p.getByLabel('Password').fill(securePassword);
  const [response] = await Promise.all([
    p.waitForResponse((r) => r.request().method() === 'POST'),
    p.getByRole('button', { name: 'Log in' }).click(),
  ]);
  await p.waitForLoadState('load');
  const result = { post_status: response.status(),
                   set_cookie: (await response.allHeaders())['set-cookie'] ?? '',
                   cookies: (await context.cookies()).map((c) => c.name),
                   landed_on: new URL(p.url()).pathname };
  await b.close();
  console.log(JSON.stringify(result));
  process.exit(0);
}

const [base, slug, email, password, outdir] = process.argv.slice(2);
if (!base || !slug || !email || !password || !outdir) {
  console.error('usage: node admin.mjs BASE_URL SLUG EMAIL PASSWORD OUTDIR');
  process.exit(2);
}
fs.mkdirSync(outdir, { recursive: true });

class Failure extends Error {}
function expect(condition, message) {
  if (!condition) throw new Failure(message);
}

const TIMEOUT = 60000;
const browser = await chromium.launch({
  executablePath: process.env.ADMIT_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: TIMEOUT,
});
const summary = { console: [], screenshots: {}, failed: [] };
let page;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                             locale: 'en-GB' });
  context.setDefaultTimeout(TIMEOUT);
  page = await context.newPage();
  page.on('console', (m) => summary.console.push(`${m.type()}: ${m.text()}`));
  // Answers of 400 and more, to tell the expected ones (the wrong password) from others.
  context.on('response', (r) => {
    if (r.status() >= 400) {
      summary.failed.push(`${r.request().method()} ${new URL(r.url()).pathname} ${r.status()}`);
    }
  });
  const shot = async (p, name, options = {}) => {
    const file = path.join(outdir, name);
    await p.screenshot({ path: file, ...options });
    summary.screenshots[name] = file;
  };

  // Not logged in: the admin area sends us to the login page, which brings us back.
  await page.goto(`${base}/admin/events/${slug}`);
  expect(new URL(page.url()).pathname === '/admin/login',
         `expected the login page, got ${page.url()}`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText('The email address or the password is not right.').waitFor();
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/admin/events/${slug}`);
  const cookies = await context.cookies();
  summary.cookies = cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly,
                                          sameSite: c.sameSite, secure: c.secure }));
  await page.getByRole('heading', { level: 1 }).waitFor();

  // Find the attendee by name and check them in on Day 1.
  await page.getByRole('link', { name: 'Attendees' }).click();
  await page.getByLabel('Name, email or organisation').fill('hopper');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('1 matching registrations').waitFor();
  await page.getByRole('link', { name: 'Hopper, Grace' }).click();
  await page.getByRole('heading', { name: /Grace Hopper/ }).waitFor();
  await page.getByRole('button', { name: 'Check in… on Day 1' }).click();
  // The confirmation page says what will happen; the organiser confirms.
  await page.getByRole('heading', { name: 'Check in Grace Hopper on Day 1?' }).waitFor();
  await shot(page, 'confirm.png', { fullPage: true });
  await page.getByRole('button', { name: 'Yes, check them in' }).click();
  await page.getByText('Checked in.', { exact: true }).waitFor();
  const row = page.getByRole('row', { name: /Day 1/ }).first();
  expect((await row.innerText()).includes('✓'), 'the Day 1 row does not show the check-in');
  await shot(page, 'attendee.png', { fullPage: true });

  // The live door view: 1 checked in on Day 1, then 2 without a reload when someone else is
  // checked in from another tab.
  await page.getByRole('link', { name: 'Live door view' }).click();
  await page.getByRole('heading', { name: 'Live door view' }).waitFor();
  const cell = page.locator('td[data-field="checked_in"]').first();
  expect((await cell.innerText()).trim() === '1', `checked in: ${await cell.innerText()}`);
  await page.getByText(/Figures as of \d\d:\d\d:\d\d, updated every 5 seconds/).waitFor();
  const loadedAt = await page.evaluate(() => performance.timeOrigin);

  const other = await context.newPage();
  await other.goto(`${base}/admin/events/${slug}/attendees?q=lovelace`);
  await other.getByRole('link', { name: 'Lovelace, Ada' }).click();
  await other.getByRole('button', { name: 'Check in… on Day 1' }).click();
  await other.getByRole('button', { name: 'Yes, check them in' }).click();
  await other.getByText('Checked in.', { exact: true }).waitFor();
  await other.close();

  await page.waitForFunction(
    () => document.querySelector('td[data-field="checked_in"]').textContent.trim() === '2',
    null, { timeout: 20000 });
  expect(await page.evaluate(() => performance.timeOrigin) === loadedAt,
         'the live view reloaded instead of updating');
  summary.live_updated = true;

  // The chart is an image the server drew; it loaded and has a size.
  const chart = page.locator('#arrivals-chart');
  await chart.scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const img = document.getElementById('arrivals-chart');
    return img.complete && img.naturalWidth > 0;
  });
  summary.chart_width = await chart.evaluate((img) => img.naturalWidth);
  await shot(page, 'live.png', { fullPage: true });
  await chart.screenshot({ path: path.join(outdir, 'arrivals-chart.png') });
  summary.screenshots['arrivals-chart.png'] = path.join(outdir, 'arrivals-chart.png');
  const svg = await page.goto(`${base}/admin/events/${slug}/arrivals.svg`);
  expect(svg.status() === 200, `arrivals.svg: ${svg.status()}`);
  await shot(page, 'arrivals.png');

  // Cancelling asks first, in words, and happens once confirmed.
  await page.goto(`${base}/admin/events/${slug}/attendees?q=turing`);
  await page.getByRole('link', { name: 'Turing, Alan' }).click();
  await page.getByRole('button', { name: 'Cancel the registration…' }).click();
  await page.getByRole('heading', { name: 'Cancel the registration of Alan Turing?' }).waitFor();
  await page.getByText('Alan gets an email at alan@example.org').waitFor();
  await shot(page, 'confirm-cancel.png', { fullPage: true });
  await page.getByRole('button', { name: 'Yes, cancel the registration' }).click();
  await page.getByText('The registration is cancelled.', { exact: true }).waitFor();
  expect(!(await page.getByRole('button', { name: /Reissue|Cancel the registration/ }).count()),
         'a cancelled registration still offers actions');
  summary.cancelled = true;

  // Logging out ends the session: the admin area asks for a login again.
  await page.goto(`${base}/admin`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText('You are logged out.').waitFor();
  await page.goto(`${base}/admin`);
  expect(new URL(page.url()).pathname === '/admin/login', 'still logged in after logout');
  summary.ok = true;
} catch (error) {
  if (page) {
    await page.screenshot({ path: path.join(outdir, 'failure.png'), fullPage: true })
      .catch(() => {});
  }
  console.error(`admin.mjs: ${error instanceof Failure ? '' : 'unexpected: '}${error.message}`);
  console.log(JSON.stringify(summary));
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(JSON.stringify(summary));
