// Kvartal: the staff dashboard (houses, premises and accounts with one search box)
// and the resident's accounts, behind the sign-in page.
// Static ES modules, no build step: Preact + htm (vendored), hash routing.
import { html, render, useState, useEffect, useRef } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { LOCALES, pickLocale, translator } from './i18n.js';
import { Login, Security, ResidentAccess, AddressClaim, ME, explain, logout } from './auth.js';
import { StaffView, AuditView, AcceptInvitation } from './admin.js';
import { ReadingsFeed, MyMeters } from './readings.js';
import { TariffsView } from './billing.js';
import { BillingView, MyReceipts } from './receipts.js';
import { PaymentsView, MyPayments } from './payments.js';
import { ComplaintsBoard, MyWork, MyComplaints, Documents } from './complaints.js';
import { ServicesView } from './services.js';
import { TasksView } from './tasks.js';
import { ComplaintSetup } from './complaint_setup.js';

const PAGE = 50;

function useRoute() {
  const parse = () => {
    const [path, query] = (location.hash.slice(1) || '/houses').split('?');
    return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
  };
  const [route, setRoute] = useState(parse());
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

// Loads a Relay connection page by page.
function useConnection(query, variables, pick, deps) {
  const [state, setState] = useState({ items: [], total: null, cursor: null, more: false, error: null, loading: true });
  const load = async (after, append) => {
    try {
      const data = await gql(query, { ...variables, first: PAGE, after });
      const conn = pick(data);
      setState((s) => ({
        items: append ? [...s.items, ...conn.edges.map((e) => e.node)] : conn.edges.map((e) => e.node),
        total: conn.totalCount, cursor: conn.pageInfo.endCursor, more: conn.pageInfo.hasNextPage, error: null, loading: false,
      }));
    } catch (error) {
      setState((s) => ({ ...s, error, loading: false }));
    }
  };
  useEffect(() => { setState((s) => ({ ...s, loading: true })); load(null, false); }, deps);
  return { ...state, loadMore: () => load(state.cursor, true) };
}

function SearchBox({ org, i18n }) {
  const { t } = i18n;
  const [text, setText] = useState('');
  const [hits, setHits] = useState(null);
  const [focus, setFocus] = useState(-1);
  const timer = useRef(null);
  useEffect(() => {
    clearTimeout(timer.current);
    if (text.trim().length < 2) { setHits(null); return; }
    timer.current = setTimeout(async () => {
      const data = await gql(`query Search($org: ID!, $text: String!) { search(organisationId: $org, text: $text, first: 12) {
        kind node {
          ... on Account { id number premises { number house { address } } holder { fullName } }
          ... on Person { id fullName phones }
          ... on Premises { id number house { address } }
          ... on Meter { id serial resource premises { id number } house { id address } }
          ... on House { id address } } } }`, { org, text });
      setHits(data.search);
      setFocus(-1);
    }, 180);
  }, [text, org]);
  const link = (hit) => {
    const n = hit.node;
    switch (hit.kind) {
      case 'ACCOUNT': return [`#/accounts/${n.id}`, n.number, `${n.premises.house.address}, ${t('flat')} ${n.premises.number}${n.holder ? ' · ' + n.holder.fullName : ''}`];
      case 'PERSON': return [`#/people/${n.id}`, n.fullName, n.phones.join(', ')];
      case 'PREMISES': return [`#/premises/${n.id}`, `${t('flat')} ${n.number}`, n.house.address];
      case 'METER': return [n.premises ? `#/premises/${n.premises.id}` : `#/premises?house=${n.house.id}`, n.serial, `${t('res_' + n.resource)} · ${n.house.address}${n.premises ? ', ' + t('flat') + ' ' + n.premises.number : ''}`];
      default: return [`#/premises?house=${n.id}`, n.address, ''];
    }
  };
  const go = (hit) => { location.hash = link(hit)[0].slice(1); setText(''); setHits(null); };
  const onKey = (e) => {
    if (!hits || !hits.length) return;
    if (e.key === 'ArrowDown') { setFocus((f) => Math.min(f + 1, hits.length - 1)); e.preventDefault(); }
    if (e.key === 'ArrowUp') { setFocus((f) => Math.max(f - 1, 0)); e.preventDefault(); }
    if (e.key === 'Enter') go(hits[Math.max(focus, 0)]);
    if (e.key === 'Escape') setHits(null);
  };
  return html`<div class="search">
    <input type="search" data-test="search" placeholder=${t('search')} value=${text}
      onInput=${(e) => setText(e.target.value)} onKeyDown=${onKey} aria-label=${t('search')} />
    ${hits && html`<ul class="hits" data-test="hits">
      ${hits.length === 0 && html`<li class="muted" style="padding:.5rem .8rem">${t('noResults')}</li>`}
      ${hits.map((hit, i) => {
        const [href, title, sub] = link(hit);
        return html`<li><a href=${href} class=${i === focus ? 'focused' : ''} data-kind=${hit.kind} onClick=${() => { setText(''); setHits(null); }}>
          <span class="kind">${t('k_' + hit.kind)}</span><span><b>${title}</b><br /><span class="sub">${sub}</span></span></a></li>`;
      })}
    </ul>`}
  </div>`;
}

function Failure({ error, i18n }) {
  return error ? html`<p class="error" data-test="error" role="alert">${explain(error, i18n.t)}</p>` : null;
}

function More({ conn, i18n }) {
  return conn.more ? html`<button class="more" onClick=${conn.loadMore}>${i18n.t('loadMore')}</button>` : null;
}

function HousesView({ org, i18n }) {
  const { t, decimal } = i18n;
  const conn = useConnection(
    `query Houses($org: ID!, $first: Int, $after: String) { houses(organisationId: $org, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id address yearBuilt floors entrances totalArea status } } } }`,
    { org }, (d) => d.houses, [org]);
  return html`<h1>${t('houses')}</h1>
    <p class="count">${t('total')}: ${conn.total ?? '…'}</p>
    <${Failure} error=${conn.error} i18n=${i18n} />
    <table data-test="houses"><thead><tr><th>${t('address')}</th><th class="num">${t('yearBuilt')}</th><th class="num">${t('floors')}</th>
      <th class="num">${t('entrances')}</th><th class="num">${t('totalArea')}</th><th>${t('status')}</th></tr></thead>
    <tbody>${conn.items.map((h) => html`<tr>
      <td><a href=${`#/premises?house=${h.id}`}>${h.address}</a></td><td class="num">${h.yearBuilt ?? '—'}</td>
      <td class="num">${h.floors ?? '—'}</td><td class="num">${h.entrances ?? '—'}</td>
      <td class="num">${h.totalArea ? decimal(h.totalArea) + ' m²' : '—'}</td><td>${t('st_' + h.status)}</td></tr>`)}</tbody></table>
    <${More} conn=${conn} i18n=${i18n} />`;
}

function HouseFilter({ org, house, base, i18n }) {
  const [houses, setHouses] = useState([]);
  useEffect(() => {
    gql(`query($org: ID!) { houses(organisationId: $org, first: 500) { edges { node { id address } } } }`, { org })
      .then((d) => setHouses(d.houses.edges.map((e) => e.node)));
  }, [org]);
  return html`<select data-test="house-filter" value=${house || ''} onChange=${(e) => { location.hash = e.target.value ? `${base}?house=${e.target.value}` : base; }}>
    <option value="">${i18n.t('allHouses')}</option>
    ${houses.map((h) => html`<option value=${h.id}>${h.address}</option>`)}
  </select>`;
}

function PremisesView({ org, house, i18n }) {
  const { t, decimal } = i18n;
  const conn = useConnection(
    `query Premises($org: ID!, $house: ID, $first: Int, $after: String) {
      premisesList(organisationId: $org, filter: { houseId: $house }, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id number kind entrance floor area rooms status house { address } } } } }`,
    { org, house: house || null }, (d) => d.premisesList, [org, house]);
  return html`<h1>${t('premises')}</h1>
    <div class="toolbar"><${HouseFilter} org=${org} house=${house} base="/premises" i18n=${i18n} />
      <span class="count">${t('total')}: ${conn.total ?? '…'}</span></div>
    <${Failure} error=${conn.error} i18n=${i18n} />
    <table data-test="premises"><thead><tr><th>${t('flat')}</th><th>${t('house')}</th><th>${t('kind')}</th><th class="num">${t('entrance')}</th>
      <th class="num">${t('floor')}</th><th class="num">${t('area')}</th><th class="num">${t('rooms')}</th></tr></thead>
    <tbody>${conn.items.map((p) => html`<tr>
      <td><a href=${`#/premises/${p.id}`}>${p.number}</a></td><td>${p.house.address}</td><td>${t('kind_' + p.kind)}</td>
      <td class="num">${p.entrance ?? '—'}</td><td class="num">${p.floor ?? '—'}</td><td class="num">${decimal(p.area)} m²</td>
      <td class="num">${p.rooms ?? '—'}</td></tr>`)}</tbody></table>
    <${More} conn=${conn} i18n=${i18n} />`;
}

function AccountsView({ org, house, i18n }) {
  const { t, date } = i18n;
  const conn = useConnection(
    `query Accounts($org: ID!, $house: ID, $first: Int, $after: String) {
      accounts(organisationId: $org, filter: { houseId: $house }, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { id number share registeredResidents openedOn isOpen
        premises { number house { address } } holder { fullName } } } } }`,
    { org, house: house || null }, (d) => d.accounts, [org, house]);
  return html`<h1>${t('accounts')}</h1>
    <div class="toolbar"><${HouseFilter} org=${org} house=${house} base="/accounts" i18n=${i18n} />
      <span class="count">${t('total')}: ${conn.total ?? '…'}</span></div>
    <${Failure} error=${conn.error} i18n=${i18n} />
    <table data-test="accounts"><thead><tr><th>${t('account')}</th><th>${t('address')}</th><th>${t('holder')}</th><th class="num">${t('share')}</th>
      <th class="num">${t('residents')}</th><th>${t('openedOn')}</th><th>${t('status')}</th></tr></thead>
    <tbody>${conn.items.map((a) => html`<tr>
      <td><a href=${`#/accounts/${a.id}`}>${a.number}</a></td><td>${a.premises.house.address}, ${t('flat')} ${a.premises.number}</td>
      <td>${a.holder?.fullName ?? '—'}</td><td class="num">${a.share}</td><td class="num">${a.registeredResidents}</td>
      <td>${date(a.openedOn)}</td><td>${a.isOpen ? html`<span class="badge ok">${t('open')}</span>` : html`<span class="badge">${t('closed')}</span>`}</td></tr>`)}</tbody></table>
    <${More} conn=${conn} i18n=${i18n} />`;
}

function MetersTable({ meters, i18n }) {
  const { t, decimal, date } = i18n;
  const today = new Date().toISOString().slice(0, 10);
  return html`<table data-test="meters"><thead><tr><th>${t('serial')}</th><th>${t('resource')}</th><th class="num">${t('zones')}</th>
    <th class="num">${t('initialValues')}</th><th>${t('verificationDue')}</th><th>${t('status')}</th></tr></thead>
    <tbody>${meters.map((m) => html`<tr><td>${m.serial}</td><td>${t('res_' + m.resource)}</td><td class="num">${m.zones}</td>
      <td class="num">${m.initialValues.map((v) => decimal(v)).join(' / ')} ${m.unit}</td>
      <td>${date(m.verificationDue)} ${m.verificationDue && m.verificationDue < today ? html`<span class="badge warn">${t('overdue')}</span>` : ''}</td>
      <td>${t('st_' + m.status)}</td></tr>`)}</tbody></table>`;
}

function OccupantsTable({ occupancies, i18n }) {
  const { t, date } = i18n;
  return html`<table data-test="occupants"><thead><tr><th>${t('person')}</th><th>${t('role')}</th><th class="num">${t('share')}</th>
    <th>${t('since')}</th><th>${t('until')}</th><th>${t('phones')}</th></tr></thead>
    <tbody>${occupancies.map((o) => html`<tr><td><a href=${`#/people/${o.person.id}`}>${o.person.fullName}</a></td><td>${t('role_' + o.role)}</td>
      <td class="num">${o.share ?? '—'}</td><td>${date(o.since)}</td><td>${date(o.until)}</td><td>${o.person.phones.join(', ')}</td></tr>`)}</tbody></table>`;
}

const METER_FIELDS = 'id serial resource zones unit initialValues verificationDue status';
const OCCUPANCY_FIELDS = 'role share since until person { id fullName phones }';

function useQuery(query, variables, deps) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => { setState({ data: null, error: null }); gql(query, variables).then((data) => setState({ data, error: null }), (error) => setState({ data: null, error })); }, deps);
  return state;
}

