// Drives the web app in headless Chromium against the real server with the demo
// organisation: signing in (password, passkey through Chromium's virtual
// authenticator), the staff dashboard, and a resident who sees only their own.
//
// KVARTAL_BIN names the built `kvartal` binary; CHROMIUM the browser (default
// /usr/bin/chromium). The server runs on a free port over a fresh SQLite file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer, PASSWORD, api as call, login } from './server.mjs';

let server;
let base;
let browser;

before(async () => {
  server = await startServer();
  base = server.base;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function signIn(page, email, password = PASSWORD) {
  await page.goto(base + '/');
  await page.fill('[data-test=email]', email);
  await page.fill('[data-test=password]', password);
  await page.click('[data-test=login-submit]');
  await page.locator('[data-test=user]').waitFor();
}

const api = (token, query, variables = {}) => call(base, token, query, variables);

test('a wrong password is refused in the user\'s language, then the dispatcher signs in', async () => {
  const context = await browser.newContext({ locale: 'ru-RU' });
  const page = await context.newPage();
  await page.goto(base + '/');
  await page.fill('[data-test=email]', 'dispatcher@kvartal.demo');
  await page.fill('[data-test=password]', 'not the password');
  await page.click('[data-test=login-submit]');
  await page.locator('[data-test=login-error]').waitFor();
  assert.match(await page.locator('[data-test=login-error]').innerText(), /Неверная почта или пароль/);
  await page.fill('[data-test=password]', PASSWORD);
  await page.click('[data-test=login-submit]');
  await page.locator('[data-test=user]').waitFor();
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'kvartal_session');
  assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Lax');
  assert.equal(await page.evaluate(() => document.cookie.includes('kvartal_session')), false, 'scripts cannot read it');
  await page.click('[data-test=logout]');
  await page.locator('[data-test=login-submit]').waitFor();
  await context.close();
});

test('a dispatcher finds an account by a few characters and opens its card', async () => {
  const context = await browser.newContext({ locale: 'ru-RU' });
  const page = await context.newPage();
  await signIn(page, 'dispatcher@kvartal.demo');
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
  await signIn(page, 'dispatcher@kvartal.demo');
  await page.goto(base + '/#/premises');
  await page.locator('[data-test=house-filter] option').nth(1).waitFor({ state: 'attached' });
  const value = await page.locator('[data-test=house-filter] option').nth(2).getAttribute('value');
  await page.selectOption('[data-test=house-filter]', value);
  await page.waitForFunction(() => document.querySelector('[data-test=premises] tbody tr td')?.innerText === '1');
  const numbers = await page.locator('[data-test=premises] tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(numbers.slice(0, 3), ['1', '2', '3']);
  await page.close();
});

test('an engineer registers a passkey and signs in with it, without a password', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true },
  });
  await signIn(page, 'engineer@kvartal.demo');
  await page.click('[data-test=user]');
  await page.fill('[data-test=passkey-name]', 'Work laptop');
  await page.click('[data-test=add-passkey]');
  await page.locator('[data-test=passkeys] tbody tr', { hasText: 'Work laptop' }).waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential');

  await page.click('[data-test=logout]');
  await page.locator('[data-test=passkey-login]').waitFor();
  await page.click('[data-test=passkey-login]');
  await page.locator('[data-test=user]').waitFor();
  assert.match(await page.locator('[data-test=user]').innerText(), /Demo engineer/);
  await page.click('[data-test=user]');
  await page.locator('[data-test=sessions] tbody tr', { hasText: 'passkey' }).waitFor();
  assert.match(await page.locator('[data-test=passkeys]').innerText(), /Work laptop/);

  // Removed, the passkey no longer signs in.
  await page.click('[data-test=remove-passkey]');
  await page.locator('[data-test=passkeys] tbody tr', { hasText: 'No passkeys yet' }).waitFor();
  await page.click('[data-test=logout]');
  await page.click('[data-test=passkey-login]');
  await page.locator('[data-test=login-error]').waitFor();
  await context.close();
});

test('a resident sees their own account and cannot open another resident\'s', async () => {
  const admin = await api(null, 'mutation($input: LoginInput!) { login(input: $input) { token } }',
    { input: { email: 'admin@kvartal.demo', password: PASSWORD, client: 'APP' } });
  const token = admin.data.login.token;
  const orgs = await api(token, '{ organisations { edges { node { id } } } }');
  const org = orgs.data.organisations.edges[0].node.id;
  const accounts = await api(token, 'query($org: ID!) { accounts(organisationId: $org, first: 2) { edges { node { id number } } } }', { org });
  const [mine, theirs] = accounts.data.accounts.edges.map((e) => e.node);

  const context = await browser.newContext({ locale: 'pt-BR' });
  const page = await context.newPage();
  await signIn(page, 'resident@kvartal.demo');
  await page.locator('[data-test=my-accounts] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-test=my-accounts] tbody tr').count(), 1);
  assert.match(await page.locator('h1').innerText(), /Minhas contas/);
  await page.locator('[data-test=my-accounts] a').click();
  await page.locator('[data-test=account-title]').waitFor();
  assert.match(await page.locator('[data-test=account-title]').innerText(), new RegExp(mine.number));

  await page.goto(`${base}/#/accounts/${theirs.id}`);
  await page.locator('[data-test=error]').waitFor();
  assert.match(await page.locator('[data-test=error]').innerText(), /Não encontrado/);
  assert.equal(await page.locator('[data-test=account-title]').count(), 0);
  assert.doesNotMatch(await page.content(), new RegExp(theirs.number));
  await context.close();
});

