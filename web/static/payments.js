// Payments. Accountants record money received (each form carries its own
// idempotency key, so a double click or a retried request records it once),
// import bank statements and match the credits no account was found for, and
// read the debtors list with its CSV and XLSX. Managers see the same without
// the buttons. Residents see their balance, live, and their payments.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';
import { follow } from './live.js';

const PAYMENT_FIELDS = 'id amount method paidOn period bankReference payer source recordedAt account { id number premises { number house { address } } }';
const JOURNAL = `query($org: ID!) { payments(organisationId: $org, first: 100) { ${PAYMENT_FIELDS} } }`;
const RECORD = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { replayed payment { ${PAYMENT_FIELDS} } } }`;
const IMPORTS = `query($org: ID!) { statementImports(organisationId: $org, first: 20) {
  id format fileName entries matched matchedAmount unmatched unmatchedAmount duplicates debits importedAt } }`;
const QUEUE = `query($org: ID!) { statementQueue(organisationId: $org, first: 100) { total lines { id amount bookedOn payer payerAccount text bankReference } } }`;
const IMPORT = `mutation($input: ImportStatementInput!) { importStatement(input: $input) { replayed import {
  id fileName entries matched matchedAmount unmatched unmatchedAmount duplicates debits } } }`;
const DEBTORS = `query($org: ID!, $house: ID) { debtors(organisationId: $org, houseId: $house, first: 200) {
  asOf count debt aged0To30 aged31To90 aged91Plus debtors { accountId number address premises holder debt aged0To30 aged31To90 aged91Plus oldestPeriod daysOverdue lastPaidOn } } }`;

const today = () => new Date().toISOString().slice(0, 10);
const failure = (error, t) => {
  const reason = error?.extensions?.reason;
  const key = reason && `pay_${reason}`;
  const text = key && t(key) !== key ? t(key) : explain(error, t);
  return error?.extensions?.field ? `${text} (${error.extensions.field})` : text;
};
// Amounts are typed the local way (1 553,50 or 1,553.50) and sent exact.
const exact = (text) => {
  const s = text.replace(/[\s\u00a0]/g, '');
  const last = Math.max(s.lastIndexOf(','), s.lastIndexOf('.'));
  if (last < 0) return s;
  return s.slice(0, last).replace(/[.,]/g, '') + '.' + s.slice(last + 1);
};

// An account of the organisation by its exact number.
export async function accountByNumber(org, number) {
  const data = await gql(`query($org: ID!, $text: String!) { search(organisationId: $org, text: $text, first: 5) {
    kind node { ... on Account { id number } } } }`, { org, text: number });
  const hit = data.search.find((h) => h.kind === 'ACCOUNT' && h.node.number.toLowerCase() === number.trim().toLowerCase());
  return hit?.node ?? null;
}

function RecordPayment({ org, i18n, onDone }) {
  const { t } = i18n;
  const blank = () => ({ number: '', amount: '', method: 'CASH', paidOn: today(), bankReference: '', payer: '', key: crypto.randomUUID() });
  const [form, setForm] = useState(blank());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const account = await accountByNumber(org, form.number);
      if (!account) throw Object.assign(new Error(t('pay_noAccount')), { extensions: { reason: 'noAccount', field: 'account' } });
      const input = { accountId: account.id, amount: exact(form.amount), method: form.method, paidOn: form.paidOn,
        bankReference: form.bankReference || null, payer: form.payer || null, idempotencyKey: form.key };
      const d = await gql(RECORD, { input });
      onDone(d.recordPayment.payment);
      setForm(blank());
    } catch (err) { setError(err); }
    setBusy(false);
  };
  return html`<form class="card toolbar" data-test="record-payment" onSubmit=${submit}>
    <label>${t('account')} <input required data-test="pay-account" value=${form.number} onInput=${set('number')} size="12" /></label>
    <label>${t('amount')} <input required data-test="pay-amount" inputmode="decimal" value=${form.amount} onInput=${set('amount')} size="10" /></label>
    <label>${t('pay_method')} <select data-test="pay-method" value=${form.method} onChange=${set('method')}>
      ${['CASH', 'CARD', 'TRANSFER'].map((m) => html`<option value=${m}>${t('pm_' + m)}</option>`)}</select></label>
    <label>${t('pay_paidOn')} <input type="date" required data-test="pay-date" value=${form.paidOn} max=${today()} onInput=${set('paidOn')} /></label>
    <label>${t('pay_bankReference')} <input data-test="pay-reference" value=${form.bankReference} onInput=${set('bankReference')} size="12" /></label>
    <label>${t('pay_payer')} <input data-test="pay-payer" value=${form.payer} onInput=${set('payer')} size="16" /></label>
    <button class="primary" data-test="pay-submit" disabled=${busy}>${t('pay_record')}</button>
    ${error && html`<p class="error" role="alert" data-test="pay-error">${failure(error, t)}</p>`}
  </form>`;
}

function Journal({ org, i18n, canRecord }) {
  const { t, decimal, date } = i18n;
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [last, setLast] = useState(null);
  const load = () => gql(JOURNAL, { org }).then((d) => setList(d.payments), setError);
  useEffect(() => { load(); }, [org]);
  return html`
    ${canRecord && html`<${RecordPayment} org=${org} i18n=${i18n} onDone=${(p) => { setLast(p); load(); }} />`}
    ${last && html`<p class="ok" data-test="pay-done">${t('pay_recorded').replace('{amount}', decimal(last.amount)).replace('{account}', last.account.number).replace('{period}', last.period)}</p>`}
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    <table data-test="journal"><thead><tr><th>${t('pay_paidOn')}</th><th>${t('account')}</th><th>${t('address')}</th><th class="num">${t('amount')}</th>
      <th>${t('pay_method')}</th><th>${t('pay_source')}</th><th>${t('pay_bankReference')}</th><th>${t('period')}</th></tr></thead>
      <tbody>${(list || []).map((p) => html`<tr data-test="journal-row">
        <td>${date(p.paidOn)}</td><td><a href=${`#/accounts/${p.account.id}`}>${p.account.number}</a></td>
        <td>${p.account.premises.house.address}, ${t('flat')} ${p.account.premises.number}</td>
        <td class="num">${decimal(p.amount)}</td><td>${t('pm_' + p.method)}</td><td>${t('ps_' + p.source)}</td>
        <td>${p.bankReference ?? '—'}</td><td>${p.period}</td></tr>`)}</tbody></table>
    ${list && !list.length && html`<p class="muted">${t('pay_none')}</p>`}`;
}

// Sends the file as a GraphQL multipart request (the upload spec).
async function upload(input, file) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: IMPORT, variables: { input: { ...input, file: null } } }));
  form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.append('0', file, file.name);
  const response = await fetch('/graphql', { method: 'POST', body: form, headers: { 'x-requested-with': 'kvartal' } });
  const body = await response.json();
  if (body.errors?.length) throw Object.assign(new Error(body.errors[0].message), { extensions: body.errors[0].extensions || {} });
  return body.data.importStatement;
}

