// Complaints: the dispatcher's live board (a column per status, drag a card
// to move it where the workflow allows, filters, deadline timers), the
// engineer's work orders on a phone (start, wait, done with a photo), and the
// resident's page (file with a photo, follow live, rate, reopen).
import { html, useState, useEffect, useRef } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { follow } from './live.js';
import { explain } from './auth.js';
import { OrderService } from './services.js';
import { accountByNumber } from './payments.js';

export const STATUSES = ['NEW', 'ASSIGNED', 'IN_PROGRESS', 'WAITING_RESIDENT', 'WAITING_PARTS', 'DONE', 'CLOSED', 'REJECTED'];
const OPEN = ['NEW', 'ASSIGNED', 'IN_PROGRESS', 'WAITING_RESIDENT', 'WAITING_PARTS'];
const FIELDS = `id number text category categoryBy priority emergency status assigneeId assigneeName address contact source
  reactDue resolveDue createdAt doneAt overdue rating houseId`;
// What a dispatcher may do from each column (the server checks again).
const DISPATCH = {
  NEW: ['ASSIGNED', 'REJECTED'], ASSIGNED: ['ASSIGNED', 'IN_PROGRESS', 'REJECTED'],
  IN_PROGRESS: ['WAITING_RESIDENT', 'WAITING_PARTS'], WAITING_RESIDENT: ['IN_PROGRESS'], WAITING_PARTS: ['IN_PROGRESS'],
  DONE: ['CLOSED', 'ASSIGNED'], CLOSED: ['ASSIGNED'], REJECTED: [],
};
// What each move asks for.
const NEEDS = (from, to) => (to === 'ASSIGNED' && (from === 'NEW' || from === 'ASSIGNED') ? 'assignee'
  : to === 'REJECTED' || (to === 'ASSIGNED' && (from === 'DONE' || from === 'CLOSED')) ? 'reason'
  : to === 'WAITING_RESIDENT' || to === 'WAITING_PARTS' ? 'comment' : null);

const MOVE = `mutation($input: MoveComplaintInput!) { moveComplaint(input: $input) { complaint { id status } } }`;
const UPLOAD = `mutation($input: UploadAttachmentInput!) { uploadAttachment(input: $input) { attachment { id name url image } } }`;

// A file as a GraphQL multipart request (the upload spec).
export async function uploadAttachment(ownerType, ownerId, file) {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { input: { ownerType, ownerId, file: null } } }));
  form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.append('0', file, file.name);
  const response = await fetch('/graphql', { method: 'POST', body: form, headers: { 'x-requested-with': 'kvartal' } });
  const body = await response.json();
  if (body.errors?.length) throw Object.assign(new Error(body.errors[0].message), { extensions: body.errors[0].extensions || {} });
  return body.data.uploadAttachment.attachment;
}

// A readable reason, the field's own words where we have them.
function failure(error, t) {
  const x = error?.extensions || {};
  if (x.code === 'VALIDATION' && x.reason) {
    const key = `cv_${x.reason}`;
    if (t(key) !== key) return t(key);
  }
  return explain(error, t);
}

const category = (c, t) => (c ? (t(`cat_${c}`) === `cat_${c}` ? c : t(`cat_${c}`)) : t('cat_none'));

// "2 h 05 min left" or "overdue 1 h 10 min".
function left(due, now, t) {
  const ms = new Date(due) - now;
  const m = Math.floor(Math.abs(ms) / 60000);
  const text = m >= 60 * 48 ? `${Math.floor(m / 1440)} ${t('c_days')}` : `${Math.floor(m / 60)} ${t('c_h')} ${String(m % 60).padStart(2, '0')} ${t('c_min')}`;
  return ms < 0 ? t('c_overdueBy').replace('{t}', text) : t('c_left').replace('{t}', text);
}

function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const i = setInterval(() => setNow(Date.now()), 30000); return () => clearInterval(i); }, []);
  return now;
}

// Reloads at most every 300 ms however many changes arrive.
function useReload(load) {
  const timer = useRef(null);
  return () => { clearTimeout(timer.current); timer.current = setTimeout(load, 300); };
}

function Live({ status, t }) {
  return html`<span class="badge" data-test="complaints-live" data-status=${status}>${t('live_' + status)}</span>`;
}