test('an accountant issues an access code and a new resident joins with it from the link', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, 'accountant@kvartal.demo');
  await page.click('[data-test=nav-accounts]');
  const row = page.locator('[data-test=accounts] tbody tr').nth(5);
  await row.waitFor();
  const number = (await row.locator('td a').first().innerText()).trim();
  await row.locator('td a').first().click();
  await page.click('[data-test=issue-code]');
  await page.locator('[data-test=access-result]').waitFor();
  const code = /([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(await page.locator('[data-test=access-result]').innerText())[1];
  await page.click('[data-test=logout]');
  await page.locator('[data-test=login-submit]').waitFor();

  await page.goto(`${base}/#/join?account=${number}&code=${code}&email=newcomer%40example.org`);
  assert.equal(await page.inputValue('[data-test=account-number]'), number);
  assert.equal(await page.inputValue('[data-test=email]'), 'newcomer@example.org');
  await page.fill('[data-test=display-name]', 'Newcomer');
  await page.fill('[data-test=password]', 'a long enough password');
  await page.click('[data-test=join-submit]');
  await page.locator('[data-test=my-accounts] tbody tr').first().waitFor();
  assert.match(await page.locator('[data-test=my-accounts]').innerText(), new RegExp(number));
  await context.close();
});

test('an admin adds an engineer limited to one house, who then sees only that house; the audit log shows it', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await signIn(page, 'admin@kvartal.demo');
  await page.click('[data-test=nav-staff]');
  await page.locator('[data-test=staff] tbody tr').first().waitFor();
  await page.fill('[data-test=staff-email]', 'field.engineer@example.org');
  await page.fill('[data-test=staff-name]', 'Field Engineer');
  await page.uncheck('[data-test=new-role-DISPATCHER]');
  await page.check('[data-test=new-role-ENGINEER]');
  const first = await page.locator('[data-test=staff-houses] option').first().getAttribute('value');
  await page.selectOption('[data-test=staff-houses]', [first]);
  await page.fill('[data-test=staff-password]', 'field engineer password');
  await page.click('[data-test=staff-add]');
  const row = page.locator('[data-test=staff] tbody tr', { hasText: 'field.engineer@example.org' });
  await row.waitFor();
  assert.doesNotMatch(await row.innerText(), /All houses/);

  await page.click('[data-test=nav-audit]');
  await page.locator('[data-test=audit] tbody tr', { hasText: 'addStaffMember' }).first().waitFor();
  assert.match(await page.locator('[data-test=audit] tbody tr').first().innerText(), /admin@kvartal\.demo/);
  await page.click('[data-test=logout]');

  await signIn(page, 'field.engineer@example.org', 'field engineer password');
  await page.locator('[data-test=houses] tbody tr').first().waitFor();
  assert.equal(await page.locator('[data-test=houses] tbody tr').count(), 1);
  assert.equal(await page.locator('[data-test=nav-staff]').count(), 0, 'no staff page for an engineer');
  await context.close();
});

test('a resident submits a reading and it appears on the dispatcher\'s live feed without a reload', async () => {
  const staffContext = await browser.newContext({ locale: 'en-US' });
  const staff = await staffContext.newPage();
  await signIn(staff, 'dispatcher@kvartal.demo');
  await staff.click('[data-test=nav-readings]');
  await staff.locator('[data-test=live-status][data-status=live]').waitFor();
  await staff.locator('[data-test=feed-row]').first().waitFor();
  const before = await staff.locator('[data-test=feed-row]').count();

  const residentContext = await browser.newContext({ locale: 'ru-RU' });
  const resident = await residentContext.newPage();
  await signIn(resident, 'resident@kvartal.demo');
  await resident.click('[data-test=nav-meters]');
  const card = resident.locator('[data-test=meter-card]').first();
  await card.locator('[data-test=meter-history]').waitFor();
  const serial = await card.getAttribute('data-serial');
  const zones = await card.locator('input[data-test^=reading-value-]').count();
  // Lower than the last reading: refused, in the resident's language.
  for (let i = 0; i < zones; i++) await card.locator(`[data-test=reading-value-${i}]`).fill('0');
  await card.locator('[data-test=submit-reading]').click();
  await card.locator('[data-test=reading-error]').waitFor();
  assert.match(await card.locator('[data-test=reading-error]').innerText(), /меньше предыдущего/);
  for (let i = 0; i < zones; i++) await card.locator(`[data-test=reading-value-${i}]`).fill('987654,5');
  // With a photo of the meter.
  await card.locator('[data-test=reading-photo]').setInputFiles(join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'photo-gps.jpg'));
  await card.locator('[data-test=submit-reading]').click();
  await card.locator('[data-test=reading-done]').waitFor();

  // The dispatcher's page shows it without reloading, flagged first.
  const row = staff.locator('[data-test=feed-row]', { hasText: serial }).filter({ hasText: '987,654.5' });
  await row.first().waitFor();
  assert.match(await staff.locator('[data-test=feed-row]').first().innerText(), /987,654\.5/);
  assert.equal(await staff.locator('[data-test=feed-row]').count(), before + 1);
  // The photo came after the reading: on the next load the row has it, and it opens.
  await staff.reload();
  const photo = staff.locator('[data-test=feed-row]', { hasText: serial }).filter({ hasText: '987,654.5' }).locator('[data-test=reading-photo-link]');
  await photo.first().waitFor();
  const shot = await staff.request.get(base + await photo.first().getAttribute('href'));
  assert.equal(shot.status(), 200);
  assert.equal(shot.headers()['content-type'], 'image/jpeg');
  await row.first().locator('[data-test=review]').click();
  await row.first().locator('[data-test=review]').waitFor({ state: 'detached' });
  await staffContext.close();
  await residentContext.close();
});

