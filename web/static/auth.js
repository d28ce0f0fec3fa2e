// Signing in (passkey first, then password or a code by email), joining as a
// resident, and the security page: passkeys, sessions, signing out everywhere.
import { html, useState, useEffect } from './vendor/htm-preact-standalone.module.js';
import { gql } from './api.js';

export const ME = `query Me { me { id email displayName locale hasPassword
  addressClaim { registeredAt password passkeys accounts }
  memberships { organisationId roles organisation { id name locale } }
  accounts { id number premises { number house { id address organisationId } } } } }`;

// A readable message for an error, in the user's language.
export function explain(error, t) {
  const code = error?.extensions?.code;
  if (code === 'INVALID_CREDENTIALS') {
    const reason = error.extensions.reason;
    return reason === 'code' ? t('wrongCode') : reason === 'address_claim_pending' ? t('claimPending') : t('wrongPassword');
  }
  if (code === 'RATE_LIMITED') return t('tooMany').replace('{s}', error.extensions.retryAfter);
  if (code === 'NOT_FOUND') return t('notFound');
  if (code === 'FORBIDDEN') return t('forbidden');
  if (error?.name === 'NotAllowedError') return t('passkeyCancelled');
  return error?.message || t('error');
}

const supportsPasskeys = () => typeof window.PublicKeyCredential?.parseRequestOptionsFromJSON === 'function';

async function passkeySignIn() {
  const { startPasskeyLogin: c } = await gql('mutation { startPasskeyLogin { ceremonyId options } }');
  const credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(c.options.publicKey) });
  await gql('mutation($input: FinishPasskeyLoginInput!) { finishPasskeyLogin(input: $input) { userId } }',
    { input: { ceremonyId: c.ceremonyId, credential: credential.toJSON() } });
}