function Photos({ list }) {
  if (!list?.length) return null;
  return html`<div class="photos">${list.map((a) => a.image
    ? html`<a href=${a.url} target="_blank" rel="noopener"><img src=${a.url} alt=${a.name} loading="lazy" data-test="photo" /></a>`
    : html`<a href=${a.url} target="_blank" rel="noopener">${a.name}</a>`)}</div>`;
}

// The move dialog: the person, the reason or the comment the move needs.
function MoveDialog({ org, c, to, i18n, onDone, onCancel }) {
  const { t } = i18n;
  const need = NEEDS(c.status, to);
  const [people, setPeople] = useState(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  useEffect(() => {
    if (need !== 'assignee') return;
    gql(`query($org: ID!, $h: ID) { complaintAssignees(organisationId: $org, houseId: $h) { userId name roles open } }`, { org, h: c.houseId })
      .then((d) => { setPeople(d.complaintAssignees); if (d.complaintAssignees[0]) setValue(d.complaintAssignees[0].userId); }, setError);
  }, [c.id, to]);
  const save = async (e) => {
    e.preventDefault();
    const input = { id: c.id, status: to };
    if (need === 'assignee') input.assigneeId = value;
    if (need === 'reason') input.reason = value;
    if (need === 'comment') input.comment = value;
    try { await gql(MOVE, { input }); onDone(); } catch (err) { setError(err); }
  };
  return html`<div class="dialog" role="dialog" aria-modal="true" data-test="move-dialog">
    <form onSubmit=${save}>
      <h2>№${c.number}: ${t('cs_' + c.status)} → ${t('cs_' + to)}</h2>
      ${need === 'assignee' && html`<label>${t('c_assignee')}
        <select data-test="assignee" value=${value} onChange=${(e) => setValue(e.target.value)}>
          ${(people || []).map((p) => html`<option value=${p.userId}>${p.name} (${p.roles.map((r) => t('r_' + r)).join(', ')}; ${t('c_open')}: ${p.open})</option>`)}
        </select></label>`}
      ${(need === 'reason' || need === 'comment') && html`<label>${t(need === 'reason' ? 'c_reason' : 'c_comment')}
        <textarea data-test="move-text" required value=${value} onInput=${(e) => setValue(e.target.value)}></textarea></label>`}
      ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
      <div class="toolbar"><button type="submit" data-test="move-save">${t('save')}</button>
        <button type="button" onClick=${onCancel}>${t('cancel')}</button></div>
    </form></div>`;
}

// A card opened: everything about the complaint, its history (internal
// entries too), its files, a comment (public or internal), the category corrected.
function CardDetail({ id, org, i18n, onClose }) {
  const { t, locale } = i18n;
  const [c, setC] = useState(null);
  const [cats, setCats] = useState([]);
  const [text, setText] = useState('');
  const [internal, setInternal] = useState(false);
  const [error, setError] = useState(null);
  const load = () => gql(`query($id: ID!) { complaint(id: $id) { ${FIELDS} attachments { id name url image }
      history { kind fromStatus toStatus public text actor at } } }`, { id }).then((d) => setC(d.complaint), setError);
  useEffect(() => {
    load();
    gql(`query($org: ID!) { complaintCategories(organisationId: $org) }`, { org }).then((d) => setCats(d.complaintCategories), () => {});
  }, [id]);
  const act = async (query, variables) => {
    try { await gql(query, variables); setError(null); load(); } catch (err) { setError(err); }
  };
  if (!c) return null;
  return html`<div class="dialog" role="dialog" aria-modal="true" data-test="card-detail" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="sheet">
      <header class="toolbar"><h2>№${c.number} · ${t('cs_' + c.status)}</h2><span class="spacer"></span><button type="button" onClick=${onClose}>✕</button></header>
      <p>${c.text}</p>
      <dl class="facts">
        <dt>${t('address')}</dt><dd>${c.address}</dd>
        <dt>${t('c_contact')}</dt><dd>${c.contact ?? '—'} (${t('src_' + c.source)})</dd>
        <dt>${t('c_category')}</dt><dd><select data-test="detail-category" value=${c.category ?? ''}
          onChange=${(e) => act(`mutation($id: ID!, $c: String!) { reclassifyComplaint(id: $id, category: $c) { complaint { category } } }`, { id: c.id, c: e.target.value })}>
          ${!c.category && html`<option value="">${t('cat_none')}</option>`}${cats.map((x) => html`<option value=${x}>${category(x, t)}</option>`)}</select>
          <span class="muted"> ${t('cb_' + c.categoryBy)}</span></dd>
        <dt>${t('cs_priority')}</dt><dd>${t('cp_' + c.priority)}</dd>
        <dt>${t('c_assignee')}</dt><dd>${c.assigneeName ?? t('c_unassigned')}</dd>
        <dt>${t('cs_react')}</dt><dd>${new Date(c.reactDue).toLocaleString(locale)}</dd>
        <dt>${t('cs_resolve')}</dt><dd>${new Date(c.resolveDue).toLocaleString(locale)}</dd>
      </dl>
      <${Photos} list=${c.attachments} />
      <ol class="history" data-test="detail-history">${c.history.map((h) => html`<li class=${h.public ? '' : 'internal'}>
        <span class="muted">${new Date(h.at).toLocaleString(locale)} · ${h.actor}</span>
        ${h.kind === 'status' || h.kind === 'filed' ? t('cs_' + (h.toStatus || 'NEW')) : t('ch_' + h.kind)}${h.text ? `: ${h.text}` : ''}
        ${!h.public && html` <span class="tag">${t('c_internal')}</span>`}</li>`)}</ol>
      <form onSubmit=${(e) => { e.preventDefault(); act(`mutation($input: CommentComplaintInput!) { commentComplaint(input: $input) { entry { kind } } }`,
          { input: { id: c.id, text, public: !internal } }).then(() => setText('')); }}>
        <label>${t('c_comment')} <textarea required data-test="detail-comment" value=${text} onInput=${(e) => setText(e.target.value)}></textarea></label>
        <label><input type="checkbox" checked=${internal} onChange=${(e) => setInternal(e.target.checked)} data-test="detail-internal" /> ${t('c_internalHint')}</label>
        <button type="submit" data-test="detail-send">${t('c_send')}</button>
      </form>
      ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    </div></div>`;
}

// A complaint taken by the dispatcher: from a call, an e-mail or a visit,
// about an account (by its number) or a house's common areas.
function TakeComplaint({ org, i18n, houses, onFiled }) {
  const { t } = i18n;
  const blank = () => ({ number: '', house: '', text: '', source: 'PHONE', contact: '', priority: 'NORMAL', category: '' });
  const [f, setF] = useState(blank());
  const [cats, setCats] = useState([]);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  useEffect(() => { gql(`query($org: ID!) { complaintCategories(organisationId: $org) }`, { org }).then((d) => setCats(d.complaintCategories), () => {}); }, [org]);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const save = async (e) => {
    e.preventDefault();
    setError(null); setDone(null);
    try {
      const input = { text: f.text, source: f.source, contact: f.contact, priority: f.priority, category: f.category || null };
      if (f.number.trim()) {
        const acc = await accountByNumber(org, f.number);
        if (!acc) { setError(new Error(t('pay_noAccount'))); return; }
        input.accountId = acc.id;
      } else if (f.house) input.houseId = f.house;
      const d = await gql(`mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { number assigneeName } } }`, { input });
      const c = d.fileComplaint.complaint;
      setDone(t('c_taken').replace('{n}', c.number).replace('{who}', c.assigneeName ?? t('c_unassigned')));
      setF(blank()); onFiled();
    } catch (err) { setError(err); }
  };
  return html`<form class="panel" onSubmit=${save} data-test="take-complaint"><h2>${t('c_take')}</h2>
    <div class="toolbar">
      <label>${t('account')} <input data-test="take-account" value=${f.number} onInput=${set('number')} placeholder=${t('c_orHouse')} /></label>
      <label>${t('tl_HOUSE')} <select value=${f.house} onChange=${set('house')} data-test="take-house"><option value="">—</option>
        ${houses.map(([id, a]) => html`<option value=${id}>${a}</option>`)}</select></label>
      <label>${t('c_source')} <select value=${f.source} onChange=${set('source')}>
        ${['PHONE', 'EMAIL', 'VISIT'].map((x) => html`<option value=${x}>${t('src_' + x.toLowerCase())}</option>`)}</select></label>
      <label>${t('cs_priority')} <select value=${f.priority} onChange=${set('priority')}>
        ${['LOW', 'NORMAL', 'HIGH', 'EMERGENCY'].map((x) => html`<option value=${x}>${t('cp_' + x)}</option>`)}</select></label>
      <label>${t('c_category')} <select value=${f.category} onChange=${set('category')}><option value="">${t('c_byRules')}</option>
        ${cats.map((x) => html`<option value=${x}>${category(x, t)}</option>`)}</select></label>
    </div>
    <label>${t('c_what')}<textarea required minlength="5" data-test="take-text" value=${f.text} onInput=${set('text')}></textarea></label>
    <label>${t('c_contact')} <input required data-test="take-contact" value=${f.contact} onInput=${set('contact')} placeholder=${t('c_contactHint')} /></label>
    ${error && html`<p class="error" role="alert" data-test="take-error">${failure(error, t)}</p>`}
    ${done && html`<p class="ok" role="status" data-test="take-done">${done}</p>`}
    <button type="submit" data-test="take-submit">${t('c_send')}</button></form>`;
}

// The dispatcher's board.
export function ComplaintsBoard({ org, i18n }) {
  const { t } = i18n;
  const now = useNow();
  const [list, setList] = useState(null);
  const [counts, setCounts] = useState(null);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('connecting');
  const [filter, setFilter] = useState({ house: '', category: '', assignee: '', late: false, text: '' });
  const [moving, setMoving] = useState(null);
  const [drag, setDrag] = useState(null);
  const [note, setNote] = useState(null);
  const [open, setOpen] = useState(null);
  const [taking, setTaking] = useState(false);
  const [allHouses, setAllHouses] = useState([]);
  useEffect(() => {
    gql(`query($org: ID!) { houses(organisationId: $org, first: 500) { edges { node { id address } } } }`, { org })
      .then((d) => setAllHouses(d.houses.edges.map((e) => [e.node.id, e.node.address])), () => {});
  }, [org]);
  const load = () => gql(`query($org: ID!) { complaints(organisationId: $org, first: 500) { ${FIELDS} } }`, { org })
    .then((d) => setList(d.complaints), setError);
  const reload = useReload(load);
  useEffect(() => {
    load();
    const a = follow(`subscription($org: ID!) { complaintUpdated(organisationId: $org) { seq id status } }`, { org },
      { onEvent: reload, onStatus: setStatus, eventId: (d) => d.complaintUpdated.seq });
    const b = follow(`subscription($org: ID!) { complaintBoard(organisationId: $org) { overdue counts { status count } } }`, { org },
      { onEvent: (d) => setCounts(d.complaintBoard) });
    return () => { a(); b(); };
  }, [org]);
  if (error) return html`<p class="error" role="alert">${failure(error, t)}</p>`;
  if (!list) return html`<p class="muted">${t('loading')}</p>`;
  const houses = [...new Map(list.map((c) => [c.houseId, c.address])).entries()];
  const people = [...new Map(list.filter((c) => c.assigneeId).map((c) => [c.assigneeId, c.assigneeName])).entries()];
  const cats = [...new Set(list.map((c) => c.category).filter(Boolean))];
  const text = filter.text.trim().toLowerCase();
  const shown = list.filter((c) => (!filter.house || c.houseId === filter.house)
    && (!filter.category || c.category === filter.category)
    && (!filter.assignee || c.assigneeId === filter.assignee)
    && (!filter.late || c.overdue || (OPEN.includes(c.status) && new Date(c.resolveDue) < now))
    && (!text || `${c.number} ${c.text} ${c.address} ${c.contact ?? ''}`.toLowerCase().includes(text)));
  const count = (s) => counts?.counts.find((x) => x.status === s)?.count ?? list.filter((c) => c.status === s).length;
  const set = (k) => (e) => setFilter({ ...filter, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  const drop = async (to) => {
    const c = list.find((x) => x.id === drag);
    setDrag(null);
    if (!c || (c.status === to && to !== 'ASSIGNED')) return;
    if (to === 'DONE') { setNote(t('c_doneByAssignee')); return; }
    if (!DISPATCH[c.status].includes(to)) { setNote(t('c_notAllowed').replace('{from}', t('cs_' + c.status)).replace('{to}', t('cs_' + to))); return; }
    setNote(null);
    if (NEEDS(c.status, to)) { setMoving({ c, to }); return; }
    try { await gql(MOVE, { input: { id: c.id, status: to } }); load(); } catch (err) { setNote(failure(err, t)); }
  };
  return html`<h1>${t('complaints')} <${Live} status=${status} t=${t} />
      ${counts && html`<span class="badge warn" data-test="overdue-count">${t('c_late')}: ${counts.overdue}</span>`}</h1>
    <div class="toolbar"><button type="button" data-test="take-open" onClick=${() => setTaking(!taking)}>${t('c_take')}</button></div>
    ${taking && html`<${TakeComplaint} org=${org} i18n=${i18n} houses=${allHouses} onFiled=${load} />`}
    <div class="toolbar">
      <input type="search" placeholder=${t('c_search')} value=${filter.text} onInput=${set('text')} data-test="c-filter-text" />
      <select value=${filter.house} onChange=${set('house')} data-test="c-filter-house"><option value="">${t('allHouses')}</option>
        ${houses.map(([id, a]) => html`<option value=${id}>${a}</option>`)}</select>
      <select value=${filter.category} onChange=${set('category')} data-test="c-filter-category"><option value="">${t('c_allCategories')}</option>
        ${cats.map((c) => html`<option value=${c}>${category(c, t)}</option>`)}</select>
      <select value=${filter.assignee} onChange=${set('assignee')} data-test="c-filter-assignee"><option value="">${t('c_everyone')}</option>
        ${people.map(([id, n]) => html`<option value=${id}>${n}</option>`)}</select>
      <label><input type="checkbox" checked=${filter.late} onChange=${set('late')} /> ${t('c_lateOnly')}</label>
    </div>
    ${note && html`<p class="error" role="alert" data-test="board-note">${note}</p>`}
    <div class="board" data-test="board">${STATUSES.map((s) => html`<section class=${`column${drag ? ' droppable' : ''}`} data-test="column" data-status=${s}
        onDragOver=${(e) => e.preventDefault()} onDrop=${(e) => { e.preventDefault(); drop(s); }}>
      <h2>${t('cs_' + s)} <span class="count" data-test=${`count-${s}`}>${count(s)}</span></h2>
      ${shown.filter((c) => c.status === s).map((c) => {
        const late = OPEN.includes(c.status) && (c.overdue || new Date(c.resolveDue) < now);
        return html`<article class=${`card${late ? ' late' : ''}${c.emergency ? ' emergency' : ''}`} draggable="true" data-test="card" data-number=${c.number}
            onDragStart=${(e) => { e.dataTransfer.setData('text/plain', c.id); setDrag(c.id); }} onDragEnd=${() => setTimeout(() => setDrag(null), 0)}>
          <header><button type="button" class="link" data-test="card-open" onClick=${() => setOpen(c.id)}><strong>№${c.number}</strong></button>
            <span class="tag">${category(c.category, t)}</span>
            ${c.emergency && html`<span class="tag warn">${t('c_emergency')}</span>`}</header>
          <p>${c.text.length > 140 ? c.text.slice(0, 140) + '…' : c.text}</p>
          <p class="muted">${c.address}</p>
          <p class="muted" data-test="assignee-name">${c.assigneeName ?? t('c_unassigned')}</p>
          ${OPEN.includes(c.status) && html`<p class=${late ? 'sla late' : 'sla'} data-test="sla">${left(c.resolveDue, now, t)}</p>`}
          <div class="actions">${DISPATCH[c.status].map((to) => html`<button type="button" data-test=${`to-${to}`}
              onClick=${() => (NEEDS(c.status, to) ? setMoving({ c, to }) : gql(MOVE, { input: { id: c.id, status: to } }).then(load, (err) => setNote(failure(err, t))))}>
              ${to === c.status ? t('c_reassign') : t('cs_' + to)}</button>`)}</div>
        </article>`;
      })}
    </section>`)}</div>
    ${moving && html`<${MoveDialog} org=${org} c=${moving.c} to=${moving.to} i18n=${i18n}
      onDone=${() => { setMoving(null); load(); }} onCancel=${() => setMoving(null)} />`}
    ${open && html`<${CardDetail} id=${open} org=${org} i18n=${i18n} onClose=${() => { setOpen(null); load(); }} />`}`;
}

// The engineer's work orders, sized for a phone.
export function MyWork({ org, me, i18n }) {
  const { t } = i18n;
  const now = useNow();
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('connecting');
  const [doing, setDoing] = useState(null);
  const load = () => gql(`query($org: ID!, $me: ID!) { complaints(organisationId: $org, assigneeId: $me, first: 200) { ${FIELDS} } }`, { org, me: me.id })
    .then((d) => setList(d.complaints.filter((c) => OPEN.includes(c.status))), setError);
  const reload = useReload(load);
  useEffect(() => {
    load();
    return follow(`subscription($org: ID!) { complaintUpdated(organisationId: $org) { seq id } }`, { org },
      { onEvent: reload, onStatus: setStatus, eventId: (d) => d.complaintUpdated.seq });
  }, [org]);
  const move = async (c, to, extra = {}) => {
    try { await gql(MOVE, { input: { id: c.id, status: to, ...extra } }); setDoing(null); setError(null); load(); } catch (err) { setError(err); }
  };
  if (!list) return html`<p class="muted">${t('loading')}</p>`;
  return html`<div class="phone"><h1>${t('myWork')} <${Live} status=${status} t=${t} /></h1>
    ${error && html`<p class="error" role="alert" data-test="work-error">${failure(error, t)}</p>`}
    ${list.length === 0 && html`<p class="muted" data-test="no-work">${t('c_noWork')}</p>`}
    ${list.map((c) => html`<article class="card work" data-test="work-order" data-number=${c.number} data-status=${c.status}>
      <header><strong>№${c.number}</strong> <span class="tag">${category(c.category, t)}</span> <span class="tag">${t('cs_' + c.status)}</span></header>
      <p>${c.text}</p>
      <p class="muted">${c.address}</p>
      ${c.contact ? html`<p><a href=${`tel:${(c.contact.match(/[+\d][\d\s()-]{5,}/) || [''])[0].replace(/[^\d+]/g, '')}`}>${c.contact}</a></p>` : ''}
      <p class=${c.overdue || new Date(c.resolveDue) < now ? 'sla late' : 'sla'}>${left(c.resolveDue, now, t)}</p>
      ${doing?.id === c.id ? html`<${Finish} c=${c} kind=${doing.kind} i18n=${i18n} onMove=${move} onCancel=${() => setDoing(null)} />`
        : html`<div class="actions big">
          ${c.status === 'ASSIGNED' && html`<button data-test="start" onClick=${() => move(c, 'IN_PROGRESS')}>${t('c_start')}</button>`}
          ${c.status === 'IN_PROGRESS' && html`<button data-test="finish" onClick=${() => setDoing({ id: c.id, kind: 'DONE' })}>${t('c_finish')}</button>
            <button data-test="wait-parts" onClick=${() => setDoing({ id: c.id, kind: 'WAITING_PARTS' })}>${t('cs_WAITING_PARTS')}</button>
            <button data-test="wait-resident" onClick=${() => setDoing({ id: c.id, kind: 'WAITING_RESIDENT' })}>${t('cs_WAITING_RESIDENT')}</button>`}
          ${(c.status === 'WAITING_PARTS' || c.status === 'WAITING_RESIDENT') && html`<button data-test="resume" onClick=${() => move(c, 'IN_PROGRESS')}>${t('c_resume')}</button>`}
        </div>`}
    </article>`)}</div>`;
}

// Done (a comment and photos) or waiting (a comment).
function Finish({ c, kind, i18n, onMove, onCancel }) {
  const { t } = i18n;
  const [comment, setComment] = useState('');
  const [files, setFiles] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      const photoIds = [];
      for (const f of files) photoIds.push((await uploadAttachment('COMPLAINT', c.id, f)).id);
      await onMove(c, kind, kind === 'DONE' ? { comment, photoIds } : { comment });
    } catch (err) { setError(err); }
    setBusy(false);
  };
  return html`<form class="finish" onSubmit=${save} data-test="finish-form">
    <label>${kind === 'DONE' ? t('c_whatDone') : t('c_whatAwaited')}
      <textarea required data-test="finish-comment" value=${comment} onInput=${(e) => setComment(e.target.value)}></textarea></label>
    ${kind === 'DONE' && html`<label>${t('c_photoOfWork')}
      <input type="file" accept="image/*" capture="environment" multiple required data-test="finish-photo" onChange=${(e) => setFiles([...e.target.files])} /></label>`}
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    <div class="actions big"><button type="submit" disabled=${busy} data-test="finish-save">${kind === 'DONE' ? t('c_markDone') : t('save')}</button>
      <button type="button" onClick=${onCancel}>${t('cancel')}</button></div>
  </form>`;
}

// A resident's complaints: file one, follow them live, rate, reopen.
export function MyComplaints({ me, i18n }) {
  const { t } = i18n;
  const orgs = [...new Set(me.accounts.map((a) => a.premises.house.organisationId))];
  const [list, setList] = useState(null);
  const [cats, setCats] = useState([]);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('connecting');
  const [open, setOpen] = useState(null);
  const load = () => Promise.all(orgs.map((org) => gql(`query($org: ID!) { complaints(organisationId: $org, first: 100) {
      ${FIELDS} attachments { id name url image } history { kind toStatus text actor at } } }`, { org })))
    .then((all) => setList(all.flatMap((d) => d.complaints)), setError);
  const reload = useReload(load);
  useEffect(() => {
    load();
    gql(`query($org: ID!) { complaintCategories(organisationId: $org) }`, { org: orgs[0] }).then((d) => setCats(d.complaintCategories), () => {});
    const stops = orgs.map((org) => follow(`subscription($org: ID!) { complaintUpdated(organisationId: $org) { seq id status } }`, { org },
      { onEvent: reload, onStatus: setStatus, eventId: (d) => d.complaintUpdated.seq }));
    return () => stops.forEach((s) => s());
  }, [me]);
  const act = async (query, variables) => {
    try { await gql(query, variables); setError(null); load(); } catch (err) { setError(err); }
  };
  return html`<h1>${t('myComplaints')} <${Live} status=${status} t=${t} /></h1>
    <${NewComplaint} me=${me} cats=${cats} i18n=${i18n} onFiled=${load} />
    <${OrderService} me=${me} i18n=${i18n} onOrdered=${load} />
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    ${!list ? html`<p class="muted">${t('loading')}</p>` : list.length === 0 ? html`<p class="muted">${t('c_none')}</p>`
      : list.map((c) => html`<article class="card mine" data-test="my-complaint" data-number=${c.number} data-status=${c.status}>
        <header><strong>№${c.number}</strong> <span class="tag">${category(c.category, t)}</span>
          <span class=${`tag status-${c.status}`} data-test="my-status">${t('cs_' + c.status)}</span></header>
        <p>${c.text}</p>
        <p class="muted">${c.assigneeName ? `${t('c_assignee')}: ${c.assigneeName}` : ''}</p>
        <${Photos} list=${c.attachments} />
        ${c.status === 'DONE' && html`<div class="actions">
          <span>${t('c_rate')}:</span>${[1, 2, 3, 4, 5].map((n) => html`<button type="button" data-test=${`rate-${n}`} aria-pressed=${c.rating === n}
            class=${c.rating >= n ? 'star on' : 'star'} onClick=${() => act(`mutation($id: ID!, $n: Int!) { rateComplaint(id: $id, stars: $n) { complaint { rating } } }`, { id: c.id, n })}>★</button>`)}
          <button type="button" data-test="confirm" onClick=${() => act(MOVE, { input: { id: c.id, status: 'CLOSED' } })}>${t('c_confirm')}</button>
          <button type="button" data-test="reopen" onClick=${() => { const reason = prompt(t('c_reopenWhy')); if (reason) act(MOVE, { input: { id: c.id, status: 'ASSIGNED', reason } }); }}>${t('c_reopen')}</button>
        </div>`}
        <button type="button" class="link" onClick=${() => setOpen(open === c.id ? null : c.id)}>${open === c.id ? t('c_hideHistory') : t('c_history')}</button>
        ${open === c.id && html`<ol class="history">${c.history.map((h) => html`<li><span class="muted">${new Date(h.at).toLocaleString(i18n.locale)}</span>
          ${h.kind === 'status' || h.kind === 'filed' ? t('cs_' + (h.toStatus || 'NEW')) : t('ch_' + h.kind)}${h.text ? `: ${h.text}` : ''}</li>`)}</ol>`}
      </article>`)}`;
}

function NewComplaint({ me, cats, i18n, onFiled }) {
  const { t } = i18n;
  const [account, setAccount] = useState(me.accounts[0]?.id);
  const [text, setText] = useState('');
  const [cat, setCat] = useState('');
  const [files, setFiles] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const form = useRef(null);
  const save = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    try {
      const d = await gql(`mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { id number } } }`,
        { input: { accountId: account, text, category: cat || null } });
      const c = d.fileComplaint.complaint;
      for (const f of files) await uploadAttachment('COMPLAINT', c.id, f);
      setDone(t('c_filed').replace('{n}', c.number));
      setText(''); setCat(''); setFiles([]); form.current?.reset();
      onFiled();
    } catch (err) { setError(err); }
    setBusy(false);
  };
  return html`<form class="panel" ref=${form} onSubmit=${save} data-test="new-complaint">
    <h2>${t('c_new')}</h2>
    ${me.accounts.length > 1 && html`<label>${t('account')} <select value=${account} onChange=${(e) => setAccount(e.target.value)}>
      ${me.accounts.map((a) => html`<option value=${a.id}>${a.number} — ${a.premises.house.address}, ${t('flat')} ${a.premises.number}</option>`)}</select></label>`}
    <label>${t('c_what')}<textarea required minlength="5" maxlength="4000" data-test="c-text" value=${text} onInput=${(e) => setText(e.target.value)}></textarea></label>
    <label>${t('c_category')} <select value=${cat} onChange=${(e) => setCat(e.target.value)} data-test="c-category">
      <option value="">${t('c_dontKnow')}</option>${cats.map((c) => html`<option value=${c}>${category(c, t)}</option>`)}</select></label>
    <label>${t('c_photos')} <input type="file" accept="image/*,application/pdf" multiple data-test="c-photo" onChange=${(e) => setFiles([...e.target.files])} /></label>
    ${error && html`<p class="error" role="alert" data-test="c-error">${failure(error, t)}</p>`}
    ${done && html`<p class="ok" role="status" data-test="c-filed">${done}</p>`}
    <button type="submit" disabled=${busy} data-test="c-submit">${t('c_send')}</button>
  </form>`;
}