test('an accountant recalculates the month and watches it live; the resident downloads the receipt and the PDF opens', async () => {
  const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  await context.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const page = await context.newPage();
  await signIn(page, 'accountant@kvartal.demo');
  await page.click('[data-test=nav-billing]');
  // The demo closed last month and calculated this one.
  const periods = page.locator('[data-test=period]');
  await periods.nth(1).waitFor();
  const month = new Date().toISOString().slice(0, 7);
  assert.equal(await page.locator(`[data-test=period][data-period="${month}"]`).getAttribute('data-status'), 'CALCULATED');
  assert.equal(await periods.nth(1).getAttribute('data-status'), 'CLOSED');
  // The receipt template: a note with a placeholder, used by every PDF from now on.
  await page.click('[data-test=billing-settings] summary');
  await page.fill('[data-test=bs-receiptNote]', 'Questions about your charges: {org}, account {account}.');
  await page.click('[data-test=bs-save]');
  await page.locator('[data-test=bs-saved]').waitFor();
  await page.fill('[data-test=run-period]', month);
  await page.click('[data-test=run]');
  // Progress arrives over the websocket, chunk by chunk, until the run ends.
  await page.locator('[data-test=run-progress][data-status=calculated]').waitFor({ timeout: 30000 });
  assert.match(await page.locator('[data-test=run-progress]').innerText(), /calculated/);
  await page.locator(`[data-test=period][data-period="${month}"] a`).click();
  await page.locator('[data-test=receipt]').first().waitFor();
  const preview = page.waitForResponse((r) => r.url().includes('/receipts/') && r.url().endsWith('.pdf'));
  await page.locator('[data-test=receipt] [data-test=preview]').first().click();
  const shown = await preview;
  assert.equal(shown.status(), 200);
  assert.equal(shown.headers()['content-type'], 'application/pdf');
  assert.equal(shown.headers()['x-frame-options'], 'SAMEORIGIN');
  const previewed = join(tmpdir(), `kvartal-preview-${process.pid}.pdf`);
  // The same PDF fetched with the accountant's session (the preview's body is Chromium's viewer).
  writeFileSync(previewed, await (await page.request.get(shown.url())).body());
  const note = execFileSync('pdftotext', [previewed, '-']).toString().replace(/\s+/g, ' ');
  assert.match(note, /Questions about your charges: [^{]+, account \d+\./, 'the template note, filled in');
  rmSync(previewed);
  await page.locator('[data-test=pdf-preview]').waitFor();
  await context.close();

  const resident = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  const rpage = await resident.newPage();
  await signIn(rpage, 'resident@kvartal.demo');
  await rpage.click('[data-test=nav-receipts]');
  // Last month's receipt: this month's is shown once its period is closed.
  await rpage.locator('[data-test=my-receipt]').first().waitFor();
  assert.equal(await rpage.locator('[data-test=my-receipt]').count(), 1);
  assert.equal(await rpage.locator('[data-test=qr] path').count(), 1, 'the QR to pay');
  const download = rpage.waitForEvent('download');
  await rpage.click('[data-test=receipt-pdf]');
  const file = await (await download).path();
  const bytes = readFileSync(file);
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  // The PDF opens: poppler reads its pages and text.
  const text = execFileSync('pdftotext', [file, '-']).toString();
  assert.match(text, /Amount due|Итого к оплате|Total a pagar/);
  assert.match(execFileSync('pdfinfo', [file]).toString(), /Pages:\s+1/);
  await resident.close();
});

test('an accountant sets new prices (the ones before end the day before), a norm, and adds a service', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const page = await context.newPage();
  await signIn(page, 'accountant@kvartal.demo');
  await page.click('[data-test=nav-tariffs]');
  await page.click('[data-test=service-cold_water]');
  const versions = page.locator('[data-test=tariff-version]');
  await versions.nth(1).waitFor();
  assert.equal(await versions.count(), 2, 'the demo prices of January and July');
  await page.fill('[data-test=tariff-from]', '2027-01-01');
  await page.fill('[data-test=tariff-price-0]', '55,10');
  await page.click('[data-test=tariff-save]');
  await versions.nth(2).waitFor();
  const rows = await versions.allInnerTexts();
  assert.match(rows[1], /12\/31\/2026/, 'July\'s prices now end the day before');
  assert.match(rows[2], /1\/1\/2027.*until changed.*55\.1/s);
  // Prices that would start inside later ones are refused, and nothing changes.
  await page.fill('[data-test=tariff-from]', '2026-03-01');
  await page.fill('[data-test=tariff-price-0]', '50');
  await page.click('[data-test=tariff-save]');
  await page.locator('[data-test=tariff-error]').waitFor();
  assert.match(await page.locator('[data-test=tariff-error]').innerText(), /Prices starting later are already set/);
  assert.equal(await versions.count(), 3);
  // The demo's norm per person, then a higher one from September: the first ends the day before.
  const norms = page.locator('[data-test=norm]');
  await norms.first().waitFor();
  await page.selectOption('[data-test=norm-basis]', 'PERSON');
  await page.fill('[data-test=norm-from]', '2026-09-01');
  await page.fill('[data-test=norm-value]', '7,1');
  await page.click('[data-test=norm-save]');
  await norms.nth(1).waitFor();
  const normRows = await norms.allInnerTexts();
  assert.match(normRows[0], /person.*1\/1\/2026.*8\/31\/2026.*6\.935/s);
  assert.match(normRows[1], /person.*9\/1\/2026.*until changed.*7\.1/s);
  // A new service, billed per premises.
  await page.fill('[data-test=service-code]', 'intercom');
  await page.fill('[data-test=service-name]', 'Intercom');
  await page.fill('[data-test=service-unit]', 'premises');
  await page.selectOption('[data-test=service-method]', 'FIXED');
  await page.click('[data-test=service-add]');
  await page.locator('[data-test=service-intercom]').waitFor();
  await page.locator('[data-test=tariff-versions] h2', { hasText: 'Intercom' }).waitFor();
  await context.close();
});

