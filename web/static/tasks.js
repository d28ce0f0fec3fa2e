// Staff tasks: mine (and my groups') by deadline, with the time left;
// dispatchers and managers set them for a person or a group, linked to a
// house or a complaint; managers see everyone's load.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';

const FIELDS = 'id title description personId groupId linkType linkId deadline status overdue note createdBy escalatedAt';

function failure(error, t) {
  const x = error?.extensions || {};
  if (x.code === 'VALIDATION' && x.reason) {
    const key = `tv_${x.reason}`;
    if (t(key) !== key) return t(key);
  }
  return explain(error, t);
}

function when(iso, locale) {
  return new Date(iso).toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' });
}

export function TasksView({ org, me, i18n, canSet, oversees }) {
  const { t, locale } = i18n;
  const [list, setList] = useState(null);
  const [people, setPeople] = useState([]);
  const [groups, setGroups] = useState([]);
  const [houses, setHouses] = useState([]);
  const [overview, setOverview] = useState(null);
  const [error, setError] = useState(null);
  const [note, setNote] = useState({});
  const load = () => {
    gql(`query($org: ID!) { staffTasks(organisationId: $org) { ${FIELDS} } }`, { org }).then((d) => setList(d.staffTasks), setError);
    if (oversees) gql(`query($org: ID!) { taskOverview(organisationId: $org) { kind id name open inProgress overdue done } }`, { org }).then((d) => setOverview(d.taskOverview), () => {});
  };
  useEffect(() => {
    load();
    if (canSet) {
      gql(`query($org: ID!) { complaintAssignees(organisationId: $org) { userId name } complaintSetup(organisationId: $org) { groups { id name } }
        houses(organisationId: $org, first: 500) { edges { node { id address } } } }`, { org })
        .then((d) => { setPeople(d.complaintAssignees); setGroups(d.complaintSetup.groups); setHouses(d.houses.edges.map((e) => e.node)); }, () => {});
    }
  }, [org]);
  const move = async (task, status) => {
    try {
      await gql(`mutation($input: UpdateTaskStatusInput!) { updateTaskStatus(input: $input) { status } }`, { input: { id: task.id, status, note: note[task.id] || null } });
      setError(null); load();
    } catch (err) { setError(err); }
  };
  const who = (task) => people.find((p) => p.userId === task.personId)?.name ?? groups.find((g) => g.id === task.groupId)?.name ?? (task.personId === me.id ? me.displayName : '');
  return html`<h1>${t('tasks')}</h1>
    ${canSet && html`<${NewTask} org=${org} i18n=${i18n} people=${people} groups=${groups} houses=${houses} onDone=${load} />`}
    ${error && html`<p class="error" role="alert" data-test="task-error">${failure(error, t)}</p>`}
    ${list && list.length === 0 && html`<p class="muted">${t('tv_none')}</p>`}
    ${list && list.length > 0 && html`<table data-test="tasks"><thead><tr><th>${t('tv_title')}</th><th>${t('c_assignee')}</th><th>${t('tv_deadline')}</th><th>${t('tv_status')}</th><th></th></tr></thead>
      <tbody>${list.map((task) => html`<tr data-test="task" data-title=${task.title} data-status=${task.status} class=${task.overdue ? 'late' : ''}>
        <td><strong>${task.title}</strong>${task.description && html`<div class="muted">${task.description}</div>`}
          ${task.linkType && html`<div class="muted">${t('tl_' + task.linkType)}${task.linkType === 'HOUSE' ? `: ${houses.find((h) => h.id === task.linkId)?.address ?? ''}` : ''}</div>`}
          ${task.note && html`<div>${task.note}</div>`}</td>
        <td>${who(task)}</td>
        <td class=${task.overdue ? 'sla late' : ''}>${when(task.deadline, locale)}${task.overdue ? ` — ${t('c_late').toLowerCase()}` : ''}</td>
        <td>${t('ts_' + task.status)}</td>
        <td><div class="actions">
          ${task.status === 'OPEN' && html`<button data-test="task-start" onClick=${() => move(task, 'IN_PROGRESS')}>${t('c_start')}</button>`}
          ${(task.status === 'OPEN' || task.status === 'IN_PROGRESS') && html`<input placeholder=${t('tv_note')} data-test="task-note" value=${note[task.id] || ''} onInput=${(e) => setNote({ ...note, [task.id]: e.target.value })} />
            <button data-test="task-done" onClick=${() => move(task, 'DONE')}>${t('ts_DONE')}</button>`}
          ${(task.status === 'OPEN' || task.status === 'IN_PROGRESS') && (oversees || canSet) && html`<button onClick=${() => move(task, 'CANCELLED')}>${t('tv_cancel')}</button>`}
        </div></td></tr>`)}</tbody></table>`}
    ${overview && html`<h2>${t('tv_overview')}</h2><table data-test="task-overview"><thead><tr><th>${t('c_assignee')}</th><th class="num">${t('ts_OPEN')}</th>
      <th class="num">${t('ts_IN_PROGRESS')}</th><th class="num">${t('c_late')}</th><th class="num">${t('tv_done30')}</th></tr></thead>
      <tbody>${overview.map((l) => html`<tr data-test="load" data-name=${l.name}><td>${l.name} ${l.kind === 'GROUP' && html`<span class="tag">${t('tv_group')}</span>`}</td>
        <td class="num">${l.open}</td><td class="num">${l.inProgress}</td><td class=${l.overdue ? 'num sla late' : 'num'}>${l.overdue}</td><td class="num" data-test="load-done">${l.done}</td></tr>`)}</tbody></table>`}`;
}

