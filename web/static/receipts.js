// Billing periods and receipts. Accountants and admins run a period's
// calculation and watch it live, close it, and look through its receipts with
// a PDF preview; managers see the same without the buttons. Residents see
// their receipts, open the PDF and pay by the QR.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';
import { follow } from './live.js';
import { BillingSettings } from './billing_settings.js';

const PERIODS = `query($org: ID!) { billingPeriods(organisationId: $org) { id period status running accountsTotal accountsDone calculatedAt closedAt } }`;
const RECEIPTS = `query($org: ID!, $period: String!, $offset: Int!) { receipts(organisationId: $org, period: $period, offset: $offset, limit: 50) {
  total items { id period amountDue charged benefits recalculated penalties dueDate pdfUrl account { number } } } }`;

const thisMonth = () => new Date().toISOString().slice(0, 7);
const failure = (error, t) => {
  const reason = error?.extensions?.reason;
  const key = reason && `billing_${reason}`;
  const text = key && t(key) !== key ? t(key) : explain(error, t);
  return error?.extensions?.field ? `${text} (${error.extensions.field})` : text;
};

function Progress({ run, i18n }) {
  const { t } = i18n;
  if (!run) return null;
  const pct = run.total ? Math.round((100 * run.done) / run.total) : 0;
  return html`<div class="run" data-test="run-progress" data-status=${run.status}>
    <progress max="100" value=${run.status === 'calculated' ? 100 : pct}></progress>
    <span>${run.period}: ${t(`run_${run.status}`)} · ${run.done} / ${run.total} ${t('accounts').toLowerCase()} · ${run.lines} ${t('lines')}</span>
    ${run.error && html`<p class="error" role="alert">${run.error}</p>`}
  </div>`;
}

function Receipts({ org, period, i18n }) {
  const { t, decimal, date } = i18n;
  const [page, setPage] = useState(null);
  const [offset, setOffset] = useState(0);
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => { setPreview(null); setOffset(0); }, [period]);
  useEffect(() => { gql(RECEIPTS, { org, period, offset }).then((d) => setPage(d.receipts), setError); }, [org, period, offset]);
  if (error) return html`<p class="error" role="alert">${failure(error, t)}</p>`;
  if (!page) return html`<p class="muted">${t('loading')}</p>`;
  return html`<section class="split">
    <div>
      <h2>${t('receipts')} ${period} <span class="muted">${page.total}</span></h2>
      <table data-test="receipts"><thead><tr><th>${t('account')}</th><th class="num">${t('charged')}</th><th class="num">${t('benefitsTotal')}</th>
        <th class="num">${t('penaltiesTotal')}</th><th class="num">${t('amountDue')}</th><th>${t('dueDate')}</th><th></th></tr></thead>
      <tbody>${page.items.map((r) => html`<tr data-test="receipt" class=${preview === r.pdfUrl ? 'active' : ''}>
        <td>${r.account.number}</td><td class="num">${decimal(r.charged)}</td><td class="num">${decimal(r.benefits)}</td>
        <td class="num">${decimal(r.penalties)}</td><td class="num"><strong>${decimal(r.amountDue)}</strong></td><td>${date(r.dueDate)}</td>
        <td><button data-test="preview" onClick=${() => setPreview(r.pdfUrl)}>${t('preview')}</button> <a href=${r.pdfUrl} target="_blank" rel="noopener">PDF</a></td></tr>`)}</tbody></table>
      <div class="toolbar">
        ${offset > 0 && html`<button onClick=${() => setOffset(Math.max(0, offset - 50))}>←</button>`}
        ${offset + 50 < page.total && html`<button onClick=${() => setOffset(offset + 50)}>→</button>`}
      </div>
    </div>
    ${preview && html`<iframe class="pdf" data-test="pdf-preview" title=${t('preview')} src=${preview}></iframe>`}
  </section>`;
}