test('an accountant records a payment and the resident\'s open page shows the new balance without a reload', async () => {
  const residentContext = await browser.newContext({ locale: 'ru-RU' });
  await residentContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'ru'));
  const resident = await residentContext.newPage();
  await signIn(resident, 'resident@kvartal.demo');
  await resident.click('[data-test=nav-payments]');
  await resident.locator('[data-test=payments-live][data-status=live]').waitFor();
  const mine = resident.locator('[data-test=my-payments]').first();
  await mine.locator('[data-test=balance]').waitFor();
  const balanceBefore = await mine.locator('[data-test=balance]').innerText();
  const paymentsBefore = await mine.locator('[data-test=my-payment]').count();
  const number = (await mine.locator('h2').innerText()).match(/\d{6,}/)[0];

  const staffContext = await browser.newContext({ locale: 'en-US' });
  await staffContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const staff = await staffContext.newPage();
  await signIn(staff, 'accountant@kvartal.demo');
  await staff.click('[data-test=nav-payments]');
  await staff.locator('[data-test=journal-row]').first().waitFor();
  // An unknown account is refused in words, nothing recorded.
  await staff.fill('[data-test=pay-account]', '99999999');
  await staff.fill('[data-test=pay-amount]', '10');
  await staff.click('[data-test=pay-submit]');
  await staff.locator('[data-test=pay-error]').waitFor();
  assert.match(await staff.locator('[data-test=pay-error]').innerText(), /No account with this number/);
  await staff.fill('[data-test=pay-account]', number);
  await staff.fill('[data-test=pay-amount]', '1,234.56');
  await staff.selectOption('[data-test=pay-method]', 'CARD');
  await staff.click('[data-test=pay-submit]');
  await staff.locator('[data-test=pay-done]').waitFor();
  assert.match(await staff.locator('[data-test=pay-done]').innerText(), new RegExp(`1,234\\.56 recorded on account ${number}`));
  await staff.locator('[data-test=journal-row]', { hasText: number }).filter({ hasText: '1,234.56' }).filter({ hasText: 'card' }).first().waitFor();

  // The resident's page: the payment and the new balance, pushed, not reloaded.
  await mine.locator('[data-test=my-payment]').nth(paymentsBefore).waitFor();
  assert.match(await mine.locator('[data-test=my-payment]').first().innerText(), /1\s?234,56/);
  await resident.waitForFunction(([before]) => document.querySelector('[data-test=balance]').innerText !== before, [balanceBefore]);
  await staffContext.close();
  await residentContext.close();
});

test('an accountant imports a bank statement, pays the waiting credit by hand and downloads the debtors', async () => {
  const context = await browser.newContext({ locale: 'en-US', acceptDownloads: true });
  await context.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const page = await context.newPage();
  await signIn(page, 'accountant@kvartal.demo');
  await page.goto(base + '/#/payments?tab=statements');
  await page.locator('[data-test=queue-total]').waitFor();
  const stamp = Date.now();
  const csv = '\ufeffДата;Сумма;Плательщик;Назначение\n'
    + `20.11.2026;500,00;Иванов И. И.;Оплата ЖКУ л/с 01000002 ${stamp}\n`
    + `21.11.2026;250,00;Петров П. П.;квартплата ${stamp}\n`;
  const file = join(tmpdir(), `statement-${process.pid}.csv`);
  writeFileSync(file, csv);
  await page.setInputFiles('[data-test=statement-file]', file);
  await page.selectOption('[data-test=statement-format]', 'CSV');
  await page.locator('[data-test=csv-mapping]').waitFor();
  await page.click('[data-test=statement-import]');
  await page.locator('[data-test=import-result], [data-test=import-error]').first().waitFor();
  const importErrors = await page.locator('[data-test=import-error]').count();
  // (The message is read only when there is one: reading an absent element waits 30 s.)
  assert.equal(importErrors, 0, importErrors ? await page.locator('[data-test=import-error]').first().innerText() : '');
  assert.match(await page.locator('[data-test=import-result]').innerText(), /2 entries: 1 paid onto accounts \(500\.00\), 1 waiting for you/);
  // The same file again changes nothing.
  await page.click('[data-test=statement-import]');
  await page.waitForFunction(() => /imported before/.test(document.querySelector('[data-test=import-result]')?.innerText || ''));
  rmSync(file);
  const line = page.locator('[data-test=queue-line]', { hasText: String(stamp) });
  await line.waitFor();
  await line.locator('[data-test=queue-account]').fill('01000003');
  await line.locator('[data-test=queue-match]').click();
  await line.waitFor({ state: 'detached' });

  await page.click('[data-test=payments-debtors]');
  await page.locator('[data-test=debtor]').first().waitFor();
  const total = await page.locator('[data-test=debtors-total]').innerText();
  assert.match(total, /^[\d,]+\.\d\d$/);
  const csvDownload = page.waitForEvent('download');
  await page.click('[data-test=debtors-csv]');
  const text = readFileSync(await (await csvDownload).path()).toString('utf8');
  assert.match(text, /^\ufeff(Лицевой счёт|Account|Conta)[;,]/);
  assert.ok(text.trim().split('\n').length >= 3, 'a header, debtors and the total');
  const xlsxDownload = page.waitForEvent('download');
  await page.click('[data-test=debtors-xlsx]');
  const xlsx = readFileSync(await (await xlsxDownload).path());
  assert.equal(xlsx.subarray(0, 2).toString(), 'PK');
  await context.close();
});