const MAPPING = { separator: ';', encoding: 'utf-8', decimalComma: true, headerRows: 1, dateFormat: '%d.%m.%Y', date: 0, amount: 1, payer: 2, payerAccount: '', text: 3, reference: '', direction: '' };

function Statements({ org, i18n, canImport }) {
  const { t, decimal, date } = i18n;
  const [imports, setImports] = useState(null);
  const [queue, setQueue] = useState(null);
  const [format, setFormat] = useState('');
  const [mapping, setMapping] = useState(() => JSON.parse(localStorage.getItem(`kvartal.csvMapping.${org}`) || 'null') || MAPPING);
  const [file, setFile] = useState(null);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = () => {
    gql(IMPORTS, { org }).then((d) => setImports(d.statementImports), setError);
    gql(QUEUE, { org }).then((d) => setQueue(d.statementQueue), setError);
  };
  useEffect(() => { load(); }, [org]);
  const setM = (k, number) => (e) => setMapping({ ...mapping, [k]: e.target.type === 'checkbox' ? e.target.checked : (number && e.target.value !== '' ? Number(e.target.value) : e.target.value) });
  const submit = async (e) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true); setError(null); setResult(null);
    try {
      const input = { organisationId: org, format: format || null, csvMapping: null };
      if (format === 'CSV') {
        const m = { ...mapping };
        for (const k of ['payerAccount', 'reference', 'direction', 'payer']) if (m[k] === '') m[k] = null;
        input.csvMapping = m;
        localStorage.setItem(`kvartal.csvMapping.${org}`, JSON.stringify(mapping));
      }
      setResult(await upload(input, file));
      load();
    } catch (err) { setError(err); }
    setBusy(false);
  };
  const column = (k) => html`<label>${t('map_' + k)} <input type="number" min="0" size="3" data-test=${`map-${k}`} value=${mapping[k]} onInput=${setM(k, true)} /></label>`;
  return html`
    ${canImport && html`<form class="card" data-test="import-statement" onSubmit=${submit}>
      <div class="toolbar">
        <label>${t('st_file')} <input type="file" required data-test="statement-file" onChange=${(e) => setFile(e.target.files[0])} /></label>
        <label>${t('st_format')} <select data-test="statement-format" value=${format} onChange=${(e) => setFormat(e.target.value)}>
          <option value="">${t('st_auto')}</option><option value="CAMT053">camt.053</option><option value="CNAB240">CNAB 240</option>
          <option value="ONE_C">1CClientBankExchange</option><option value="CSV">CSV</option></select></label>
        <button class="primary" data-test="statement-import" disabled=${busy}>${t('st_import')}</button>
      </div>
      ${format === 'CSV' && html`<fieldset class="toolbar" data-test="csv-mapping"><legend>${t('st_mapping')}</legend>
        <label>${t('map_separator')} <input size="2" maxlength="1" value=${mapping.separator} onInput=${setM('separator')} /></label>
        <label>${t('map_encoding')} <select value=${mapping.encoding} onChange=${setM('encoding')}>
          ${['utf-8', 'windows-1251', 'iso-8859-1', 'windows-1252'].map((x) => html`<option value=${x}>${x}</option>`)}</select></label>
        <label><input type="checkbox" checked=${mapping.decimalComma} onChange=${setM('decimalComma')} /> ${t('map_decimalComma')}</label>
        <label>${t('map_dateFormat')} <input size="9" value=${mapping.dateFormat} onInput=${setM('dateFormat')} /></label>
        ${['headerRows', 'date', 'amount', 'text', 'payer', 'payerAccount', 'reference', 'direction'].map(column)}
      </fieldset>`}
      ${result && html`<p class="ok" data-test="import-result">${result.replayed ? t('st_replayed') : t('st_done')
        .replace('{entries}', result.import.entries).replace('{matched}', result.import.matched).replace('{matchedAmount}', decimal(result.import.matchedAmount))
        .replace('{unmatched}', result.import.unmatched).replace('{duplicates}', result.import.duplicates)}</p>`}
      ${error && html`<p class="error" role="alert" data-test="import-error">${failure(error, t)}</p>`}
    </form>`}
    <h2>${t('st_queue')} <span class="muted" data-test="queue-total">${queue?.total ?? '…'}</span></h2>
    ${queue && (queue.lines.length ? html`<table data-test="queue"><thead><tr><th>${t('pay_paidOn')}</th><th class="num">${t('amount')}</th>
      <th>${t('pay_payer')}</th><th>${t('st_text')}</th><th></th></tr></thead>
      <tbody>${queue.lines.map((l) => html`<${QueueLine} key=${l.id} line=${l} org=${org} i18n=${i18n} canMatch=${canImport} onDone=${load} />`)}</tbody></table>`
      : html`<p class="muted">${t('st_queueEmpty')}</p>`)}
    <h2>${t('st_imports')}</h2>
    <table data-test="imports"><thead><tr><th>${t('when')}</th><th>${t('st_file')}</th><th class="num">${t('st_entries')}</th>
      <th class="num">${t('st_matched')}</th><th class="num">${t('st_unmatched')}</th><th class="num">${t('st_duplicates')}</th></tr></thead>
      <tbody>${(imports || []).map((i) => html`<tr><td>${date(i.importedAt.slice(0, 10))}</td><td>${i.fileName} <span class="muted">${i.format}</span></td>
        <td class="num">${i.entries}</td><td class="num">${i.matched} · ${decimal(i.matchedAmount)}</td><td class="num">${i.unmatched}</td>
        <td class="num">${i.duplicates}</td></tr>`)}</tbody></table>`;
}

