// Every organiser page on a phone and on a laptop (issue 16): logs in, walks the admin area by
// its own links (every GET page under /admin reachable from /admin, downloads and the logout
// excepted), and at 390 px and 1280 px wide checks that nothing needs sideways scrolling: the
// document is no wider than the window, no element reaches past its right edge, and no table
// scrolls sideways inside its wrapper. Keeps a full-page screenshot of every page at both
// widths.
//
//   node layout.mjs BASE_URL EMAIL PASSWORD OUTDIR
//
// Run by layout.py on a throwaway database (the password on the command line is a test one).
// The last line of stdout is a JSON summary: {pages: [...], problems: [...], ok}.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.ADMIT_BROWSER_MODULES || here;
const require = createRequire(path.join(modules, 'package.json'));
const { chromium } = require('playwright-core');

const [base, email, password, outdir] = process.argv.slice(2);
if (!base || !email || !password || !outdir) {
  console.error('usage: node layout.mjs BASE_URL EMAIL PASSWORD OUTDIR');
  process.exit(2);
}
fs.mkdirSync(outdir, { recursive: true });

const WIDTHS = [390, 1280];
const MAX_PAGES = 40;
const TIMEOUT = 60000;
// Not pages: files, images, the JSON the live view polls, and leaving.
const SKIP = /(\.csv|\.svg|\.png|\.pdf|\.json|\.tar)(\?|$)|\/logout|\/export/;

const browser = await chromium.launch({
  executablePath: process.env.ADMIT_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: TIMEOUT,
});
const summary = { pages: [], problems: [], screenshots: 0 };

// What needs sideways scrolling on the page as laid out now: a list of one-line descriptions.
function overflowing() {
  const width = window.innerWidth;
  const found = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : '') +
    (el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : '');
  if (document.documentElement.scrollWidth > width) {
    found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  }
  const reported = new Set(); // the outermost element that overflows stands for its contents
  for (const el of document.body.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.closest('.visually-hidden, .sr-only')) continue;
    if (r.right > width + 1 && !(el.parentElement && reported.has(el.parentElement))) {
      found.push(`${name(el)} reaches ${Math.round(r.right)} px`);
    }
    if (r.right > width + 1) reported.add(el);
    if ((style.overflowX === 'auto' || style.overflowX === 'scroll') &&
        el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} scrolls sideways (${el.scrollWidth} px in ${el.clientWidth})`);
    }
  }
  return found.slice(0, 5);
}

let status = 0;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                             locale: 'en-GB' });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  await page.goto(`${base}/admin/login`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${base}/admin`);

  const seen = new Set();
  const queue = ['/admin'];
  while (queue.length > 0 && summary.pages.length < MAX_PAGES) {
    const where = queue.shift();
    if (seen.has(where)) continue;
    seen.add(where);
    let response;
    try {
      response = await page.goto(`${base}${where}`);
    } catch (error) {
      // A link to a file the server sends as a download (an attachment) is not a page.
      if (/Download is starting/.test(error.message)) continue;
      throw error;
    }
    if (!response || response.status() !== 200 ||
        !(response.headers()['content-type'] || '').startsWith('text/html')) {
      continue;
    }
    summary.pages.push(where);
    const links = await page.evaluate(() => [...document.querySelectorAll('a[href]')]
      .map((a) => new URL(a.href, location.href))
      .filter((u) => u.origin === location.origin && u.pathname.startsWith('/admin'))
      .map((u) => u.pathname + u.search));
    for (const link of links) {
      if (!SKIP.test(link) && !seen.has(link)) queue.push(link);
    }
    const slug = where.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'admin';
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(50);
      for (const problem of await page.evaluate(overflowing)) {
        summary.problems.push(`${where} at ${width} px: ${problem}`);
      }
      await page.screenshot({ path: path.join(outdir, `${slug}-${width}.png`), fullPage: true });
      summary.screenshots++;
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  summary.ok = summary.problems.length === 0;
  if (!summary.ok) status = 1;
} catch (error) {
  console.error(`layout.mjs: unexpected: ${error.message}`);
  status = 1;
}
await browser.close();
console.log(JSON.stringify(summary));
process.exit(status);