test('a resident files a complaint with a photo; it is on the dispatcher\'s board already assigned; the engineer marks it done with a photo on a phone; the resident sees done without a reload', async () => {
  const photo = join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'photo-gps.jpg');
  const residentContext = await browser.newContext({ locale: 'ru-RU' });
  await residentContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'ru'));
  const resident = await residentContext.newPage();
  await signIn(resident, 'resident@kvartal.demo');
  await resident.click('[data-test=nav-complaints]');
  await resident.locator('[data-test=complaints-live][data-status=live]').waitFor();

  const dispatcherContext = await browser.newContext({ locale: 'en-US' });
  await dispatcherContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const dispatcher = await dispatcherContext.newPage();
  await signIn(dispatcher, 'dispatcher@kvartal.demo');
  await dispatcher.click('[data-test=nav-complaints]');
  await dispatcher.locator('[data-test=board] [data-test=card]').first().waitFor();
  await dispatcher.locator('[data-test=complaints-live][data-status=live]').waitFor();
  // The demo's late complaint is marked by the server's check.
  await dispatcher.locator('[data-test=overdue-count]', { hasText: 'Late: 1' }).waitFor();
  const assignedBefore = Number(await dispatcher.locator('[data-test=count-ASSIGNED]').innerText());

  // The engineer's work orders on a phone-sized screen.
  const engineerContext = await browser.newContext({ locale: 'ru-RU', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await engineerContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'ru'));
  const engineer = await engineerContext.newPage();
  await signIn(engineer, 'engineer@kvartal.demo');
  await engineer.click('[data-test=nav-work]');
  await engineer.locator('[data-test=complaints-live][data-status=live]').waitFor();

  // The resident writes in words, with a photo from the phone.
  await resident.fill('[data-test=c-text]', 'Течёт кран в ванной, вода капает на пол');
  await resident.setInputFiles('[data-test=c-photo]', photo);
  await resident.click('[data-test=c-submit]');
  await resident.locator('[data-test=c-filed]').waitFor();
  const number = (await resident.locator('[data-test=c-filed]').innerText()).match(/№(\d+)/)[1];
  const mine = resident.locator(`[data-test=my-complaint][data-number="${number}"]`);
  await mine.waitFor();
  assert.match(await mine.innerText(), /Сантехника/);

  // On the board at once, assigned by the server's routing to the plumbing crew's engineer.
  const card = dispatcher.locator(`[data-test=column][data-status=ASSIGNED] [data-test=card][data-number="${number}"]`);
  await card.waitFor();
  assert.equal(await card.locator('[data-test=assignee-name]').innerText(), 'Demo engineer');
  assert.match(await card.locator('[data-test=sla]').innerText(), /left/);
  await dispatcher.waitForFunction((n) => Number(document.querySelector('[data-test=count-ASSIGNED]').innerText) === n, assignedBefore + 1);
  // A call: the dispatcher takes it on the board; the rules find the category, the server assigns it.
  await dispatcher.click('[data-test=take-open]');
  await dispatcher.selectOption('[data-test=take-house]', { index: 1 });
  await dispatcher.fill('[data-test=take-text]', 'Не работает лифт во втором подъезде');
  await dispatcher.fill('[data-test=take-contact]', 'Соседка, +7 900 123-45-67');
  await dispatcher.click('[data-test=take-submit]');
  const taken = (await dispatcher.locator('[data-test=take-done]').innerText()).match(/№(\d+)/)[1];
  await dispatcher.locator(`[data-test=column][data-status=ASSIGNED] [data-test=card][data-number="${taken}"]`).waitFor();
  await dispatcher.click('[data-test=take-open]');
  // A filter narrows the board.
  await dispatcher.fill('[data-test=c-filter-text]', 'капает на пол');
  assert.equal(await dispatcher.locator('[data-test=board] [data-test=card]').count(), 1);
  await dispatcher.fill('[data-test=c-filter-text]', '');
  // The card opened: the dispatcher leaves an internal note, kept from the resident.
  await card.locator('[data-test=card-open]').click();
  await dispatcher.locator('[data-test=card-detail]').waitFor();
  await dispatcher.fill('[data-test=detail-comment]', 'The engineer has the spare gasket');
  await dispatcher.check('[data-test=detail-internal]');
  await dispatcher.click('[data-test=detail-send]');
  await dispatcher.locator('[data-test=detail-history] li.internal', { hasText: 'The engineer has the spare gasket' }).waitFor();
  await dispatcher.click('[data-test=card-detail] header button');
  await dispatcher.locator('[data-test=card-detail]').waitFor({ state: 'detached' });

  // The engineer starts it and finishes it with a photo of the work.
  const order = engineer.locator(`[data-test=work-order][data-number="${number}"]`);
  await order.waitFor();
  await order.locator('[data-test=start]').click();
  await engineer.locator(`[data-test=work-order][data-number="${number}"][data-status=IN_PROGRESS]`).waitFor();
  await order.locator('[data-test=finish]').click();
  await order.locator('[data-test=finish-comment]').fill('Заменили прокладку, течи нет');
  await order.locator('[data-test=finish-photo]').setInputFiles(photo);
  await order.locator('[data-test=finish-save]').click();
  await order.waitFor({ state: 'detached' });

  // The resident's open page shows done, pushed; both photos show (their metadata gone).
  await resident.locator(`[data-test=my-complaint][data-number="${number}"][data-status=DONE]`).waitFor();
  assert.equal(await mine.locator('[data-test=my-status]').innerText(), 'Выполнены');
  await resident.waitForFunction((n) => {
    const imgs = [...document.querySelectorAll(`[data-test=my-complaint][data-number="${n}"] img`)];
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  }, number);
  // The resident's history shows the work, not the staff's internal note.
  await mine.locator('button.link').click();
  await mine.locator('ol.history li', { hasText: 'Заменили прокладку' }).waitFor();
  assert.equal((await mine.innerText()).includes('spare gasket'), false);
  await mine.locator('[data-test=rate-5]').click();
  await resident.locator(`[data-test=my-complaint][data-number="${number}"] [data-test=rate-5][aria-pressed=true]`).waitFor();

  // The board follows; done is the assignee's to mark, the dispatcher closes it by dragging.
  const done = dispatcher.locator(`[data-test=column][data-status=DONE] [data-test=card][data-number="${number}"]`);
  await done.waitFor();
  const other = dispatcher.locator('[data-test=column][data-status=ASSIGNED] [data-test=card]').first();
  await other.dragTo(dispatcher.locator('[data-test=column][data-status=DONE]'));
  assert.match(await dispatcher.locator('[data-test=board-note]').innerText(), /marked by the assignee/);
  await done.dragTo(dispatcher.locator('[data-test=column][data-status=CLOSED]'));
  await dispatcher.locator(`[data-test=column][data-status=CLOSED] [data-test=card][data-number="${number}"]`).waitFor();
  await resident.locator(`[data-test=my-complaint][data-number="${number}"][data-status=CLOSED]`).waitFor();
  await engineerContext.close();
  await dispatcherContext.close();
  await residentContext.close();
});