function AccountCard({ id, i18n, staff }) {
  const { t, decimal, date } = i18n;
  const { data, error } = useQuery(`query Account($id: ID!) { account(id: $id) { id number share registeredResidents openedOn closedOn isOpen privilegedCategories
    holder { id fullName phones emails preferredChannel }
    premises { id number kind area rooms floor entrance house { id address } occupancies { ${OCCUPANCY_FIELDS} } }
    meters { ${METER_FIELDS} } } }`, { id }, [id]);
  if (error) return html`<${Failure} error=${error} i18n=${i18n} />`;
  if (!data) return html`<p class="muted">${t('loading')}</p>`;
  const a = data.account;
  return html`<h1 data-test="account-title">${t('account')} ${a.number}
      ${a.isOpen ? html` <span class="badge ok">${t('open')}</span>` : html` <span class="badge">${t('closed')}</span>`}</h1>
    <div class="card"><dl class="facts">
      <dt>${t('address')}</dt><dd><a href=${`#/premises/${a.premises.id}`}>${a.premises.house.address}, ${t('flat')} ${a.premises.number}</a></dd>
      <dt>${t('kind')}</dt><dd>${t('kind_' + a.premises.kind)}</dd>
      <dt>${t('area')}</dt><dd>${decimal(a.premises.area)} m²</dd>
      <dt>${t('holder')}</dt><dd>${a.holder ? html`<a href=${`#/people/${a.holder.id}`}>${a.holder.fullName}</a> · ${[...a.holder.phones, ...a.holder.emails].join(', ')}` : '—'}</dd>
      <dt>${t('share')}</dt><dd>${a.share}</dd>
      <dt>${t('residents')}</dt><dd>${a.registeredResidents}</dd>
      <dt>${t('openedOn')}</dt><dd>${date(a.openedOn)}</dd>
      ${a.closedOn && html`<dt>${t('closedOn')}</dt><dd>${date(a.closedOn)}</dd>`}
      <dt>${t('categories')}</dt><dd>${a.privilegedCategories.length ? a.privilegedCategories.map((c) => html`<span class="badge">${c}</span> `) : '—'}</dd>
    </dl></div>
    <h2>${t('meters')}</h2><${MetersTable} meters=${a.meters} i18n=${i18n} />
    <h2>${t('occupants')}</h2><${OccupantsTable} occupancies=${a.premises.occupancies} i18n=${i18n} />
    ${staff && html`<${ResidentAccess} account=${a.id} i18n=${i18n} />`}
    <${Documents} ownerType="ACCOUNT" ownerId=${a.id} i18n=${i18n} canUpload=${staff} />`;
}

function PremisesCard({ id, i18n }) {
  const { t, decimal } = i18n;
  const { data, error } = useQuery(`query PremisesCard($id: ID!) { premises(id: $id) { id number kind area rooms floor entrance status
    house { id address } accounts { id number share isOpen holder { fullName } } occupancies { ${OCCUPANCY_FIELDS} } meters { ${METER_FIELDS} } } }`, { id }, [id]);
  if (error) return html`<${Failure} error=${error} i18n=${i18n} />`;
  if (!data) return html`<p class="muted">${t('loading')}</p>`;
  const p = data.premises;
  return html`<h1>${p.house.address}, ${t('flat')} ${p.number}</h1>
    <div class="card"><dl class="facts">
      <dt>${t('kind')}</dt><dd>${t('kind_' + p.kind)}</dd><dt>${t('area')}</dt><dd>${decimal(p.area)} m²</dd>
      <dt>${t('rooms')}</dt><dd>${p.rooms ?? '—'}</dd><dt>${t('entrance')} / ${t('floor')}</dt><dd>${p.entrance ?? '—'} / ${p.floor ?? '—'}</dd>
      <dt>${t('accounts')}</dt><dd>${p.accounts.map((a) => html`<a href=${`#/accounts/${a.id}`}>${a.number}</a> (${a.share}${a.holder ? ', ' + a.holder.fullName : ''}) `)}</dd>
    </dl></div>
    <h2>${t('meters')}</h2><${MetersTable} meters=${p.meters} i18n=${i18n} />
    <h2>${t('occupants')}</h2><${OccupantsTable} occupancies=${p.occupancies} i18n=${i18n} />`;
}

function PersonCard({ id, i18n, staff }) {
  const { t } = i18n;
  const { data, error } = useQuery(`query Person($id: ID!) { person(id: $id) { id fullName phones emails preferredChannel consentPersonalData
    accounts { id number premises { number house { address } } } occupancies { role share since until premises { id number house { address } } } } }`, { id }, [id]);
  if (error) return html`<${Failure} error=${error} i18n=${i18n} />`;
  if (!data) return html`<p class="muted">${t('loading')}</p>`;
  const p = data.person;
  return html`<h1>${p.fullName}</h1>
    <div class="card"><dl class="facts">
      <dt>${t('phones')}</dt><dd>${p.phones.join(', ') || '—'}</dd><dt>${t('emails')}</dt><dd>${p.emails.join(', ') || '—'}</dd>
      <dt>${t('channel')}</dt><dd>${t('ch_' + p.preferredChannel)}</dd>
      <dt>${t('accounts')}</dt><dd>${p.accounts.map((a) => html`<a href=${`#/accounts/${a.id}`}>${a.number}</a> (${a.premises.house.address}, ${t('flat')} ${a.premises.number}) `)}</dd>
    </dl></div>
    <h2>${t('premises')}</h2>
    <table><thead><tr><th>${t('address')}</th><th>${t('role')}</th><th class="num">${t('share')}</th></tr></thead>
    <tbody>${p.occupancies.map((o) => html`<tr><td><a href=${`#/premises/${o.premises.id}`}>${o.premises.house.address}, ${t('flat')} ${o.premises.number}</a></td>
      <td>${t('role_' + o.role)}</td><td class="num">${o.share ?? '—'}</td></tr>`)}</tbody></table>
    <${Documents} ownerType="PERSON" ownerId=${p.id} i18n=${i18n} canUpload=${staff} />`;
}

function MyAccounts({ me, i18n }) {
  const { t } = i18n;
  return html`<h1>${t('myAccounts')}</h1>
    <table data-test="my-accounts"><thead><tr><th>${t('account')}</th><th>${t('address')}</th></tr></thead>
    <tbody>${me.accounts.map((a) => html`<tr><td><a href=${`#/accounts/${a.id}`}>${a.number}</a></td>
      <td>${a.premises.house.address}, ${t('flat')} ${a.premises.number}</td></tr>`)}</tbody></table>`;
}

function App() {
  const route = useRoute();
  const [locale, setLocale] = useState(pickLocale());
  const [me, setMe] = useState(undefined);
  const [org, setOrg] = useState(localStorage.getItem('kvartal.org'));
  const i18n = translator(locale);
  const { t } = i18n;
  const loadMe = () => gql(ME).then((d) => setMe(d.me), () => setMe(null));
  useEffect(() => { loadMe(); }, []);
  useEffect(() => { document.documentElement.lang = locale; localStorage.setItem('kvartal.locale', locale); }, [locale]);
  const orgs = me ? me.memberships.map((m) => m.organisation) : [];
  const staff = orgs.length > 0;
  useEffect(() => {
    if (!me) return;
    if (staff && !orgs.find((o) => o.id === org)) {
      setOrg(orgs[0].id);
      if (!localStorage.getItem('kvartal.locale')) setLocale(orgs[0].locale);
    }
    if (!localStorage.getItem('kvartal.locale') && me.locale) setLocale(me.locale);
  }, [me]);
  useEffect(() => { if (org) localStorage.setItem('kvartal.org', org); }, [org]);
  const signedOut = () => { setMe(null); location.hash = '#/'; };
  const localeSelect = html`<select aria-label=${t('language')} data-test="locale" value=${locale} onChange=${(e) => setLocale(e.target.value)}>
    ${Object.entries(LOCALES).map(([code, name]) => html`<option value=${code}>${name}</option>`)}</select>`;
  if (me === undefined) return html`<main><p class="muted">${t('loading')}</p></main>`;
  if (me === null) {
    return html`<header class="top"><span class="brand">Kvartal</span><span class="spacer"></span>${localeSelect}</header>
      <main><${Login} key=${route.parts[0] === 'join' ? `join?${route.params}` : 'login'} i18n=${i18n} invite=${route.parts[0] === 'join' ? route.params : null}
        onIn=${() => { loadMe(); if (route.parts[0] !== 'staff-invitation') location.hash = '#/'; }} /></main>`;
  }
  const [section, id] = route.parts;
  const house = route.params.get('house');
  const roles = me.memberships.find((m) => m.organisationId === org)?.roles ?? [];
  const oversees = roles.includes('ADMIN') || roles.includes('MANAGER');
  // Contractors work on houses and meters, not on their readings.
  const readsReadings = roles.some((r) => r !== 'CONTRACTOR');
  // Tariffs: set by accountants and admins, read by managers.
  const bills = roles.includes('ADMIN') || roles.includes('ACCOUNTANT');
  const seesTariffs = bills || roles.includes('MANAGER');
  // The board is the dispatchers' (and their managers'); work orders are everyone's who fixes things.
  const dispatches = roles.some((r) => r === 'DISPATCHER' || r === 'MANAGER' || r === 'ADMIN');
  const works = roles.some((r) => r === 'ENGINEER' || r === 'CONTRACTOR' || r === 'DISPATCHER');
  // The catalogue: kept by managers, accountants and admins; the desk (dispatchers too) takes orders.
  const keepsCatalogue = roles.some((r) => r === 'ADMIN' || r === 'ACCOUNTANT' || r === 'MANAGER');
  const takesOrders = keepsCatalogue || roles.includes('DISPATCHER');
  const tab = (name, label = t(name)) => html`<a href=${`#/${name}`} class=${section === name ? 'active' : ''} data-test=${`nav-${name}`}>${label}</a>`;
  let view = html`<p class="muted">${t('loading')}</p>`;
  // An address just proven on an account registered under it before: the owner answers first.
  if (me.addressClaim) view = html`<${AddressClaim} claim=${me.addressClaim} i18n=${i18n} onDone=${() => { loadMe(); location.hash = '#/'; }} />`;
  else if (section === 'staff-invitation') view = html`<${AcceptInvitation} token=${route.params.get('token')} i18n=${i18n} onJoined=${() => { loadMe(); location.hash = '#/'; }} />`;
  else if (section === 'security') view = html`<${Security} me=${me} i18n=${i18n} onOut=${signedOut} />`;
  else if (section === 'accounts' && id) view = html`<${AccountCard} id=${id} i18n=${i18n} staff=${staff} />`;
  else if (section === 'premises' && id) view = html`<${PremisesCard} id=${id} i18n=${i18n} />`;
  else if (section === 'people' && id) view = html`<${PersonCard} id=${id} i18n=${i18n} staff=${staff} />`;
  else if (!staff && section === 'meters' && me.accounts.length) view = html`<${MyMeters} me=${me} i18n=${i18n} />`;
  else if (!staff && section === 'receipts' && me.accounts.length) view = html`<${MyReceipts} me=${me} i18n=${i18n} />`;
  else if (!staff && section === 'payments' && me.accounts.length) view = html`<${MyPayments} me=${me} i18n=${i18n} />`;
  else if (!staff && section === 'complaints' && me.accounts.length) view = html`<${MyComplaints} me=${me} i18n=${i18n} />`;
  else if (!staff) view = me.accounts.length ? html`<${MyAccounts} me=${me} i18n=${i18n} />` : html`<p>${t('noOrganisation')}</p>`;
  else if (org) {
    if (section === 'staff' && oversees) view = html`<${StaffView} org=${org} i18n=${i18n} canEdit=${roles.includes('ADMIN')} />`;
    else if (section === 'audit' && oversees) view = html`<${AuditView} org=${org} i18n=${i18n} />`;
    else if (section === 'complaints' && dispatches) {
      const setup = route.params.get('tab') === 'setup';
      view = html`<nav class="tabs"><a href="#/complaints" class=${setup ? '' : 'active'}>${t('cs_board')}</a>
          <a href="#/complaints?tab=setup" class=${setup ? 'active' : ''} data-test="complaints-setup">${t('cs_settings')}</a></nav>
        ${setup ? html`<${ComplaintSetup} org=${org} i18n=${i18n} canEdit=${oversees} />` : html`<${ComplaintsBoard} org=${org} i18n=${i18n} />`}`;
    }
    else if (section === 'services' && takesOrders) view = html`<${ServicesView} org=${org} i18n=${i18n} canEdit=${keepsCatalogue} />`;
    else if (section === 'tasks') view = html`<${TasksView} org=${org} me=${me} i18n=${i18n} canSet=${dispatches} oversees=${oversees} />`;
    else if (section === 'work' && works) view = html`<${MyWork} org=${org} me=${me} i18n=${i18n} />`;
    else if (section === 'readings' && readsReadings) view = html`<${ReadingsFeed} org=${org} i18n=${i18n} />`;
    else if (section === 'billing' && seesTariffs) view = html`<${BillingView} org=${org} i18n=${i18n} canRun=${bills} />`;
    else if (section === 'payments' && seesTariffs) view = html`<${PaymentsView} org=${org} i18n=${i18n} canRecord=${bills} tab=${route.params.get('tab')} />`;
    else if (section === 'tariffs' && seesTariffs) view = html`<${TariffsView} org=${org} i18n=${i18n} canEdit=${bills} />`;
    else if (section === 'premises') view = html`<${PremisesView} org=${org} house=${house} i18n=${i18n} />`;
    else if (section === 'accounts') view = html`<${AccountsView} org=${org} house=${house} i18n=${i18n} />`;
    else view = html`<${HousesView} org=${org} i18n=${i18n} />`;
  }
  return html`<header class="top">
      <a class="brand" href="#/">Kvartal</a>
      <nav>${staff ? [tab('houses'), tab('premises'), tab('accounts'), dispatches && tab('complaints'), works && tab('work', t('myWork')), takesOrders && tab('services', t('paidServices')), tab('tasks'), readsReadings && tab('readings'), seesTariffs && tab('tariffs'), seesTariffs && tab('billing'), seesTariffs && tab('payments'), oversees && tab('staff'), oversees && tab('audit', t('auditLog'))]
        : [tab('my', t('myAccounts')), tab('receipts', t('myReceipts')), tab('payments', t('myPayments')), tab('complaints', t('myComplaints')), tab('meters', t('myMeters'))]}</nav>
      ${staff && org && html`<${SearchBox} org=${org} i18n=${i18n} />`}
      <span class="spacer"></span>
      ${orgs.length > 1 && html`<select aria-label=${t('organisation')} value=${org} onChange=${(e) => setOrg(e.target.value)}>
        ${orgs.map((o) => html`<option value=${o.id}>${o.name}</option>`)}</select>`}
      ${localeSelect}
      <a href="#/security" class="user" data-test="user">${me.displayName}</a>
      <button data-test="logout" onClick=${async () => { await logout(); signedOut(); }}>${t('signOut')}</button>
    </header>
    <main>${view}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