// `invite`: the account, code and email of an invitation link (#/join?…).
export function Login({ i18n, onIn, invite }) {
  const { t } = i18n;
  const [mode, setMode] = useState(invite ? 'join' : 'password');
  const [email, setEmail] = useState(invite?.get('email') || '');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [sent, setSent] = useState(false);
  const [join, setJoin] = useState({ accountNumber: invite?.get('account') || '', code: invite?.get('code') || '', displayName: '' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = (fn) => async (e) => {
    e?.preventDefault();
    setBusy(true); setError(null);
    try { await fn(); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const passkey = run(async () => { await passkeySignIn(); onIn(); });
  const withPassword = run(async () => {
    await gql('mutation($input: LoginInput!) { login(input: $input) { userId } }', { input: { email, password } });
    onIn();
  });
  const sendCode = run(async () => {
    await gql('mutation($input: RequestEmailCodeInput!) { requestEmailCode(input: $input) { ok } }', { input: { email } });
    setSent(true);
  });
  const withCode = run(async () => {
    await gql('mutation($input: LoginWithEmailCodeInput!) { loginWithEmailCode(input: $input) { userId } }', { input: { email, code } });
    onIn();
  });
  const register = run(async () => {
    await gql('mutation($input: RegisterResidentInput!) { registerResident(input: $input) { userId } }',
      { input: { email, password, displayName: join.displayName, accountNumber: join.accountNumber, code: join.code, locale: i18n.locale } });
    onIn();
  });
  const field = (name, label, value, set, type = 'text', auto = '') => html`<label>${label}
    <input data-test=${name} type=${type} value=${value} autocomplete=${auto} required onInput=${(e) => set(e.target.value)} /></label>`;
  return html`<div class="login card">
    <h1>${mode === 'join' ? t('joinTitle') : t('signIn')}</h1>
    ${mode !== 'join' && html`<button class="primary wide" data-test="passkey-login" disabled=${busy || !supportsPasskeys()} onClick=${passkey}>${t('signInPasskey')}</button>
      <p class="or"><span>${t('or')}</span></p>`}
    ${mode === 'password' && html`<form onSubmit=${withPassword}>
      ${field('email', t('email'), email, setEmail, 'email', 'username')}
      ${field('password', t('password'), password, setPassword, 'password', 'current-password')}
      <button class="primary wide" data-test="login-submit" disabled=${busy}>${t('signIn')}</button></form>
      <p class="links"><a href="#" data-test="use-code" onClick=${(e) => { e.preventDefault(); setMode('code'); setError(null); }}>${t('useCode')}</a>
        · <a href="#" data-test="join" onClick=${(e) => { e.preventDefault(); setMode('join'); setError(null); }}>${t('joinLink')}</a></p>`}
    ${mode === 'code' && html`<form onSubmit=${sent ? withCode : sendCode}>
      ${field('email', t('email'), email, setEmail, 'email', 'username')}
      ${sent && html`<p class="muted">${t('codeSent')}</p>${field('code', t('code'), code, setCode, 'text', 'one-time-code')}`}
      <button class="primary wide" data-test="code-submit" disabled=${busy}>${sent ? t('signIn') : t('sendCode')}</button></form>
      <p class="links"><a href="#" onClick=${(e) => { e.preventDefault(); setMode('password'); setSent(false); }}>${t('usePassword')}</a></p>`}
    ${mode === 'join' && html`<form onSubmit=${register}>
      <p class="muted">${t('joinHint')}</p>
      ${field('account-number', t('account'), join.accountNumber, (v) => setJoin({ ...join, accountNumber: v }))}
      ${field('access-code', t('accessCode'), join.code, (v) => setJoin({ ...join, code: v }))}
      ${field('display-name', t('yourName'), join.displayName, (v) => setJoin({ ...join, displayName: v }), 'text', 'name')}
      ${field('email', t('email'), email, setEmail, 'email', 'username')}
      ${field('password', t('newPassword'), password, setPassword, 'password', 'new-password')}
      <button class="primary wide" data-test="join-submit" disabled=${busy}>${t('joinButton')}</button></form>
      <p class="links"><a href="#" onClick=${(e) => { e.preventDefault(); setMode('password'); }}>${t('signIn')}</a></p>`}
    ${error && html`<p class="error" data-test="login-error" role="alert">${explain(error, t)}</p>`}
  </div>`;
}

// Staff: hand a resident the way in to an account, by code or by email.
export function ResidentAccess({ account, i18n }) {
  const { t } = i18n;
  const [email, setEmail] = useState('');
  const [done, setDone] = useState(null);
  const [error, setError] = useState(null);
  const issue = async () => {
    setError(null);
    try {
      const d = await gql('mutation($input: IssueAccessCodeInput!) { issueAccessCode(input: $input) { code validDays } }', { input: { accountId: account } });
      setDone(t('codeIssued').replace('{code}', d.issueAccessCode.code).replace('{days}', d.issueAccessCode.validDays));
    } catch (err) { setError(err); }
  };
  const invite = async (e) => {
    e.preventDefault(); setError(null);
    try {
      await gql('mutation($input: InviteResidentInput!) { inviteResident(input: $input) { account { id } } }', { input: { accountId: account, email } });
      setDone(t('invited').replace('{email}', email)); setEmail('');
    } catch (err) { setError(err); }
  };
  return html`<h2>${t('residentAccess')}</h2>
    <form class="toolbar" onSubmit=${invite}>
      <input type="email" data-test="invite-email" required placeholder=${t('email')} value=${email} onInput=${(e) => setEmail(e.target.value)} />
      <button class="primary" data-test="invite">${t('invite')}</button>
      <button type="button" data-test="issue-code" onClick=${issue}>${t('issueCode')}</button></form>
    ${done && html`<p class="badge ok" data-test="access-result">${done}</p>`}
    ${error && html`<p class="error" role="alert">${explain(error, t)}</p>`}`;
}

export function Security({ me, i18n, onOut }) {
  const { t } = i18n;
  const [keys, setKeys] = useState(null);
  const [sessions, setSessions] = useState([]);
  const [name, setName] = useState('');
  const [error, setError] = useState(null);
  const load = () => gql('{ myPasskeys { id name createdAt lastUsedAt } mySessions { method address userAgent createdAt lastSeenAt current } }')
    .then((d) => { setKeys(d.myPasskeys); setSessions(d.mySessions); }, setError);
  useEffect(() => { load(); }, []);
  const when = (iso) => (iso ? new Date(iso).toLocaleString(i18n.locale) : '—');
  const add = async (e) => {
    e.preventDefault(); setError(null);
    try {
      const { startPasskeyRegistration: c } = await gql('mutation { startPasskeyRegistration { ceremonyId options } }');
      const credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(c.options.publicKey) });
      await gql('mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { passkey { id } } }',
        { input: { ceremonyId: c.ceremonyId, credential: credential.toJSON(), name: name || t('passkey') } });
      setName('');
      load();
    } catch (err) { setError(err); }
  };
  const rename = async (key) => {
    const next = prompt(t('rename'), key.name);
    if (!next) return;
    try { await gql('mutation($input: RenamePasskeyInput!) { renamePasskey(input: $input) { passkey { id } } }', { input: { id: key.id, name: next } }); load(); } catch (err) { setError(err); }
  };
  const remove = async (key) => {
    try { await gql('mutation($input: RemovePasskeyInput!) { removePasskey(input: $input) { ok } }', { input: { id: key.id } }); load(); } catch (err) { setError(err); }
  };
  const everywhere = async () => { await gql('mutation { logoutEverywhere { ended } }'); onOut(); };
  return html`<h1>${t('security')}</h1>
    <p class="muted">${me.displayName} · ${me.email}</p>
    <h2>${t('passkeys')}</h2>
    <table data-test="passkeys"><thead><tr><th>${t('name')}</th><th>${t('added')}</th><th>${t('lastUsed')}</th><th></th></tr></thead>
      <tbody>${(keys || []).map((k) => html`<tr><td>${k.name}</td><td>${when(k.createdAt)}</td><td>${when(k.lastUsedAt)}</td>
        <td class="num"><button onClick=${() => rename(k)}>${t('rename')}</button> <button data-test="remove-passkey" onClick=${() => remove(k)}>${t('remove')}</button></td></tr>`)}
      ${keys && !keys.length && html`<tr><td colspan="4" class="muted">${t('noPasskeys')}</td></tr>`}</tbody></table>
    <form class="toolbar" onSubmit=${add} style="margin-top:.8rem">
      <input data-test="passkey-name" placeholder=${t('passkeyName')} value=${name} onInput=${(e) => setName(e.target.value)} />
      <button class="primary" data-test="add-passkey" disabled=${!supportsPasskeys()}>${t('addPasskey')}</button></form>
    ${error && html`<p class="error" role="alert">${explain(error, t)}</p>`}
    <h2>${t('sessions')}</h2>
    <table data-test="sessions"><thead><tr><th>${t('method')}</th><th>${t('address')}</th><th>${t('device')}</th><th>${t('lastSeen')}</th></tr></thead>
      <tbody>${sessions.map((s) => html`<tr><td>${t('m_' + s.method)}${s.current ? html` <span class="badge ok">${t('thisDevice')}</span>` : ''}</td>
        <td>${s.address}</td><td class="muted">${s.userAgent.slice(0, 60)}</td><td>${when(s.lastSeenAt)}</td></tr>`)}</tbody></table>
    <p><button data-test="logout-everywhere" onClick=${everywhere}>${t('logoutEverywhere')}</button></p>`;
}

export async function logout() {
  await gql('mutation { logout { ok } }');
}

// The owner of an email has just proven it on an account someone registered
// under it before: they say whether what was set on it is theirs.
export function AddressClaim({ claim, i18n, onDone }) {
  const { t, date } = i18n;
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(null);
  const answer = async (registeredByMe) => {
    setBusy(true); setError(null);
    try {
      const d = await gql(`mutation($input: AnswerAddressClaimInput!) { answerAddressClaim(input: $input) {
        kept passwordRemoved passkeysRemoved accountsRemoved } }`, { input: { registeredByMe } });
      setDone(d.answerAddressClaim);
    } catch (err) { setError(err); setBusy(false); }
  };
  if (done) {
    return html`<section class="card" data-test="claim-done"><h1>${t('claim_title')}</h1>
      <p>${done.kept ? t('claim_kept') : t('claim_removed').replace('{accounts}', done.accountsRemoved.join(', ') || '—')}</p>
      <p><button class="primary" data-test="claim-continue" onClick=${onDone}>${t('claim_continue')}</button></p></section>`;
  }
  const set = [claim.password && t('claim_password'), claim.passkeys > 0 && t('claim_passkeys').replace('{n}', claim.passkeys),
    claim.accounts.length > 0 && t('claim_accounts').replace('{accounts}', claim.accounts.join(', '))].filter(Boolean);
  return html`<section class="card" data-test="address-claim"><h1>${t('claim_title')}</h1>
    <p>${t('claim_text').replace('{date}', date(claim.registeredAt.slice(0, 10)))}</p>
    <ul>${set.map((line) => html`<li>${line}</li>`)}</ul>
    <p>${t('claim_question')}</p>
    ${error && html`<p class="error" role="alert">${explain(error, t)}</p>`}
    <p><button class="primary" data-test="claim-mine" disabled=${busy} onClick=${() => answer(true)}>${t('claim_mine')}</button>
      <button class="danger" data-test="claim-not-mine" disabled=${busy} onClick=${() => answer(false)}>${t('claim_not_mine')}</button></p></section>`;
}