test('a manager adds a paid service (a price of zero refused); the resident sees it at its price, orders it, and the work order is on their page', async () => {
  const managerContext = await browser.newContext({ locale: 'en-US' });
  await managerContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const manager = await managerContext.newPage();
  await signIn(manager, 'manager@kvartal.demo');
  await manager.click('[data-test=nav-services]');
  await manager.click('[data-test=service-add]');
  await manager.fill('[data-test=sv-name]', 'Pipe insulation');
  await manager.fill('[data-test=sv-code]', 'insulation');
  await manager.selectOption('[data-test=sv-category]', 'plumbing');
  await manager.fill('[data-test=sv-price]', '0');
  await manager.click('[data-test=sv-save]');
  assert.match(await manager.locator('[data-test=sv-error]').innerText(), /more than zero/);
  await manager.fill('[data-test=sv-price]', '1500.00');
  await manager.click('[data-test=sv-save]');
  await manager.locator('[data-test=service-row]', { hasText: 'Pipe insulation' }).waitFor();

  const residentContext = await browser.newContext({ locale: 'en-US' });
  await residentContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const resident = await residentContext.newPage();
  await signIn(resident, 'resident@kvartal.demo');
  await resident.click('[data-test=nav-complaints]');
  const offer = resident.locator('[data-test=order-service]');
  await offer.waitFor();
  assert.match(await offer.innerText(), /Pipe insulation — 1,500\.00/);
  await offer.locator('li', { hasText: 'Pipe insulation' }).locator('[data-test=svc-choice]').check();
  await offer.locator('[data-test=svc-note]').fill('Saturday morning, please');
  await offer.locator('[data-test=svc-order]').click();
  await offer.locator('[data-test=svc-done]').waitFor();
  const number = (await offer.locator('[data-test=svc-done]').innerText()).match(/№(\d+)/)[1];
  const work = resident.locator(`[data-test=my-complaint][data-number="${number}"]`);
  await work.waitFor();
  // The work order reads in the organisation's language (the demo's is Russian).
  assert.match(await work.innerText(), /Заказ: Pipe insulation\. Saturday morning, please/);
  assert.equal(await work.getAttribute('data-status'), 'ASSIGNED');
  await residentContext.close();
  await managerContext.close();
});

