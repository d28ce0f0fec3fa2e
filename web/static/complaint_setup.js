// Complaint settings (managers, administrators; dispatchers read them): the
// reopen window, departments and contractors with their people, routing
// rules, deadlines per category and priority, and the classification rules.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';

const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'EMERGENCY'];
const SETUP = `query($org: ID!) { complaintSetup(organisationId: $org) { reopenDays categories builtInRules
  rules { category locale phrase weight emergency } routes { category houseId personId groupId }
  slas { category priority reactHours resolveHours } groups { id kind name memberIds } }
  complaintAssignees(organisationId: $org) { userId name }
  houses(organisationId: $org, first: 500) { edges { node { id address } } } }`;

function failure(error, t) {
  const x = error?.extensions || {};
  if (x.field) return `${x.field}: ${error.message.replace(/^[^:]*: /, '')}`;
  return explain(error, t);
}

const cat = (c, t) => (c ? (t(`cat_${c}`) === `cat_${c}` ? c : t(`cat_${c}`)) : t('cs_any'));

export function ComplaintSetup({ org, i18n, canEdit }) {
  const { t } = i18n;
  const [data, setData] = useState(null);
  const [draft, setDraft] = useState(null);
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(false);
  const load = () => gql(SETUP, { org }).then((d) => {
    setData(d);
    const s = d.complaintSetup;
    setDraft({ reopenDays: String(s.reopenDays), routes: s.routes.map((r) => ({ ...r, target: r.personId ? `p:${r.personId}` : `g:${r.groupId}` })),
      slas: s.slas.map((x) => ({ ...x })), rules: s.rules.map((x) => ({ ...x, weight: String(x.weight) })) });
  }, setError);
  useEffect(() => { load(); }, [org]);
  if (error && !data) return html`<p class="error" role="alert">${failure(error, t)}</p>`;
  if (!data || !draft) return html`<p class="muted">${t('loading')}</p>`;
  const s = data.complaintSetup;
  const people = data.complaintAssignees;
  const houses = data.houses.edges.map((e) => e.node);
  const row = (list, i, k) => (e) => setDraft({ ...draft, [list]: draft[list].map((x, j) => (j === i ? { ...x, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value } : x)) });
  const drop = (list, i) => () => setDraft({ ...draft, [list]: draft[list].filter((_, j) => j !== i) });
  const add = (list, x) => () => setDraft({ ...draft, [list]: [...draft[list], x] });
  const save = async (e) => {
    e.preventDefault();
    setSaved(false);
    try {
      await gql(`mutation($input: UpdateComplaintSetupInput!) { updateComplaintSetup(input: $input) { reopenDays } }`, { input: {
        organisationId: org, reopenDays: Number(draft.reopenDays),
        routes: draft.routes.map((r) => {
          const [k, id] = r.target.split(':');
          return { category: r.category || null, houseId: r.houseId || null, personId: k === 'p' ? id : null, groupId: k === 'g' ? id : null };
        }),
        slas: draft.slas.map((x) => ({ category: x.category || null, priority: x.priority, reactHours: Number(x.reactHours), resolveHours: Number(x.resolveHours) })),
        rules: draft.rules.map((x) => ({ category: x.category, locale: x.locale || null, phrase: x.phrase, weight: Number(x.weight), emergency: x.emergency })),
      } });
      setError(null); setSaved(true); load();
    } catch (err) { setError(err); }
  };
  const dis = !canEdit;
  return html`<form onSubmit=${save} data-test="complaint-setup">
    <section class="panel"><label>${t('cs_reopenDays')} <input type="number" min="0" max="90" disabled=${dis} data-test="reopen-days"
      value=${draft.reopenDays} onInput=${(e) => setDraft({ ...draft, reopenDays: e.target.value })} /></label></section>
    <${Groups} org=${org} i18n=${i18n} groups=${s.groups} people=${people} canEdit=${canEdit} onSaved=${load} />
    <h2>${t('cs_routes')}</h2><p class="muted">${t('cs_routesHint')}</p>
    <table data-test="routes"><thead><tr><th>${t('c_category')}</th><th>${t('tl_HOUSE')}</th><th>${t('c_assignee')}</th><th></th></tr></thead><tbody>
      ${draft.routes.map((r, i) => html`<tr data-test="route">
        <td><select disabled=${dis} value=${r.category ?? ''} onChange=${row('routes', i, 'category')}><option value="">${t('cs_any')}</option>
          ${s.categories.map((c) => html`<option value=${c}>${cat(c, t)}</option>`)}</select></td>
        <td><select disabled=${dis} value=${r.houseId ?? ''} onChange=${row('routes', i, 'houseId')}><option value="">${t('cs_any')}</option>
          ${houses.map((h) => html`<option value=${h.id}>${h.address}</option>`)}</select></td>
        <td><select disabled=${dis} data-test="route-target" value=${r.target} onChange=${row('routes', i, 'target')}><option value="">—</option>
          ${s.groups.map((g) => html`<option value=${`g:${g.id}`}>${g.name}</option>`)}
          ${people.map((p) => html`<option value=${`p:${p.userId}`}>${p.name}</option>`)}</select></td>
        <td>${canEdit && html`<button type="button" onClick=${drop('routes', i)}>${t('remove')}</button>`}</td></tr>`)}</tbody></table>
    ${canEdit && html`<button type="button" data-test="route-add" onClick=${add('routes', { category: '', houseId: '', target: '' })}>${t('cs_addRoute')}</button>`}
    <h2>${t('cs_slas')}</h2><p class="muted">${t('cs_slasHint')}</p>
    <table data-test="slas"><thead><tr><th>${t('c_category')}</th><th>${t('cs_priority')}</th><th class="num">${t('cs_react')}</th><th class="num">${t('cs_resolve')}</th><th></th></tr></thead><tbody>
      ${draft.slas.map((x, i) => html`<tr>
        <td><select disabled=${dis} value=${x.category ?? ''} onChange=${row('slas', i, 'category')}><option value="">${t('cs_any')}</option>
          ${s.categories.map((c) => html`<option value=${c}>${cat(c, t)}</option>`)}</select></td>
        <td><select disabled=${dis} value=${x.priority} onChange=${row('slas', i, 'priority')}>${PRIORITIES.map((p) => html`<option value=${p}>${t('cp_' + p)}</option>`)}</select></td>
        <td class="num"><input type="number" min="1" disabled=${dis} value=${x.reactHours} onInput=${row('slas', i, 'reactHours')} /></td>
        <td class="num"><input type="number" min="1" disabled=${dis} value=${x.resolveHours} onInput=${row('slas', i, 'resolveHours')} /></td>
        <td>${canEdit && html`<button type="button" onClick=${drop('slas', i)}>${t('remove')}</button>`}</td></tr>`)}</tbody></table>
    ${canEdit && html`<button type="button" onClick=${add('slas', { category: '', priority: 'NORMAL', reactHours: '24', resolveHours: '168' })}>${t('cs_addSla')}</button>`}
    <h2>${t('cs_rules')} ${s.builtInRules && html`<span class="tag">${t('cs_builtIn')}</span>`}</h2><p class="muted">${t('cs_rulesHint')}</p>
    <table data-test="rules"><thead><tr><th>${t('c_category')}</th><th>${t('language')}</th><th>${t('cs_phrase')}</th><th class="num">${t('cs_weight')}</th><th>${t('c_emergency')}</th><th></th></tr></thead><tbody>
      ${draft.rules.map((x, i) => html`<tr>
        <td><input disabled=${dis} value=${x.category} onInput=${row('rules', i, 'category')} size="12" /></td>
        <td><select disabled=${dis} value=${x.locale ?? ''} onChange=${row('rules', i, 'locale')}><option value="">${t('cs_any')}</option>
          ${['ru', 'pt-BR', 'en'].map((l) => html`<option value=${l}>${l}</option>`)}</select></td>
        <td><input disabled=${dis} value=${x.phrase} onInput=${row('rules', i, 'phrase')} /></td>
        <td class="num"><input type="number" min="1" max="100" disabled=${dis} value=${x.weight} onInput=${row('rules', i, 'weight')} /></td>
        <td><input type="checkbox" disabled=${dis} checked=${x.emergency} onChange=${row('rules', i, 'emergency')} /></td>
        <td>${canEdit && html`<button type="button" onClick=${drop('rules', i)}>${t('remove')}</button>`}</td></tr>`)}</tbody></table>
    ${canEdit && html`<button type="button" onClick=${add('rules', { category: '', locale: '', phrase: '', weight: '1', emergency: false })}>${t('cs_addRule')}</button>`}
    ${error && html`<p class="error" role="alert" data-test="setup-error">${failure(error, t)}</p>`}
    ${saved && html`<p class="ok" role="status" data-test="setup-saved">${t('cs_saved')}</p>`}
    ${canEdit && html`<div class="toolbar"><button type="submit" data-test="setup-save">${t('save')}</button></div>`}
  </form>`;
}

