// Starts the real server for a test file: the demo organisation on a fresh
// SQLite file, on a free port. KVARTAL_BIN names the built `kvartal` binary.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PASSWORD = 'kvartal-demo-2026';

export async function startServer(settings = {}) {
  const bin = process.env.KVARTAL_BIN;
  if (!bin) throw new Error('set KVARTAL_BIN to the kvartal binary');
  const dataDir = mkdtempSync(join(tmpdir(), 'kvartal-node-'));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KVARTAL_') && k !== 'DATABASE_URL'));
  Object.assign(env, { KVARTAL_DATA_DIR: dataDir, KVARTAL_BIND: '127.0.0.1:0', KVARTAL_LOG: 'info' }, settings);
  execFileSync(bin, ['demo'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Everything the server writes (a development server logs its e-mails).
  let output = '';
  const keep = (chunk) => { output += chunk.toString(); if (output.length > 1 << 22) output = output.slice(-(1 << 21)); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start')), 30000);
    const watch = (chunk) => {
      const m = /listening on http:\/\/127\.0\.0\.1:([0-9]+)/.exec(chunk.toString());
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    server.stdout.on('data', watch);
    server.stderr.on('data', watch);
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  return {
    // localhost, not 127.0.0.1: passkeys need a domain as relying party id.
    base: `http://localhost:${port}`,
    output: () => output,
    stop() {
      server.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// The server's answer to a GraphQL request made with an app token.
export async function api(base, token, query, variables = {}) {
  const response = await fetch(base + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

export async function login(base, email, password = PASSWORD) {
  const r = await api(base, null, 'mutation($input: LoginInput!) { login(input: $input) { token } }',
    { input: { email, password, client: 'APP' } });
  if (!r.data) throw new Error(JSON.stringify(r));
  return r.data.login.token;
}
