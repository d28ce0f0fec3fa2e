// Paid extra services: the catalogue with each house's own price (managers,
// accountants, admins edit it), an order taken at the desk (paid at once or
// on the next receipt), and the resident's order from their page. An order
// is a work order: it shows on the complaints board and in the resident's list.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';
import { accountByNumber } from './payments.js';

const FIELDS = 'id code name category unit price defaultPrice active housePrices { houseId price }';
const ORDER = `mutation($input: OrderPaidServiceInput!) { orderPaidService(input: $input) { order { id number price status } } }`;

function failure(error, t) {
  const x = error?.extensions || {};
  if (x.code === 'VALIDATION' && x.reason) {
    const key = `sv_${x.reason}`;
    if (t(key) !== key) return t(key);
  }
  return explain(error, t);
}

const cat = (c, t) => (c ? (t(`cat_${c}`) === `cat_${c}` ? c : t(`cat_${c}`)) : '—');

export function ServicesView({ org, i18n, canEdit }) {
  const { t, decimal } = i18n;
  const [list, setList] = useState(null);
  const [houses, setHouses] = useState([]);
  const [cats, setCats] = useState([]);
  const [editing, setEditing] = useState(null);
  const [error, setError] = useState(null);
  const load = () => gql(`query($org: ID!) { paidServices(organisationId: $org) { ${FIELDS} } }`, { org }).then((d) => setList(d.paidServices), setError);
  useEffect(() => {
    load();
    gql(`query($org: ID!) { houses(organisationId: $org, first: 500) { edges { node { id address } } } complaintCategories(organisationId: $org) }`, { org })
      .then((d) => { setHouses(d.houses.edges.map((e) => e.node)); setCats(d.complaintCategories); }, () => {});
  }, [org]);
  const address = (id) => houses.find((h) => h.id === id)?.address ?? id;
  return html`<h1>${t('paidServices')}</h1>
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    ${canEdit && !editing && html`<div class="toolbar"><button data-test="service-add" onClick=${() => setEditing({ code: '', name: '', category: '', unit: t('sv_unitDefault'), price: '', active: true, housePrices: [] })}>${t('sv_add')}</button></div>`}
    ${editing && html`<${ServiceForm} org=${org} i18n=${i18n} draft=${editing} houses=${houses} cats=${cats}
      onDone=${() => { setEditing(null); load(); }} onCancel=${() => setEditing(null)} />`}
    ${list && html`<table data-test="services"><thead><tr><th>${t('name')}</th><th>${t('c_category')}</th><th>${t('sv_unit')}</th>
      <th class="num">${t('sv_price')}</th><th>${t('sv_housePrices')}</th><th></th></tr></thead>
      <tbody>${list.map((s) => html`<tr data-test="service-row" class=${s.active ? '' : 'muted'}>
        <td>${s.name} <span class="muted">${s.code}</span></td><td>${cat(s.category, t)}</td><td>${s.unit}</td>
        <td class="num">${decimal(s.defaultPrice)}</td>
        <td>${s.housePrices.map((h) => html`<div>${address(h.houseId)}: ${decimal(h.price)}</div>`)}</td>
        <td>${canEdit && html`<button onClick=${() => setEditing({ ...s, category: s.category ?? '', price: s.defaultPrice })}>${t('edit')}</button>`}</td></tr>`)}</tbody></table>`}
    ${list && list.length === 0 && html`<p class="muted">${t('sv_none')}</p>`}
    ${list && list.some((s) => s.active) && html`<${DeskOrder} org=${org} i18n=${i18n} services=${list.filter((s) => s.active)} />`}`;
}

