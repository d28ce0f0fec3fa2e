// An organisation's billing rules and receipt template, for accountants and
// admins: the payment QR standard and its requisites, the due day, how a
// missing reading is billed, the common-house cap, and the template's texts
// and colour, and where payments go; the next calculation and every receipt's PDF use them.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';

const FIELDS = 'qrStandard dueDay pixKey pixCity correspAccount averageMonths minMonths maxAveragePeriods commonHouseCapped receiptTitle receiptNote receiptFooter accentColor allocation penaltyRule penaltyRate penaltyFine penaltyGraceDays penaltySteps';
const NUMBERS = ['dueDay', 'averageMonths', 'minMonths', 'maxAveragePeriods', 'penaltyGraceDays'];
const PLACEHOLDERS = '{org} {period} {account} {payer} {due_date} {amount_due}';

export function BillingSettings({ org, i18n, canEdit }) {
  const { t } = i18n;
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    gql(`query($org: ID!) { billingSettings(organisationId: $org) { ${FIELDS} } }`, { org }).then((d) => setForm(d.billingSettings), setError);
  }, [org]);
  if (!form) return error ? html`<p class="error" role="alert">${explain(error, t)}</p>` : null;
  const set = (key) => (e) => {
    setSaved(false);
    const v = e.target.type === 'checkbox' ? e.target.checked : e.target.value;
    setForm({ ...form, [key]: NUMBERS.includes(key) ? Number(v) : v });
  };
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    const input = { organisationId: org };
    for (const key of FIELDS.split(' ')) input[key] = form[key] === '' && ['pixKey', 'pixCity', 'correspAccount'].includes(key) ? null : form[key];
    try {
      const d = await gql(`mutation($input: BillingSettingsInput!) { setBillingSettings(input: $input) { ${FIELDS} } }`, { input });
      setForm(d.setBillingSettings);
      setSaved(true);
    } catch (err) { setError(err); }
  };
  const text = (key, attrs = {}) => html`<label>${t(`bs_${key}`)} <input data-test=${`bs-${key}`} disabled=${!canEdit} value=${form[key] ?? ''} onInput=${set(key)} ...${attrs} /></label>`;
  const area = (key) => html`<label class="wide">${t(`bs_${key}`)} <textarea rows="3" data-test=${`bs-${key}`} disabled=${!canEdit} onInput=${set(key)} value=${form[key]}></textarea></label>`;
  return html`<details class="settings" data-test="billing-settings">
    <summary>${t('billingSettings')}</summary>
    <form class="grid" onSubmit=${save}>
      <label>${t('bs_qrStandard')} <select data-test="bs-qrStandard" disabled=${!canEdit} value=${form.qrStandard} onChange=${set('qrStandard')}>
        ${['GOST', 'PIX', 'EPC'].map((q) => html`<option value=${q}>${t(`qr_${q}`)}</option>`)}</select></label>
      ${text('dueDay', { type: 'number', min: 1, max: 28, required: true })}
      ${form.qrStandard === 'PIX' && html`${text('pixKey', { required: true, maxlength: 77 })}${text('pixCity', { required: true, maxlength: 15 })}`}
      ${form.qrStandard === 'GOST' && text('correspAccount', { pattern: '[0-9]{20}', inputmode: 'numeric' })}
      ${text('averageMonths', { type: 'number', min: 1, max: 12, required: true })}
      ${text('minMonths', { type: 'number', min: 1, max: 12, required: true })}
      ${text('maxAveragePeriods', { type: 'number', min: 0, max: 12, required: true })}
      <label>${t('bs_allocation')} <select data-test="bs-allocation" disabled=${!canEdit} value=${form.allocation} onChange=${set('allocation')}>
        ${['OLDEST_FIRST', 'PROPORTIONAL'].map((a) => html`<option value=${a}>${t(`alloc_${a}`)}</option>`)}</select></label>
      <label>${t('bs_penaltyRule')} <select data-test="bs-penaltyRule" disabled=${!canEdit} value=${form.penaltyRule} onChange=${set('penaltyRule')}>
        ${['NONE', 'GRADUATED', 'FINE_INTEREST'].map((r) => html`<option value=${r}>${t(`pen_${r}`)}</option>`)}</select></label>
      ${form.penaltyRule !== 'NONE' && text('penaltyRate', { inputmode: 'decimal', required: true, title: t(`bs_penaltyRate_${form.penaltyRule}`) })}
      ${form.penaltyRule === 'GRADUATED' && text('penaltySteps', { required: true, pattern: '\\s*\\d+\\s*:\\s*[0-9.]+\\s*(,\\s*\\d+\\s*:\\s*[0-9.]+\\s*)*' })}
      ${form.penaltyRule === 'FINE_INTEREST' && html`${text('penaltyFine', { inputmode: 'decimal', required: true })}${text('penaltyGraceDays', { type: 'number', min: 0, max: 365, required: true })}`}
      <label class="check"><input type="checkbox" data-test="bs-commonHouseCapped" disabled=${!canEdit} checked=${form.commonHouseCapped} onChange=${set('commonHouseCapped')} /> ${t('bs_commonHouseCapped')}</label>
      ${text('receiptTitle', { maxlength: 120 })}
      <label>${t('bs_accentColor')} <input type="color" data-test="bs-accentColor" disabled=${!canEdit} value=${form.accentColor} onInput=${set('accentColor')} /></label>
      ${area('receiptNote')}
      ${area('receiptFooter')}
      <p class="muted wide">${t('bs_placeholders')} <code>${PLACEHOLDERS}</code></p>
      ${error && html`<p class="error wide" role="alert" data-test="bs-error">${explain(error, t)}${error?.extensions?.field ? ` (${t(`bs_${error.extensions.field}`)})` : ''}</p>`}
      ${canEdit && html`<div class="toolbar wide"><button class="primary" data-test="bs-save">${t('save')}</button>
        ${saved && html`<span class="ok" role="status" data-test="bs-saved">${t('bs_saved')}</span>`}</div>`}
    </form>
  </details>`;
}
