// Opens the staff dashboard in headless Chromium against the real server with the
// demo organisation, searches and opens an account card.
//
// KVARTAL_BIN names the built `kvartal` binary; CHROMIUM the browser (default
// /usr/bin/chromium). The server runs on a free port over a fresh SQLite file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.KVARTAL_BIN;
const dataDir = mkdtempSync(join(tmpdir(), 'kvartal-browser-'));
let server;
let base;
let browser;

before(async () => {
  assert.ok(bin, 'set KVARTAL_BIN to the kvartal binary');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KVARTAL_') && k !== 'DATABASE_URL'));
  Object.assign(env, { KVARTAL_DATA_DIR: dataDir, KVARTAL_BIND: '127.0.0.1:0', KVARTAL_LOG: 'info' });
  execFileSync(bin, ['demo'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), 30000);
    const watch = (chunk) => {
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(chunk.toString());
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    server.stdout.on('data', watch);
    server.stderr.on('data', watch);
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

test('a dispatcher finds an account by a few characters and opens its card', async () => {
  const context = await browser.newContext({ locale: 'ru-RU' });
  const page = await context.newPage();
  await page.goto(base + '/');
  await page.locator('[data-test=houses] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-test=houses] tbody tr').count(), 3);
  assert.match(await page.locator('[data-test=houses]').innerText(), /ул\. Ленина/);

  await page.fill('[data-test=search]', '0100001');
  const hit = page.locator('[data-test=hits] a[data-kind=ACCOUNT]').first();
  await hit.waitFor();
  const number = (await hit.locator('b').innerText()).trim();
  assert.match(number, /^0100001\d$/);
  await hit.click();
  await page.locator('[data-test=account-title]').waitFor();
  assert.match(await page.locator('[data-test=account-title]').innerText(), new RegExp(number));
  assert.equal(await page.locator('[data-test=meters] tbody tr').count(), 3);
  assert.match(await page.locator('[data-test=meters]').innerText(), /ХВС/);
  assert.match(await page.locator('[data-test=occupants]').innerText(), /собственник/);

  // Accent- and case-insensitive search for a person, then the page in Portuguese.
  await page.fill('[data-test=search]', 'АЛЕНА');
  await page.locator('[data-test=hits] a[data-kind=PERSON]').first().waitFor();
  assert.match(await page.locator('[data-test=hits]').innerText(), /Алёна/);
  await page.selectOption('[data-test=locale]', 'pt-BR');
  await page.locator('[data-test=nav-accounts]').click();
  await page.locator('[data-test=accounts] tbody tr').first().waitFor();
  assert.match(await page.locator('h1').innerText(), /Contas/);
  assert.match(await page.locator('.count').innerText(), /Total: 3\d\d/);
  await context.close();
});

test('premises of one house are listed in the order people read their numbers', async () => {
  const page = await browser.newPage();
  await page.goto(base + '/#/premises');
  await page.locator('[data-test=house-filter] option').nth(1).waitFor({ state: 'attached' });
  const value = await page.locator('[data-test=house-filter] option').nth(2).getAttribute('value');
  await page.selectOption('[data-test=house-filter]', value);
  await page.waitForFunction(() => document.querySelector('[data-test=premises] tbody tr td')?.innerText === '1');
  const numbers = await page.locator('[data-test=premises] tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(numbers.slice(0, 3), ['1', '2', '3']);
  await page.close();
});
