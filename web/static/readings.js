// Meter readings: the staff's live feed (flagged ones first, by house) and the
// resident's meters with a form to submit a reading and its history.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';
import { explain } from './auth.js';
import { follow } from './live.js';
import { uploadAttachment } from './complaints.js';

// The live feed's rows (photos come after the reading, so the lists ask for them).
const LIVE = 'id meterId meterSerial resource unit address premisesNumber takenOn values consumption source authorName flagged flagReason reviewedAt rollover reason createdAt';
const READING = `${LIVE} photos { url name }`;

// A refusal of a reading in the user's language.
function refusal(error, t) {
  const reason = error?.extensions?.reason;
  return reason && t('reading_' + reason) !== 'reading_' + reason ? t('reading_' + reason) : explain(error, t);
}

const firstFlagged = (a, b) => (Number(b.flagged && !b.reviewedAt) - Number(a.flagged && !a.reviewedAt))
  || b.createdAt.localeCompare(a.createdAt);

export function ReadingsFeed({ org, i18n }) {
  const { t, decimal, date } = i18n;
  const [house, setHouse] = useState('');
  const [houses, setHouses] = useState([]);
  const [rows, setRows] = useState([]);
  const [status, setStatus] = useState('connecting');
  const [error, setError] = useState(null);
  useEffect(() => {
    gql('query($org: ID!) { houses(organisationId: $org, first: 500) { nodes { id address } } }', { org })
      .then((d) => setHouses(d.houses.nodes), setError);
  }, [org]);
  useEffect(() => {
    let stop = () => {};
    const filter = house ? { houseId: house } : {};
    Promise.all([
      gql(`query($org: ID!, $f: ReadingFilterInput) { readings(organisationId: $org, filter: $f, first: 50) { nodes { ${READING} } } }`, { org, f: filter }),
      gql(`query($org: ID!, $f: ReadingFilterInput) { readings(organisationId: $org, filter: $f, first: 100) { nodes { ${READING} } } }`, { org, f: { ...filter, toReview: true } }),
    ]).then(([recent, review]) => {
      const seen = new Map();
      [...review.readings.nodes, ...recent.readings.nodes].forEach((r) => seen.set(r.id, r));
      setRows([...seen.values()].sort(firstFlagged));
      stop = follow(`subscription($org: ID!, $house: ID, $after: Int) { readingSubmitted(organisationId: $org, houseId: $house, after: $after) { eventId reading { ${LIVE} } } }`,
        { org, house: house || null }, {
          eventId: (d) => d.readingSubmitted.eventId,
          onEvent: (d) => setRows((old) => [d.readingSubmitted.reading, ...old.filter((r) => r.id !== d.readingSubmitted.reading.id)].sort(firstFlagged).slice(0, 300)),
          onStatus: (s, e) => { setStatus(s); if (e) setError(e[0]); },
        });
    }, setError);
    return () => stop();
  }, [org, house]);
  const review = async (r) => {
    try {
      const d = await gql(`mutation($id: ID!) { reviewReading(id: $id) { reading { ${READING} } } }`, { id: r.id });
      setRows((old) => old.map((x) => (x.id === r.id ? d.reviewReading.reading : x)).sort(firstFlagged));
    } catch (e) { setError(e); }
  };
  const waiting = rows.filter((r) => r.flagged && !r.reviewedAt).length;
  return html`<h1>${t('readings')}</h1>
    <div class="toolbar">
      <select data-test="feed-house" aria-label=${t('house')} value=${house} onChange=${(e) => setHouse(e.target.value)}>
        <option value="">${t('allHouses')}</option>
        ${houses.map((h) => html`<option value=${h.id}>${h.address}</option>`)}</select>
      <span class=${`badge ${status === 'live' ? 'ok' : 'warn'}`} data-test="live-status" data-status=${status}>${t('live_' + status)}</span>
      ${waiting > 0 && html`<span class="badge warn" data-test="to-review">${t('toReview')}: ${waiting}</span>`}
    </div>
    ${error && html`<p class="error" role="alert">${explain(error, t)}</p>`}
    <table data-test="feed"><thead><tr><th>${t('received')}</th><th>${t('address')}</th><th>${t('meter')}</th>
      <th class="num">${t('value')}</th><th class="num">${t('consumption')}</th><th>${t('source')}</th><th></th></tr></thead>
    <tbody>${rows.map((r) => html`<tr data-test="feed-row" class=${r.flagged && !r.reviewedAt ? 'flagged' : ''}>
      <td>${new Date(r.createdAt).toLocaleString(i18n.locale)}<br/><span class="muted">${date(r.takenOn)}</span></td>
      <td>${r.address}${r.premisesNumber ? `, ${t('flat')} ${r.premisesNumber}` : ''}</td>
      <td>${r.meterSerial}${r.photos?.length ? html` <a href=${r.photos[0].url} target="_blank" rel="noopener" data-test="reading-photo-link" title=${t('rd_photo')}>📷</a>` : ''}<br/><span class="muted">${t('res_' + r.resource)}</span></td>
      <td class="num">${r.values.map((v) => decimal(v)).join(' / ')} ${r.unit}</td>
      <td class="num">${r.consumption ? r.consumption.map((v) => decimal(v)).join(' / ') : '—'}${r.rollover ? html` <span class="badge">${t('rollover')}</span>` : ''}</td>
      <td>${t('src_' + r.source)} · ${r.authorName}${r.reason ? html`<br/><span class="muted">${r.reason}</span>` : ''}</td>
      <td>${r.flagged && !r.reviewedAt
        ? html`<span class="badge warn" title=${r.flagReason}>${t('flagged')}</span> <button data-test="review" onClick=${() => review(r)}>${t('markReviewed')}</button>`
        : r.flagged ? html`<span class="badge">${t('reviewed')}</span>` : ''}</td></tr>`)}</tbody></table>`;
}