// Departments and contractors with their people.
function Groups({ org, i18n, groups, people, canEdit, onSaved }) {
  const { t } = i18n;
  const [edit, setEdit] = useState(null);
  const [error, setError] = useState(null);
  const save = async () => {
    try {
      await gql(`mutation($input: SaveStaffGroupInput!) { saveStaffGroup(input: $input) { id } }`,
        { input: { id: edit.id, organisationId: org, kind: edit.kind, name: edit.name, memberIds: edit.memberIds } });
      setEdit(null); setError(null); onSaved();
    } catch (err) { setError(err); }
  };
  const name = (id) => people.find((p) => p.userId === id)?.name ?? id;
  return html`<h2>${t('cs_groups')}</h2>
    <table data-test="groups"><tbody>${groups.map((g) => html`<tr data-test="group"><td><strong>${g.name}</strong> <span class="tag">${t('cs_' + g.kind)}</span></td>
      <td>${g.memberIds.map(name).join(', ')}</td>
      <td>${canEdit && html`<button type="button" onClick=${() => setEdit({ ...g })}>${t('edit')}</button>`}</td></tr>`)}</tbody></table>
    ${canEdit && !edit && html`<button type="button" data-test="group-add" onClick=${() => setEdit({ kind: 'DEPARTMENT', name: '', memberIds: [] })}>${t('cs_addGroup')}</button>`}
    ${edit && html`<div class="panel" data-test="group-form">
      <label>${t('name')} <input data-test="group-name" value=${edit.name} onInput=${(e) => setEdit({ ...edit, name: e.target.value })} /></label>
      <label><select value=${edit.kind} onChange=${(e) => setEdit({ ...edit, kind: e.target.value })}>
        <option value="DEPARTMENT">${t('cs_DEPARTMENT')}</option><option value="CONTRACTOR">${t('cs_CONTRACTOR')}</option></select></label>
      <fieldset><legend>${t('cs_members')}</legend>${people.map((p) => html`<label><input type="checkbox" data-test="group-member" data-name=${p.name}
        checked=${edit.memberIds.includes(p.userId)} onChange=${(e) => setEdit({ ...edit, memberIds: e.target.checked ? [...edit.memberIds, p.userId] : edit.memberIds.filter((m) => m !== p.userId) })} /> ${p.name}</label>`)}</fieldset>
      ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
      <div class="toolbar"><button type="button" data-test="group-save" onClick=${save}>${t('save')}</button><button type="button" onClick=${() => setEdit(null)}>${t('cancel')}</button></div>
    </div>`}`;
}