test('a manager sets a task for the engineer on a house; the engineer does it; the manager sees it done in everyone\'s tasks', async () => {
  const managerContext = await browser.newContext({ locale: 'en-US' });
  await managerContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const manager = await managerContext.newPage();
  await signIn(manager, 'manager@kvartal.demo');
  await manager.click('[data-test=nav-tasks]');
  await manager.locator('[data-test=new-task]').waitFor();
  await manager.fill('[data-test=task-title]', 'Check the roof drains');
  await manager.locator('[data-test=task-who] option', { hasText: 'Demo engineer' }).first().waitFor({ state: 'attached' });
  const value = await manager.locator('[data-test=task-who] option', { hasText: 'Demo engineer' }).first().getAttribute('value');
  await manager.selectOption('[data-test=task-who]', value);
  await manager.selectOption('[data-test=task-house]', { index: 1 });
  await manager.click('[data-test=task-save]');
  await manager.locator('[data-test=task][data-title="Check the roof drains"]').waitFor();

  const engineerContext = await browser.newContext({ locale: 'en-US', viewport: { width: 390, height: 844 } });
  await engineerContext.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const engineer = await engineerContext.newPage();
  await signIn(engineer, 'engineer@kvartal.demo');
  await engineer.click('[data-test=nav-tasks]');
  const task = engineer.locator('[data-test=task][data-title="Check the roof drains"]');
  await task.waitFor();
  await task.locator('[data-test=task-start]').click();
  await engineer.locator('[data-test=task][data-title="Check the roof drains"][data-status=IN_PROGRESS]').waitFor();
  await task.locator('[data-test=task-note]').fill('Two drains cleared');
  await task.locator('[data-test=task-done]').click();
  await engineer.locator('[data-test=task][data-title="Check the roof drains"][data-status=DONE]').waitFor();

  await manager.reload();
  await manager.locator('[data-test=load][data-name="Demo engineer"] [data-test=load-done]', { hasText: '1' }).waitFor();
  await engineerContext.close();
  await managerContext.close();
});

test('a manager adds a department with the electrician and routes electrical complaints to it; the next one goes there', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const manager = await context.newPage();
  await signIn(manager, 'manager@kvartal.demo');
  await manager.click('[data-test=nav-complaints]');
  await manager.click('[data-test=complaints-setup]');
  await manager.locator('[data-test=complaint-setup]').waitFor();
  await manager.click('[data-test=group-add]');
  await manager.fill('[data-test=group-name]', 'Electricians');
  await manager.locator('[data-test=group-member][data-name="Demo contractor"]').check();
  await manager.click('[data-test=group-save]');
  await manager.locator('[data-test=group]', { hasText: 'Electricians' }).waitFor();
  await manager.click('[data-test=route-add]');
  const route = manager.locator('[data-test=route]').last();
  await route.locator('select').first().selectOption('electrical');
  const target = await route.locator('[data-test=route-target] option', { hasText: 'Electricians' }).getAttribute('value');
  await route.locator('[data-test=route-target]').selectOption(target);
  await manager.fill('[data-test=reopen-days]', '10');
  await manager.click('[data-test=setup-save]');
  await manager.locator('[data-test=setup-saved]').waitFor();
  assert.equal(await manager.inputValue('[data-test=reopen-days]'), '10');

  // The next electrical complaint in the contractor's house goes to the department's member.
  const token = await login(base, 'dispatcher@kvartal.demo');
  const orgs = await api(token, `{ organisations { edges { node { id } } } }`);
  const org = orgs.data.organisations.edges[0].node.id;
  const hs = await api(token, `query($org: ID!) { houses(organisationId: $org, first: 10) { edges { node { id address } } } }`, { org });
  const first = hs.data.houses.edges.map((e) => e.node).sort((a, b) => (a.address < b.address ? -1 : 1))[0];
  const filed = await api(token, `mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { category assigneeName } } }`,
    { input: { houseId: first.id, text: 'В подъезде не горит свет, перегорела лампочка', source: 'PHONE', contact: 'Сосед' } });
  assert.equal(filed.data?.fileComplaint.complaint.category, 'electrical', JSON.stringify(filed));
  assert.equal(filed.data?.fileComplaint.complaint.assigneeName, 'Demo contractor', JSON.stringify(filed));
  await context.close();
});

test('an accountant attaches a scan to an account; the account\'s resident opens it, a file of the wrong kind is refused in words', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  await context.addInitScript(() => localStorage.setItem('kvartal.locale', 'en'));
  const staff = await context.newPage();
  await signIn(staff, 'accountant@kvartal.demo');
  const token = await login(base, 'resident@kvartal.demo');
  const me = await api(token, '{ me { accounts { id } } }');
  const account = me.data.me.accounts[0].id;
  await staff.goto(`${base}/#/accounts/${account}`);
  await staff.locator('[data-test=document-upload]').waitFor();
  const bad = join(tmpdir(), 'contract.pdf.html');
  writeFileSync(bad, '<html><script>alert(1)</script></html>');
  await staff.setInputFiles('[data-test=document-upload]', bad);
  assert.match(await staff.locator('[data-test=document-error]').innerText(), /Only JPEG, PNG or WebP photos and PDF scans/);
  await staff.setInputFiles('[data-test=document-upload]', join(import.meta.dirname, '..', '..', 'tests', 'fixtures', 'photo.png'));
  const doc = staff.locator('[data-test=document] a', { hasText: 'photo.png' });
  await doc.waitFor();
  const url = await doc.getAttribute('href');
  // The resident of the account opens it with their own session; metadata gone.
  const r = await fetch(base + url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'image/png');
  assert.equal(Buffer.from(await r.arrayBuffer()).includes('Ivan Ivanov'), false);
  rmSync(bad, { force: true });
  await context.close();
});