function MeterCard({ meter, org, house, i18n }) {
  const { t, decimal, date } = i18n;
  const [history, setHistory] = useState(null);
  const [values, setValues] = useState(Array(meter.zones).fill(''));
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [photo, setPhoto] = useState(null);
  const load = () => gql(`query($m: ID!) { meterHistory(meterId: $m) { readings { ${READING} } periods { period consumption } } }`, { m: meter.id })
    .then((d) => setHistory(d.meterHistory), setError);
  useEffect(() => { load(); }, [meter.id]);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setDone(null);
    try {
      const d = await gql(`mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { ${READING} } } }`,
        { input: { meterId: meter.id, values: values.map((v) => v.trim().replace(',', '.')) } });
      setDone(d.submitReading.reading);
      if (photo) await uploadAttachment('READING', d.submitReading.reading.id, photo);
      setPhoto(null);
      e.target.reset();
      setValues(Array(meter.zones).fill(''));
      load();
    } catch (err) { setError(err); }
  };
  const last = history?.readings[history.readings.length - 1];
  const zoneNames = meter.zones === 1 ? [t('value')] : [t('zoneDay'), t('zoneNight'), t('zonePeak')].slice(0, meter.zones);
  return html`<div class="card" data-test="meter-card" data-serial=${meter.serial}>
    <h2>${t('res_' + meter.resource)} · ${meter.serial}</h2>
    <p class="muted">${last ? `${t('lastReading')}: ${last.values.map((v) => decimal(v)).join(' / ')} ${meter.unit}, ${date(last.takenOn)}` : t('noReadings')}</p>
    <form class="toolbar" onSubmit=${submit}>
      ${zoneNames.map((name, i) => html`<label>${name} <input data-test=${`reading-value-${i}`} inputmode="decimal" required value=${values[i]}
        onInput=${(e) => setValues(values.map((v, j) => (j === i ? e.target.value : v)))} /></label>`)}
      <label>${t('rd_photo')} <input type="file" accept="image/*" capture="environment" data-test="reading-photo" onChange=${(e) => setPhoto(e.target.files[0] || null)} /></label>
      <button class="primary" data-test="submit-reading">${t('submitReading')}</button>
    </form>
    ${error && html`<p class="error" role="alert" data-test="reading-error">${refusal(error, t)}</p>`}
    ${done && html`<p class="badge ok" data-test="reading-done">${t('readingAccepted')}${done.consumption ? ` · ${t('consumption')}: ${done.consumption.map((v) => decimal(v)).join(' / ')} ${meter.unit}` : ''}</p>`}
    ${history && history.periods.length > 0 && html`<table data-test="meter-history"><thead><tr><th>${t('period')}</th><th class="num">${t('consumption')}</th></tr></thead>
      <tbody>${[...history.periods].reverse().map((p) => html`<tr><td>${p.period}</td><td class="num">${p.consumption.map((v) => decimal(v)).join(' / ')} ${meter.unit}</td></tr>`)}</tbody></table>`}
    ${history && history.readings.length > 0 && html`<details><summary>${t('allReadings')}</summary>
      <table><thead><tr><th>${t('date')}</th><th class="num">${t('value')}</th><th class="num">${t('consumption')}</th><th>${t('source')}</th></tr></thead>
      <tbody>${[...history.readings].reverse().map((r) => html`<tr><td>${date(r.takenOn)}</td><td class="num">${r.values.map((v) => decimal(v)).join(' / ')}</td>
        <td class="num">${r.consumption ? r.consumption.map((v) => decimal(v)).join(' / ') : '—'}</td><td>${t('src_' + r.source)}</td></tr>`)}</tbody></table></details>`}
  </div>`;
}

export function MyMeters({ me, i18n }) {
  const { t } = i18n;
  const [accounts, setAccounts] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    Promise.all(me.accounts.map((a) => gql(`query($id: ID!) { account(id: $id) { id number house { id organisationId address } premises { number }
      meters { id serial resource zones unit status verificationDue } } }`, { id: a.id }).then((d) => d.account)))
      .then(async (list) => {
        const withRules = await Promise.all(list.map(async (a) => {
          const s = await gql('query($org: ID!, $h: ID) { readingSettings(organisationId: $org, houseId: $h) { windowFrom windowTo } }',
            { org: a.house.organisationId, h: a.house.id });
          return { ...a, rules: s.readingSettings };
        }));
        setAccounts(withRules);
      }, setError);
  }, [me.id]);
  if (error) return html`<p class="error">${explain(error, t)}</p>`;
  if (!accounts) return html`<p class="muted">${t('loading')}</p>`;
  return html`<h1>${t('myMeters')}</h1>
    ${accounts.map((a) => html`<section data-test="my-meters">
      <h2>${a.house.address}, ${t('flat')} ${a.premises.number} · ${t('account')} ${a.number}</h2>
      <p class="muted">${a.rules.windowFrom ? t('windowHint').replace('{from}', a.rules.windowFrom).replace('{to}', a.rules.windowTo) : t('windowAnyDay')}</p>
      ${a.meters.filter((m) => m.status === 'ACTIVE').map((m) => html`<${MeterCard} key=${m.id} meter=${m} org=${a.house.organisationId} house=${a.house.id} i18n=${i18n} />`)}
    </section>`)}`;
}