function NewTask({ org, i18n, people, groups, houses, onDone }) {
  const { t } = i18n;
  const tomorrow = () => { const d = new Date(Date.now() + 86400000); d.setMinutes(0, 0, 0); return d.toISOString().slice(0, 16); };
  const blank = () => ({ title: '', description: '', who: '', house: '', deadline: tomorrow(), remind: '60' });
  const [f, setF] = useState(blank());
  const [error, setError] = useState(null);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const save = async (e) => {
    e.preventDefault();
    const [kind, id] = f.who.split(':');
    try {
      await gql(`mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`, { input: {
        organisationId: org, title: f.title, description: f.description,
        personId: kind === 'p' ? id : null, groupId: kind === 'g' ? id : null,
        linkType: f.house ? 'HOUSE' : null, linkId: f.house || null,
        deadline: new Date(f.deadline).toISOString(), remindMinutes: Number(f.remind) } });
      setF(blank()); setError(null); onDone();
    } catch (err) { setError(err); }
  };
  return html`<form class="panel" onSubmit=${save} data-test="new-task"><h2>${t('tv_new')}</h2>
    <label>${t('tv_title')} <input required data-test="task-title" value=${f.title} onInput=${set('title')} /></label>
    <label>${t('tv_description')} <textarea value=${f.description} onInput=${set('description')}></textarea></label>
    <label>${t('c_assignee')} <select required data-test="task-who" value=${f.who} onChange=${set('who')}><option value="">—</option>
      ${people.map((p) => html`<option value=${`p:${p.userId}`}>${p.name}</option>`)}
      ${groups.map((g) => html`<option value=${`g:${g.id}`}>${g.name} (${t('tv_group')})</option>`)}</select></label>
    <label>${t('tl_HOUSE')} <select value=${f.house} onChange=${set('house')} data-test="task-house"><option value="">—</option>
      ${houses.map((h) => html`<option value=${h.id}>${h.address}</option>`)}</select></label>
    <label>${t('tv_deadline')} <input type="datetime-local" required data-test="task-deadline" value=${f.deadline} onInput=${set('deadline')} /></label>
    <label>${t('tv_remind')} <select value=${f.remind} onChange=${set('remind')}>
      ${[['60', '1 h'], ['240', '4 h'], ['1440', '24 h'], ['0', '—']].map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select></label>
    ${error && html`<p class="error" role="alert">${failure(error, t)}</p>`}
    <button type="submit" data-test="task-save">${t('tv_set')}</button></form>`;
}