function QueueLine({ line, org, i18n, canMatch, onDone }) {
  const { t, decimal, date } = i18n;
  const [number, setNumber] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState(null);
  const match = async (e) => {
    e.preventDefault(); setError(null);
    try {
      const account = await accountByNumber(org, number);
      if (!account) throw Object.assign(new Error(t('pay_noAccount')), { extensions: { reason: 'noAccount', field: 'account' } });
      await gql('mutation($input: MatchStatementLineInput!) { matchStatementLine(input: $input) { line { id } } }',
        { input: { lineId: line.id, accountId: account.id, remember: true } });
      onDone();
    } catch (err) { setError(err); }
  };
  const dismiss = async () => {
    setError(null);
    try {
      await gql('mutation($input: DismissStatementLineInput!) { dismissStatementLine(input: $input) { line { id } } }', { input: { lineId: line.id, reason } });
      onDone();
    } catch (err) { setError(err); }
  };
  return html`<tr data-test="queue-line">
    <td>${date(line.bookedOn)}</td><td class="num">${decimal(line.amount)}</td>
    <td>${line.payer ?? '—'}<br /><span class="muted">${line.payerAccount ?? ''}</span></td><td>${line.text}<br /><span class="muted">${line.bankReference}</span></td>
    <td>${canMatch && html`<form class="toolbar" onSubmit=${match}>
      <input required size="10" placeholder=${t('account')} data-test="queue-account" value=${number} onInput=${(e) => setNumber(e.target.value)} />
      <button data-test="queue-match" title=${t('st_rememberHint')}>${t('st_match')}</button>
      <input size="14" placeholder=${t('st_reason')} data-test="queue-reason" value=${reason} onInput=${(e) => setReason(e.target.value)} />
      <button type="button" data-test="queue-dismiss" onClick=${dismiss}>${t('st_dismiss')}</button></form>`}
      ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}</td></tr>`;
}