export function BillingView({ org, i18n, canRun }) {
  const { t, date } = i18n;
  const [periods, setPeriods] = useState(null);
  const [month, setMonth] = useState(thisMonth());
  const [run, setRun] = useState(null);
  const [shown, setShown] = useState(null);
  const [error, setError] = useState(null);
  const load = () => gql(PERIODS, { org }).then((d) => setPeriods(d.billingPeriods), setError);
  useEffect(() => {
    load();
    // Progress of any run of the organisation, this page's or the command line's.
    return follow(`subscription($org: ID!) { billingProgress(organisationId: $org) { periodId period status done total lines error } }`, { org }, {
      onEvent: (d) => {
        setRun(d.billingProgress);
        if (d.billingProgress.status !== 'running') load();
      },
    });
  }, [org]);
  const calculate = async (period) => {
    setError(null);
    try {
      await gql('mutation($org: ID!, $p: String!) { calculatePeriod(organisationId: $org, period: $p) { id } }', { org, p: period });
      setRun({ period, status: 'running', done: 0, total: 0, lines: 0 });
      load();
    } catch (e) { setError(e); }
  };
  const close = async (period) => {
    if (!confirm(t('closeConfirm').replace('{period}', period))) return;
    setError(null);
    try {
      await gql('mutation($org: ID!, $p: String!) { closePeriod(organisationId: $org, period: $p) { id } }', { org, p: period });
      load();
    } catch (e) { setError(e); }
  };
  return html`<h1>${t('billing')}</h1>
    <${BillingSettings} org=${org} i18n=${i18n} canEdit=${canRun} />
    ${error && html`<p class="error" role="alert" data-test="billing-error">${failure(error, t)}</p>`}
    ${canRun && html`<form class="toolbar" onSubmit=${(e) => { e.preventDefault(); calculate(month); }}>
      <label>${t('period')} <input type="month" required data-test="run-period" value=${month} onInput=${(e) => setMonth(e.target.value)} /></label>
      <button class="primary" data-test="run">${t('calculate')}</button></form>`}
    <${Progress} run=${run} i18n=${i18n} />
    <table data-test="periods"><thead><tr><th>${t('period')}</th><th>${t('status')}</th><th class="num">${t('accounts')}</th><th>${t('calculatedAt')}</th><th></th></tr></thead>
      <tbody>${(periods || []).map((p) => html`<tr data-test="period" data-period=${p.period} data-status=${p.status}>
        <td><a href="#" onClick=${(e) => { e.preventDefault(); setShown(p.period); }}>${p.period}</a></td>
        <td>${t(`period_${p.status}`)}${p.running ? ` · ${t('run_running')}` : ''}</td><td class="num">${p.accountsDone}</td>
        <td>${p.calculatedAt ? date(p.calculatedAt.slice(0, 10)) : '—'}</td>
        <td>${canRun && p.status !== 'CLOSED' && html`<button data-test="recalculate" onClick=${() => calculate(p.period)}>${t('calculate')}</button>`}
          ${canRun && p.status === 'CALCULATED' && html` <button data-test="close-period" onClick=${() => close(p.period)}>${t('closePeriod')}</button>`}</td></tr>`)}</tbody></table>
    ${periods && !periods.length && html`<p class="muted">${t('noPeriods')}</p>`}
    ${shown && html`<${Receipts} org=${org} period=${shown} i18n=${i18n} />`}`;
}

// The payment QR drawn from its modules (one unit each, four of quiet zone).
function Qr({ code }) {
  const side = code.size + 8;
  return html`<svg class="qr" data-test="qr" viewBox=${`-4 -4 ${side} ${side}`} width="180" height="180" role="img" aria-label=${code.standard}>
    <rect x="-4" y="-4" width=${side} height=${side} fill="#fff" /><path d=${code.svgPath} fill="#000" /></svg>`;
}

export function MyReceipts({ me, i18n }) {
  const { t, decimal, date } = i18n;
  const [byAccount, setByAccount] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    // The QR is drawn for the latest receipt only: one payment code per account.
    const latest = async (a) => {
      const { accountReceipts: list } = await gql('query($id: ID!) { accountReceipts(accountId: $id) { id period amountDue dueDate pdfUrl } }', { id: a.id });
      if (list.length) {
        const { receipt } = await gql('query($id: ID!) { receipt(id: $id) { payment { standard payload size svgPath } } }', { id: list[0].id });
        list[0] = { ...list[0], payment: receipt.payment };
      }
      return [a, list];
    };
    Promise.all(me.accounts.map(latest)).then(setByAccount, setError);
  }, [me]);
  if (error) return html`<p class="error" role="alert">${failure(error, t)}</p>`;
  if (!byAccount) return html`<p class="muted">${t('loading')}</p>`;
  return html`<h1>${t('myReceipts')}</h1>${byAccount.map(([a, receipts]) => html`<section data-test="my-receipts">
    <h2>${t('account')} ${a.number} <span class="muted">${a.premises.house.address}, ${t('flat')} ${a.premises.number}</span></h2>
    ${receipts.length === 0 ? html`<p class="muted">${t('noReceipts')}</p>` : html`
      <div class="pay">
        <div><p>${t('amountDue')} ${receipts[0].period}: <strong data-test="amount-due">${decimal(receipts[0].amountDue)}</strong></p>
          <p>${t('dueDate')}: ${date(receipts[0].dueDate)}</p>
          <p><a class="button primary" data-test="receipt-pdf" href=${receipts[0].pdfUrl} download=${`receipt-${a.number}-${receipts[0].period}.pdf`}>${t('downloadReceipt')}</a></p></div>
        ${receipts[0].payment && html`<figure><${Qr} code=${receipts[0].payment} /><figcaption>${t('scanToPay')} · ${receipts[0].payment.standard}</figcaption></figure>`}
      </div>
      <table><thead><tr><th>${t('period')}</th><th class="num">${t('amountDue')}</th><th>${t('dueDate')}</th><th></th></tr></thead>
        <tbody>${receipts.map((r) => html`<tr data-test="my-receipt"><td>${r.period}</td><td class="num">${decimal(r.amountDue)}</td><td>${date(r.dueDate)}</td>
          <td><a href=${r.pdfUrl} download=${`receipt-${a.number}-${r.period}.pdf`}>PDF</a></td></tr>`)}</tbody></table>`}
  </section>`)}`;
}