function ServiceForm({ org, i18n, draft, houses, cats, onDone, onCancel }) {
  const { t } = i18n;
  const [d, setD] = useState(draft);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setD({ ...d, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const save = async (e) => {
    e.preventDefault();
    try {
      await gql(`mutation($input: SavePaidServiceInput!) { savePaidService(input: $input) { id } }`, { input: {
        id: d.id, organisationId: org, code: d.code, name: d.name, category: d.category || null, unit: d.unit,
        price: d.price.replace(/\s/g, '').replace(',', '.'), active: d.active,
        housePrices: d.housePrices.filter((h) => h.houseId && h.price).map((h) => ({ houseId: h.houseId, price: String(h.price).replace(',', '.') })) } });
      onDone();
    } catch (err) { setError(err); }
  };
  return html`<form class="panel" onSubmit=${save} data-test="service-form">
    <label>${t('name')} <input required data-test="sv-name" value=${d.name} onInput=${set('name')} /></label>
    <label>${t('sv_code')} <input required data-test="sv-code" value=${d.code} onInput=${set('code')} /></label>
    <label>${t('c_category')} <select data-test="sv-category" value=${d.category} onChange=${set('category')}><option value="">—</option>
      ${cats.map((c) => html`<option value=${c}>${cat(c, t)}</option>`)}</select></label>
    <label>${t('sv_unit')} <input required value=${d.unit} onInput=${set('unit')} /></label>
    <label>${t('sv_price')} <input required inputmode="decimal" data-test="sv-price" value=${d.price} onInput=${set('price')} /></label>
    <label><input type="checkbox" checked=${d.active} onChange=${set('active')} /> ${t('sv_active')}</label>
    <h2>${t('sv_housePrices')}</h2>
    ${d.housePrices.map((h, i) => html`<div class="toolbar">
      <select value=${h.houseId} onChange=${(e) => setD({ ...d, housePrices: d.housePrices.map((x, k) => (k === i ? { ...x, houseId: e.target.value } : x)) })}>
        <option value="">—</option>${houses.map((x) => html`<option value=${x.id}>${x.address}</option>`)}</select>
      <input inputmode="decimal" value=${h.price} onInput=${(e) => setD({ ...d, housePrices: d.housePrices.map((x, k) => (k === i ? { ...x, price: e.target.value } : x)) })} />
      <button type="button" onClick=${() => setD({ ...d, housePrices: d.housePrices.filter((_, k) => k !== i) })}>${t('remove')}</button></div>`)}
    <button type="button" onClick=${() => setD({ ...d, housePrices: [...d.housePrices, { houseId: '', price: '' }] })}>${t('sv_addHousePrice')}</button>
    ${error && html`<p class="error" role="alert" data-test="sv-error">${failure(error, t)}</p>`}
    <div class="toolbar"><button type="submit" data-test="sv-save">${t('save')}</button><button type="button" onClick=${onCancel}>${t('cancel')}</button></div>
  </form>`;
}

// An order taken at the desk: for an account by its number, paid now or on the receipt.
function DeskOrder({ org, i18n, services }) {
  const { t, decimal } = i18n;
  const [form, setForm] = useState({ service: services[0].id, number: '', note: '', paid: '' });
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setError(null); setDone(null);
    try {
      const acc = await accountByNumber(org, form.number);
      if (!acc) { setError(new Error(t('pay_noAccount'))); return; }
      const d = await gql(ORDER, { input: { serviceId: form.service, accountId: acc.id, note: form.note || null, paidAtOnce: form.paid || null } });
      const o = d.orderPaidService.order;
      setDone(t('sv_ordered').replace('{n}', o.number).replace('{price}', decimal(o.price)));
      setForm({ ...form, number: '', note: '' });
    } catch (err) { setError(err); }
  };
  return html`<form class="panel" onSubmit=${save} data-test="desk-order"><h2>${t('sv_deskOrder')}</h2>
    <label>${t('paidServices')} <select value=${form.service} onChange=${set('service')}>${services.map((s) => html`<option value=${s.id}>${s.name} — ${decimal(s.price)}</option>`)}</select></label>
    <label>${t('account')} <input required data-test="desk-account" value=${form.number} onInput=${set('number')} /></label>
    <label>${t('sv_note')} <input value=${form.note} onInput=${set('note')} /></label>
    <label>${t('sv_payment')} <select value=${form.paid} onChange=${set('paid')} data-test="desk-paid">
      <option value="">${t('sv_onReceipt')}</option><option value="CASH">${t('pm_CASH')}</option><option value="CARD">${t('pm_CARD')}</option></select></label>
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    ${done && html`<p class="ok" role="status" data-test="desk-done">${done}</p>`}
    <button type="submit">${t('sv_order')}</button></form>`;
}

// The resident's catalogue: the prices of their house, ordered in one step.
export function OrderService({ me, i18n, onOrdered }) {
  const { t, decimal } = i18n;
  const account = me.accounts[0];
  const org = account?.premises.house.organisationId;
  const [list, setList] = useState(null);
  const [chosen, setChosen] = useState(null);
  const [note, setNote] = useState('');
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!org) return;
    gql(`query($org: ID!, $h: ID) { paidServices(organisationId: $org, houseId: $h) { id name unit price } }`, { org, h: account.premises.house.id })
      .then((d) => setList(d.paidServices), setError);
  }, [org]);
  if (!list || list.length === 0) return null;
  const order = async (e) => {
    e.preventDefault();
    try {
      const d = await gql(ORDER, { input: { serviceId: chosen, accountId: account.id, note: note || null } });
      setDone(t('sv_ordered').replace('{n}', d.orderPaidService.order.number).replace('{price}', decimal(d.orderPaidService.order.price)));
      setChosen(null); setNote(''); setError(null);
      onOrdered();
    } catch (err) { setError(err); }
  };
  return html`<section class="panel" data-test="order-service"><h2>${t('sv_orderTitle')}</h2>
    <ul class="plain">${list.map((s) => html`<li><label><input type="radio" name="svc" data-test="svc-choice" checked=${chosen === s.id} onChange=${() => setChosen(s.id)} />
      ${s.name} — <strong>${decimal(s.price)}</strong> / ${s.unit}</label></li>`)}</ul>
    ${chosen && html`<form onSubmit=${order}><label>${t('sv_note')} <input data-test="svc-note" value=${note} onInput=${(e) => setNote(e.target.value)} /></label>
      <p class="muted">${t('sv_onReceiptHint')}</p><button type="submit" data-test="svc-order">${t('sv_order')}</button></form>`}
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    ${done && html`<p class="ok" role="status" data-test="svc-done">${done}</p>`}
  </section>`;
}
