// For accountants and admins: the services the organisation bills and their
// tariffs and norms over time (the organisation's; a house's own are set
// through the API).
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';

const METHODS = ['METERED', 'NORM', 'AREA', 'PER_PERSON', 'FIXED', 'HEATING', 'COMMON_HOUSE', 'SEWAGE'];
const RESOURCES = ['COLD_WATER', 'HOT_WATER', 'ELECTRICITY', 'HEAT', 'GAS'];
const blankService = { code: '', name: '', unit: '', method: 'METERED', resource: 'COLD_WATER', zones: 1 };

// A refusal from the catalogue, in the user's language when we have the words.
const refusal = (error, t) => {
  const reason = error?.extensions?.reason;
  const key = reason && `tariff_${reason}`;
  const text = key && t(key) !== key ? t(key) : explain(error, t);
  return error?.extensions?.field ? `${text} (${error.extensions.field})` : text;
};

function Versions({ service, i18n, canEdit }) {
  const { t, decimal, date } = i18n;
  const [versions, setVersions] = useState(null);
  const [error, setError] = useState(null);
  const zones = Array.from({ length: service.zones }, (_, z) => z);
  const [draft, setDraft] = useState({ validFrom: '', prices: zones.map(() => '') });
  const load = () => gql(`query($id: ID!) { tariffs(serviceId: $id) { id validFrom validTo zones { tiers { upTo price } } } }`, { id: service.id })
    .then((d) => setVersions(d.tariffs), setError);
  useEffect(() => { setVersions(null); setDraft({ validFrom: '', prices: zones.map(() => '') }); load(); }, [service.id]);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await gql('mutation($input: SetTariffInput!) { setTariff(input: $input) { tariff { id } } }', { input: {
        serviceId: service.id, validFrom: draft.validFrom,
        zones: draft.prices.map((p) => ({ tiers: [{ price: p.trim().replace(',', '.') }] })) } });
      setDraft({ validFrom: '', prices: zones.map(() => '') });
      await load();
    } catch (err) { setError(err); }
  };
  const zoneName = (z) => (service.zones === 1 ? t('price') : t(['zoneDay', 'zoneNight', 'zonePeak'][z]));
  const bands = (tiers) => tiers.map((b) => (b.upTo == null ? decimal(b.price) : `${t('upTo')} ${decimal(b.upTo)}: ${decimal(b.price)}`)).join('; ');
  return html`<section data-test="tariff-versions">
    <h2>${service.name} <span class="muted">${service.unit}</span></h2>
    ${error && html`<p class="error" role="alert" data-test="tariff-error">${refusal(error, t)}</p>`}
    <table><thead><tr><th>${t('validFrom')}</th><th>${t('validTo')}</th>${zones.map((z) => html`<th>${zoneName(z)}</th>`)}</tr></thead>
      <tbody>${(versions || []).map((v) => html`<tr data-test="tariff-version"><td>${date(v.validFrom)}</td><td>${v.validTo ? date(v.validTo) : t('untilChanged')}</td>
        ${v.zones.map((zone) => html`<td class="num">${bands(zone.tiers)}</td>`)}</tr>`)}</tbody></table>
    ${versions && !versions.length && html`<p class="muted">${t('noTariff')}</p>`}
    ${canEdit && html`<form class="toolbar" onSubmit=${save}>
      <label>${t('validFrom')} <input type="date" required data-test="tariff-from" value=${draft.validFrom} onInput=${(e) => setDraft({ ...draft, validFrom: e.target.value })} /></label>
      ${zones.map((z) => html`<label>${zoneName(z)} <input required inputmode="decimal" data-test=${`tariff-price-${z}`} value=${draft.prices[z]}
        onInput=${(e) => setDraft({ ...draft, prices: draft.prices.map((p, k) => (k === z ? e.target.value : p)) })} /></label>`)}
      <button class="primary" data-test="tariff-save">${t('newTariff')}</button></form>
      <p class="muted">${t('tariffHint')}</p>`}
  </section>`;
}

const BASES = ['PERSON', 'AREA', 'COMMON_AREA'];