// The documents (scans, photos) of an account or a person: listed, opened,
// and for staff uploaded.
export function Documents({ ownerType, ownerId, i18n, canUpload }) {
  const { t } = i18n;
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const load = () => gql(`query($t: AttachmentOwner!, $id: ID!) { attachments(ownerType: $t, ownerId: $id) { id name url image size uploadedBy uploadedAt } }`,
    { t: ownerType, id: ownerId }).then((d) => setList(d.attachments), setError);
  useEffect(() => { load(); }, [ownerId]);
  const upload = async (e) => {
    setBusy(true);
    try {
      for (const f of e.target.files) await uploadAttachment(ownerType, ownerId, f);
      setError(null); load();
    } catch (err) { setError(err); }
    e.target.value = '';
    setBusy(false);
  };
  return html`<h2>${t('documents')}</h2>
    ${list && list.length === 0 && html`<p class="muted">${t('doc_none')}</p>`}
    ${list && list.length > 0 && html`<ul class="plain" data-test="documents">${list.map((a) => html`<li data-test="document">
      <a href=${a.url} target="_blank" rel="noopener">${a.name}</a> <span class="muted">${Math.ceil(a.size / 1024)} KB · ${a.uploadedBy} · ${new Date(a.uploadedAt).toLocaleDateString(i18n.locale)}</span></li>`)}</ul>`}
    ${canUpload && html`<label class="toolbar">${t('doc_add')} <input type="file" accept="image/*,application/pdf" multiple disabled=${busy} data-test="document-upload" onChange=${upload} /></label>`}
    ${error && html`<p class="error" role="alert" data-test="document-error">${failure(error, t)}</p>`}`;
}