function Debtors({ org, i18n }) {
  const { t, decimal, date } = i18n;
  const [houses, setHouses] = useState([]);
  const [house, setHouse] = useState('');
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    gql(`query($org: ID!) { houses(organisationId: $org, first: 500) { edges { node { id address } } } }`, { org })
      .then((d) => setHouses(d.houses.edges.map((e) => e.node)), setError);
  }, [org]);
  useEffect(() => { setReport(null); gql(DEBTORS, { org, house: house || null }).then((d) => setReport(d.debtors), setError); }, [org, house]);
  const query = `organisationId=${org}${house ? `&houseId=${house}` : ''}`;
  return html`<div class="toolbar">
      <select data-test="debtors-house" value=${house} onChange=${(e) => setHouse(e.target.value)}>
        <option value="">${t('allHouses')}</option>${houses.map((h) => html`<option value=${h.id}>${h.address}</option>`)}</select>
      <a class="button" data-test="debtors-csv" href=${`/reports/debtors.csv?${query}`} download>CSV</a>
      <a class="button" data-test="debtors-xlsx" href=${`/reports/debtors.xlsx?${query}`} download>XLSX</a>
      ${report && html`<span class="count">${t('deb_asOf')} ${date(report.asOf)} · ${report.count} · ${t('deb_debt')} <strong data-test="debtors-total">${decimal(report.debt)}</strong></span>`}
    </div>
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    ${report && html`<table data-test="debtors"><thead><tr><th>${t('account')}</th><th>${t('address')}</th><th>${t('holder')}</th>
      <th class="num">${t('deb_debt')}</th><th class="num">${t('deb_0_30')}</th><th class="num">${t('deb_31_90')}</th><th class="num">${t('deb_91')}</th>
      <th>${t('deb_oldest')}</th><th>${t('deb_lastPaid')}</th></tr></thead>
      <tbody>${report.debtors.map((d) => html`<tr data-test="debtor">
        <td><a href=${`#/accounts/${d.accountId}`}>${d.number}</a></td><td>${d.address}, ${t('flat')} ${d.premises}</td><td>${d.holder ?? '—'}</td>
        <td class="num"><strong>${decimal(d.debt)}</strong></td><td class="num">${decimal(d.aged0To30)}</td><td class="num">${decimal(d.aged31To90)}</td>
        <td class="num">${decimal(d.aged91Plus)}</td><td>${d.oldestPeriod} <span class="muted">${d.daysOverdue} ${t('deb_days')}</span></td>
        <td>${date(d.lastPaidOn)}</td></tr>`)}</tbody>
      <tfoot><tr><th colspan="3">${t('total')}</th><th class="num">${decimal(report.debt)}</th><th class="num">${decimal(report.aged0To30)}</th>
        <th class="num">${decimal(report.aged31To90)}</th><th class="num">${decimal(report.aged91Plus)}</th><th colspan="2"></th></tr></tfoot></table>`}`;
}

export function PaymentsView({ org, i18n, canRecord, tab }) {
  const { t } = i18n;
  const current = tab || 'journal';
  const link = (name) => html`<a href=${`#/payments?tab=${name}`} class=${current === name ? 'active' : ''} data-test=${`payments-${name}`}>${t('pt_' + name)}</a>`;
  return html`<h1>${t('payments')}</h1>
    <nav class="tabs">${link('journal')} ${link('statements')} ${link('debtors')}</nav>
    ${current === 'statements' ? html`<${Statements} org=${org} i18n=${i18n} canImport=${canRecord} />`
      : current === 'debtors' ? html`<${Debtors} org=${org} i18n=${i18n} />`
      : html`<${Journal} org=${org} i18n=${i18n} canRecord=${canRecord} />`}`;
}

// A resident's balance and payments, each account; a payment confirmed
// anywhere (the accountant's desk, the bank's statement) shows at once.
export function MyPayments({ me, i18n }) {
  const { t, decimal, date } = i18n;
  const [byAccount, setByAccount] = useState(null);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('connecting');
  const load = () => Promise.all(me.accounts.map(async (a) => {
    const d = await gql(`query($id: ID!) { accountBalance(accountId: $id) { balance advance debts { period amount } }
      accountPayments(accountId: $id, first: 50) { id amount method paidOn period source } }`, { id: a.id });
    return [a, d.accountBalance, d.accountPayments];
  })).then(setByAccount, setError);
  useEffect(() => {
    load();
    const orgs = [...new Set(me.accounts.map((a) => a.premises.house.organisationId))];
    const stops = orgs.map((org) => follow(`subscription($org: ID!) { paymentConfirmed(organisationId: $org) { seq accountId kind amount balance } }`,
      { org }, { onEvent: () => load(), onStatus: setStatus, eventId: (d) => d.paymentConfirmed.seq }));
    return () => stops.forEach((s) => s());
  }, [me]);
  if (error) return html`<p class="error" role="alert">${failure(error, t)}</p>`;
  if (!byAccount) return html`<p class="muted">${t('loading')}</p>`;
  return html`<h1>${t('myPayments')} <span class="badge" data-test="payments-live" data-status=${status}>${t('live_' + status)}</span></h1>${byAccount.map(([a, b, payments]) => html`<section data-test="my-payments" data-account=${a.id}>
    <h2>${t('account')} ${a.number} <span class="muted">${a.premises.house.address}, ${t('flat')} ${a.premises.number}</span></h2>
    <p class="balance">${Number(b.balance) > 0 ? t('bal_owe') : Number(b.balance) < 0 ? t('bal_credit') : t('bal_settled')}
      <strong data-test="balance">${decimal(b.balance.replace('-', ''))}</strong></p>
    ${b.debts.length > 0 && html`<p class="muted">${t('bal_debts')}: ${b.debts.map((d) => `${d.period} — ${decimal(d.amount)}`).join('; ')}</p>`}
    <table><thead><tr><th>${t('pay_paidOn')}</th><th class="num">${t('amount')}</th><th>${t('pay_method')}</th><th>${t('period')}</th></tr></thead>
      <tbody>${payments.map((p) => html`<tr data-test="my-payment"><td>${date(p.paidOn)}</td><td class="num">${decimal(p.amount)}</td>
        <td>${t('pm_' + p.method)}</td><td>${p.period}</td></tr>`)}</tbody></table>
    ${payments.length === 0 && html`<p class="muted">${t('pay_none')}</p>`}
  </section>`)}`;
}