test('GraphiQL comes from the server itself and runs a query with the session', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
  const blocked = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  await signIn(page, 'admin@kvartal.demo');
  await page.goto(base + '/graphql');
  await page.locator('.graphiql-container').waitFor();
  await page.locator('.graphiql-query-editor .CodeMirror').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('{ me { email } }');
  await page.click('.graphiql-execute-button');
  await page.locator('.graphiql-response :text("admin@kvartal.demo")').waitFor();
  assert.deepEqual(foreign, [], 'nothing was loaded from another origin');
  assert.deepEqual(blocked, [], 'the page runs under its CSP');
  await context.close();
});

// Last in this file: it makes the demo resident an engineer too.
test('an admin adds a resident\'s email to the staff: the owner is invited and becomes staff only by accepting', async () => {
  const admin = await browser.newContext({ locale: 'en-US' });
  const page = await admin.newPage();
  await signIn(page, 'admin@kvartal.demo');
  await page.goto(base + '/#/staff');
  await page.fill('[data-test=staff-email]', 'resident@kvartal.demo');
  await page.fill('[data-test=staff-name]', 'Resident as engineer');
  await page.click('[data-test=new-role-ENGINEER]');
  await page.click('[data-test=staff-add]');
  await page.locator('[data-test=staff-invited]').waitFor();
  assert.match(await page.locator('[data-test=staff-invited]').innerText(), /resident@kvartal\.demo/);
  assert.equal(await page.locator('[data-test=staff] td', { hasText: 'resident@kvartal.demo' }).count(), 0, 'not staff yet');
  await admin.close();
  // The owner opens the link from the e-mail (logged by a development server), signs in, accepts.
  let token;
  for (let i = 0; i < 50 && !token; i++) {
    token = /staff-invitation\?token=([A-Za-z0-9_-]+)/.exec(server.output())?.[1];
    if (!token) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(token, 'the invitation was sent');
  const owner = await browser.newContext({ locale: 'en-US' });
  const mine = await owner.newPage();
  await mine.goto(`${base}/#/staff-invitation?token=${token}`);
  await mine.fill('[data-test=email]', 'resident@kvartal.demo');
  await mine.fill('[data-test=password]', PASSWORD);
  await mine.click('[data-test=login-submit]');
  await mine.locator('[data-test=accept-invitation]').click();
  await mine.locator('[data-test=nav-houses]').waitFor();
  const token2 = await login(base, 'resident@kvartal.demo');
  const me = await api(token2, '{ me { memberships { roles } } }');
  assert.deepEqual(me.data.me.memberships.map((m) => m.roles), [['DISPATCHER', 'ENGINEER']]);
  await owner.close();
});

test('the owner of an email signs in with a code and removes what a stranger registered under it, in Russian', async () => {
  // A stranger joins with a receipt's code under the owner's address.
  const admin = await login(base, 'admin@kvartal.demo');
  const org = (await api(admin, '{ me { memberships { organisationId } } }')).data.me.memberships[0].organisationId;
  const account = (await api(admin, 'query($org: ID!) { accounts(organisationId: $org, first: 40) { nodes { id number } } }', { org })).data.accounts.nodes[30];
  const code = (await api(admin, 'mutation($input: IssueAccessCodeInput!) { issueAccessCode(input: $input) { code } }', { input: { accountId: account.id } })).data.issueAccessCode.code;
  const joined = await call(base, null, `mutation($input: RegisterResidentInput!) { registerResident(input: $input) { userId } }`,
    { input: { email: 'owner@example.org', displayName: 'Stranger', password: 'the stranger password', accountNumber: account.number, code, client: 'APP' } });
  assert.ok(joined.data?.registerResident?.userId, JSON.stringify(joined));

  // The owner signs in with a code sent to the address (logged by a development server).
  const context = await browser.newContext({ locale: 'ru-RU' });
  const page = await context.newPage();
  await page.goto(base + '/');
  await page.click('[data-test=use-code]');
  await page.fill('[data-test=email]', 'owner@example.org');
  const before = server.output().length;
  await page.click('[data-test=code-submit]');
  let sent;
  for (let i = 0; i < 50 && !sent; i++) {
    sent = /: ([0-9]{6})\b/.exec(server.output().slice(before))?.[1];
    if (!sent) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(sent, 'the code was sent');
  await page.fill('[data-test=code]', sent);
  await page.click('[data-test=code-submit]');
  // Asked first, in Russian, with what the stranger set.
  const claim = page.locator('[data-test=address-claim]');
  await claim.waitFor();
  assert.match(await claim.innerText(), /Это ваша учётная запись\?/);
  assert.match(await claim.innerText(), new RegExp(`лицевые счета ${account.number}`));
  await page.click('[data-test=claim-not-mine]');
  await page.locator('[data-test=claim-done]').waitFor();
  assert.match(await page.locator('[data-test=claim-done]').innerText(), new RegExp(`удалены`));
  await page.click('[data-test=claim-continue]');
  await page.locator('[data-test=user]').waitFor();
  assert.equal(await page.locator('[data-test=my-accounts]').count(), 0, 'no stranger\'s flat');
  await context.close();
  // The stranger's password signs no one in.
  const r = await call(base, null, 'mutation($input: LoginInput!) { login(input: $input) { token } }',
    { input: { email: 'owner@example.org', password: 'the stranger password', client: 'APP' } });
  assert.equal(r.errors?.[0]?.extensions?.code, 'INVALID_CREDENTIALS');
});