// A service's consumption norms over time, per person or per m².
function Norms({ service, i18n, canEdit }) {
  const { t, decimal, date } = i18n;
  const [norms, setNorms] = useState(null);
  const [error, setError] = useState(null);
  const blank = { basis: 'PERSON', validFrom: '', value: '' };
  const [draft, setDraft] = useState(blank);
  const load = () => gql('query($id: ID!) { norms(serviceId: $id) { basis validFrom validTo value } }', { id: service.id })
    .then((d) => setNorms(d.norms), setError);
  useEffect(() => { setNorms(null); setDraft(blank); load(); }, [service.id]);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await gql('mutation($input: SetNormInput!) { setNorm(input: $input) { norm { validFrom } } }', { input: {
        serviceId: service.id, basis: draft.basis, validFrom: draft.validFrom, value: draft.value.trim().replace(',', '.') } });
      setDraft(blank);
      await load();
    } catch (err) { setError(err); }
  };
  return html`<section data-test="norms"><h3>${t('norms')}</h3>
    ${error && html`<p class="error" role="alert" data-test="norm-error">${refusal(error, t)}</p>`}
    <table><thead><tr><th>${t('basis')}</th><th>${t('validFrom')}</th><th>${t('validTo')}</th><th>${t('normValue')}</th></tr></thead>
      <tbody>${(norms || []).map((n) => html`<tr data-test="norm"><td>${t('basis_' + n.basis)}</td><td>${date(n.validFrom)}</td>
        <td>${n.validTo ? date(n.validTo) : t('untilChanged')}</td><td class="num">${decimal(n.value)} ${service.unit}</td></tr>`)}</tbody></table>
    ${norms && !norms.length && html`<p class="muted">${t('noNorm')}</p>`}
    ${canEdit && html`<form class="toolbar" onSubmit=${save}>
      <select data-test="norm-basis" value=${draft.basis} onChange=${(e) => setDraft({ ...draft, basis: e.target.value })}>
        ${BASES.map((b) => html`<option value=${b}>${t('basis_' + b)}</option>`)}</select>
      <label>${t('validFrom')} <input type="date" required data-test="norm-from" value=${draft.validFrom} onInput=${(e) => setDraft({ ...draft, validFrom: e.target.value })} /></label>
      <label>${t('normValue')} <input required inputmode="decimal" data-test="norm-value" value=${draft.value} onInput=${(e) => setDraft({ ...draft, value: e.target.value })} /></label>
      <button data-test="norm-save">${t('newNorm')}</button></form>`}
  </section>`;
}

export function TariffsView({ org, i18n, canEdit }) {
  const { t } = i18n;
  const [services, setServices] = useState(null);
  const [selected, setSelected] = useState(null);
  const [draft, setDraft] = useState(blankService);
  const [error, setError] = useState(null);
  const load = () => gql('query($org: ID!) { services(organisationId: $org) { id code name unit method resource zones } }', { org })
    .then((d) => setServices(d.services), setError);
  useEffect(() => { load(); }, [org]);
  const add = async (e) => {
    e.preventDefault();
    setError(null);
    const metered = draft.method === 'METERED' || draft.method === 'COMMON_HOUSE';
    try {
      const d = await gql('mutation($input: CreateServiceInput!) { createService(input: $input) { service { id } } }', { input: {
        organisationId: org, code: draft.code, name: draft.name, unit: draft.unit, method: draft.method,
        resource: metered ? draft.resource : null, zones: draft.method === 'METERED' ? Number(draft.zones) : 1 } });
      setDraft(blankService);
      await load();
      setSelected(d.createService.service.id);
    } catch (err) { setError(err); }
  };
  const chosen = services?.find((s) => s.id === selected);
  return html`<h1>${t('tariffs')}</h1>
    ${error && html`<p class="error" role="alert" data-test="service-error">${refusal(error, t)}</p>`}
    <table data-test="services"><thead><tr><th>${t('code')}</th><th>${t('service')}</th><th>${t('unit')}</th><th>${t('methodLabel')}</th></tr></thead>
      <tbody>${(services || []).map((s) => html`<tr class=${s.id === selected ? 'selected' : ''}>
        <td><a href="#/tariffs" data-test=${`service-${s.code}`} onClick=${(e) => { e.preventDefault(); setSelected(s.id); }}>${s.code}</a></td>
        <td>${s.name}</td><td>${s.unit}</td><td>${t('method_' + s.method)}${s.resource ? ` · ${t('res_' + s.resource)}` : ''}${s.zones > 1 ? ` · ${s.zones}` : ''}</td></tr>`)}</tbody></table>
    ${chosen && html`<${Versions} service=${chosen} i18n=${i18n} canEdit=${canEdit} />
      <${Norms} service=${chosen} i18n=${i18n} canEdit=${canEdit} />`}
    ${canEdit && html`<h2>${t('newService')}</h2><form class="stack" onSubmit=${add}>
      <input required data-test="service-code" placeholder=${t('codeHint')} value=${draft.code} onInput=${(e) => setDraft({ ...draft, code: e.target.value })} />
      <input required data-test="service-name" placeholder=${t('service')} value=${draft.name} onInput=${(e) => setDraft({ ...draft, name: e.target.value })} />
      <input required data-test="service-unit" placeholder=${t('unit')} value=${draft.unit} onInput=${(e) => setDraft({ ...draft, unit: e.target.value })} />
      <select data-test="service-method" value=${draft.method} onChange=${(e) => setDraft({ ...draft, method: e.target.value })}>
        ${METHODS.map((m) => html`<option value=${m}>${t('method_' + m)}</option>`)}</select>
      ${(draft.method === 'METERED' || draft.method === 'COMMON_HOUSE') && html`<select data-test="service-resource" value=${draft.resource} onChange=${(e) => setDraft({ ...draft, resource: e.target.value })}>
        ${RESOURCES.map((r) => html`<option value=${r}>${t('res_' + r)}</option>`)}</select>`}
      ${draft.method === 'METERED' && html`<label>${t('zones')} <select data-test="service-zones" value=${draft.zones} onChange=${(e) => setDraft({ ...draft, zones: e.target.value })}>
        ${[1, 2, 3].map((n) => html`<option value=${n}>${n}</option>`)}</select></label>`}
      <button class="primary" data-test="service-add">${t('newService')}</button></form>`}`;
}
