// For admins and managers: the organisation's staff (roles, house limits) and
// the audit log.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';

export const STAFF_ROLES = ['ADMIN', 'ACCOUNTANT', 'DISPATCHER', 'ENGINEER', 'MANAGER', 'CONTRACTOR'];

function RolePicker({ value, onChange, t, prefix }) {
  return html`<span class="roles">${STAFF_ROLES.map((r) => html`<label><input type="checkbox" data-test=${`${prefix}-${r}`}
    checked=${value.includes(r)} onChange=${(e) => onChange(e.target.checked ? [...value, r] : value.filter((x) => x !== r))} /> ${t('r_' + r)}</label>`)}</span>`;
}

export function StaffView({ org, i18n, canEdit }) {
  const { t } = i18n;
  const [members, setMembers] = useState(null);
  const [houses, setHouses] = useState([]);
  const [draft, setDraft] = useState({ email: '', displayName: '', roles: ['DISPATCHER'], houseIds: [], password: '' });
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const load = () => gql(`query($org: ID!) { members(organisationId: $org) { userId email displayName roles houseIds }
      houses(organisationId: $org, first: 500) { edges { node { id address } } } }`, { org })
    .then((d) => { setMembers(d.members); setHouses(d.houses.edges.map((e) => e.node)); }, setError);
  useEffect(() => { load(); }, [org]);
  const address = (id) => houses.find((h) => h.id === id)?.address ?? id;
  const act = async (fn) => { setError(null); try { await fn(); await load(); } catch (err) { setError(err); } };
  const add = (e) => { e.preventDefault(); setNotice(null); act(async () => {
    const r = await gql('mutation($input: AddStaffMemberInput!) { addStaffMember(input: $input) { member { userId } invitation { email } } }',
      { input: { organisationId: org, ...draft, password: draft.password || null, locale: i18n.locale } });
    // An email that already has an account: its owner was invited to accept.
    if (r.addStaffMember.invitation) setNotice(t('staffInvited').replace('{email}', r.addStaffMember.invitation.email));
    setDraft({ email: '', displayName: '', roles: ['DISPATCHER'], houseIds: [], password: '' });
  }); };
  const setRoles = (m, roles) => act(() => gql('mutation($input: UpdateMembershipInput!) { updateMembership(input: $input) { member { userId } } }',
    { input: { organisationId: org, userId: m.userId, roles, houseIds: m.houseIds } }));
  const remove = (m) => act(() => gql('mutation($input: RemoveMembershipInput!) { removeMembership(input: $input) { ok } }',
    { input: { organisationId: org, userId: m.userId } }));
  return html`<h1>${t('staff')}</h1>
    ${error && html`<p class="error" role="alert">${explain(error, t)}</p>`}
    ${notice && html`<p class="notice" data-test="staff-invited" role="status">${notice}</p>`}
    <table data-test="staff"><thead><tr><th>${t('name')}</th><th>${t('email')}</th><th>${t('roles')}</th><th>${t('houses')}</th><th></th></tr></thead>
    <tbody>${(members || []).map((m) => html`<tr><td>${m.displayName}</td><td>${m.email}</td>
      <td>${canEdit ? html`<${RolePicker} value=${m.roles} t=${t} prefix=${`role-${m.email}`} onChange=${(roles) => setRoles(m, roles)} />` : m.roles.map((r) => t('r_' + r)).join(', ')}</td>
      <td>${m.houseIds.length ? m.houseIds.map(address).join('; ') : t('allHouses')}</td>
      <td>${canEdit && html`<button onClick=${() => remove(m)}>${t('remove')}</button>`}</td></tr>`)}</tbody></table>
    ${canEdit && html`<h2>${t('addStaff')}</h2><form class="stack" onSubmit=${add}>
      <input data-test="staff-email" type="email" required placeholder=${t('email')} value=${draft.email} onInput=${(e) => setDraft({ ...draft, email: e.target.value })} />
      <input data-test="staff-name" required placeholder=${t('name')} value=${draft.displayName} onInput=${(e) => setDraft({ ...draft, displayName: e.target.value })} />
      <${RolePicker} value=${draft.roles} t=${t} prefix="new-role" onChange=${(roles) => setDraft({ ...draft, roles })} />
      <select multiple data-test="staff-houses" aria-label=${t('houses')} onChange=${(e) => setDraft({ ...draft, houseIds: [...e.target.selectedOptions].map((o) => o.value) })}>
        ${houses.map((h) => html`<option value=${h.id}>${h.address}</option>`)}</select>
      <span class="muted">${t('housesHint')}</span>
      <input data-test="staff-password" type="password" autocomplete="new-password" placeholder=${t('firstPassword')} value=${draft.password} onInput=${(e) => setDraft({ ...draft, password: e.target.value })} />
      <button class="primary" data-test="staff-add">${t('addStaff')}</button></form>`}`;
}

const changes = (before, after) => {
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  const show = (v) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
  return keys.map((k) => html`<div><b>${k}</b>: ${before ? html`<s>${show(before[k])}</s> → ` : ''}${show(after?.[k])}</div>`);
};

export function AuditView({ org, i18n }) {
  const { t } = i18n;
  const [filter, setFilter] = useState({ objectType: '', operation: '' });
  const [state, setState] = useState({ items: [], total: null, error: null });
  useEffect(() => {
    const f = { objectType: filter.objectType || null, operation: filter.operation || null };
    gql(`query($org: ID!, $filter: AuditFilterInput) { auditLog(organisationId: $org, filter: $filter, first: 100) {
        totalCount edges { node { seq at userEmail roles operation objectType objectId before after clientAddress } } } }`, { org, filter: f })
      .then((d) => setState({ items: d.auditLog.edges.map((e) => e.node), total: d.auditLog.totalCount, error: null }),
        (error) => setState({ items: [], total: null, error }));
  }, [org, filter.objectType, filter.operation]);
  return html`<h1>${t('auditLog')}</h1>
    <div class="toolbar">
      <select data-test="audit-type" value=${filter.objectType} onChange=${(e) => setFilter({ ...filter, objectType: e.target.value })}>
        <option value="">${t('allObjects')}</option>
        ${['organisation', 'house', 'premises', 'account', 'person', 'occupancy', 'meter', 'membership', 'user', 'registry', 'resident_link', 'reading', 'service', 'tariff']
          .map((o) => html`<option value=${o}>${o}</option>`)}</select>
      <input placeholder=${t('operation')} value=${filter.operation} onChange=${(e) => setFilter({ ...filter, operation: e.target.value.trim() })} />
      <span class="count">${t('total')}: ${state.total ?? '…'}</span></div>
    ${state.error && html`<p class="error" role="alert">${explain(state.error, t)}</p>`}
    <table data-test="audit"><thead><tr><th>#</th><th>${t('when')}</th><th>${t('who')}</th><th>${t('operation')}</th><th>${t('object')}</th><th>${t('changes')}</th></tr></thead>
    <tbody>${state.items.map((e) => html`<tr><td class="num">${e.seq}</td><td>${new Date(e.at).toLocaleString(i18n.locale)}</td>
      <td>${e.userEmail}<br /><span class="muted">${e.roles} · ${e.clientAddress}</span></td><td>${e.operation}</td><td>${e.objectType}</td>
      <td class="changes">${changes(e.before, e.after)}</td></tr>`)}</tbody></table>`;
}

// The signed-in user accepts an invitation to an organisation's staff from
// its emailed link (#/staff-invitation?token=…).
export function AcceptInvitation({ token, i18n, onJoined }) {
  const { t } = i18n;
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const accept = async () => {
    setBusy(true); setError(null);
    try {
      await gql('mutation($input: AcceptStaffInvitationInput!) { acceptStaffInvitation(input: $input) { member { userId } } }', { input: { token } });
      onJoined();
    } catch (err) { setError(err); setBusy(false); }
  };
  return html`<section class="card"><h1>${t('inv_title')}</h1><p>${t('inv_text')}</p>
    ${error && html`<p class="error" role="alert">${error.extensions?.code === 'NOT_FOUND' ? t('inv_gone') : explain(error, t)}</p>`}
    <p><button class="primary" data-test="accept-invitation" disabled=${busy || !token} onClick=${accept}>${t('inv_accept')}</button>
    <a href="#/">${t('inv_later')}</a></p></section>`;
}
