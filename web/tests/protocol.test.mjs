// /graphql/ws against the real graphql-ws client from npm: the close codes of
// the graphql-transport-ws protocol (4408, 4429, 4401, 4409, 4400), ping/pong,
// and a live subscription. Where the client never breaks the protocol by
// itself, the test sends the offending message through the client's own socket
// and reads the close code the client reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer, api, login } from './server.mjs';

let server;
let url;
let token;
let org;

before(async () => {
  // Two seconds to send connection_init.
  server = await startServer({ KVARTAL_WS_INIT_TIMEOUT_SECS: '2' });
  url = server.base.replace('http://', 'ws://') + '/graphql/ws';
  token = await login(server.base, 'admin@kvartal.demo');
  const me = await api(server.base, token, '{ me { memberships { organisation { id } } } }');
  org = me.data.me.memberships[0].organisation.id;
});

after(() => server?.stop());

// A client whose connection ends with a close code; `setup` may misbehave.
function closedWith(options = {}) {
  return new Promise((resolve) => {
    const { on = {}, ...rest } = options;
    createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { token },
      onNonLazyError: () => {},
      ...rest,
      on: { ...on, closed: (event) => resolve({ code: event.code, reason: event.reason }) },
    });
  });
}

const LIVE = 'subscription($org: ID!) { readingSubmitted(organisationId: $org) { eventId reading { meterSerial values } } }';

test('a client that does not initialise in time is closed with 4408', async () => {
  const closed = await closedWith({
    connectionParams: () => new Promise((resolve) => setTimeout(() => resolve({ token }), 4000)),
  });
  assert.equal(closed.code, 4408);
});

test('a second connection_init is closed with 4429', async () => {
  const closed = await closedWith({
    on: {
      connected: (socket) => socket.send(JSON.stringify({ type: 'connection_init', payload: { token } })),
    },
  });
  assert.equal(closed.code, 4429);
});

test('subscribe before the acknowledgement is closed with 4401', async () => {
  const closed = await closedWith({
    on: {
      opened: (socket) => socket.send(JSON.stringify({ id: 'early', type: 'subscribe', payload: { query: '{ me { email } }' } })),
    },
  });
  assert.equal(closed.code, 4401);
});

test('a second subscription with an id still running is closed with 4409', async () => {
  const closed = await new Promise((resolve) => {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { token },
      generateID: () => 'the-same-id',
      on: { closed: (event) => resolve(event) },
    });
    const sink = { next: () => {}, error: () => {}, complete: () => {} };
    client.subscribe({ query: LIVE, variables: { org } }, sink);
    client.subscribe({ query: LIVE, variables: { org } }, sink);
  });
  assert.equal(closed.code, 4409);
});

test('an unknown message is closed with 4400', async () => {
  const closed = await closedWith({
    on: { connected: (socket) => socket.send(JSON.stringify({ type: 'gossip' })) },
  });
  assert.equal(closed.code, 4400);
});

test('a ping gets a pong', async () => {
  const pong = await new Promise((resolve) => {
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      connectionParams: { token },
      keepAlive: 200,
      on: {
        pong: (received) => {
          if (received) {
            resolve(true);
            client.dispose();
          }
        },
      },
    });
  });
  assert.equal(pong, true);
});

test('a subscription through the client receives a reading submitted over HTTP, and ends on dispose', async () => {
  const meters = await api(server.base, token, 'query($org: ID!) { meters(organisationId: $org, filter: { common: false }, first: 1) { nodes { id serial } } }', { org });
  const meter = meters.data.meters.nodes[0];
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { token } });
  const received = new Promise((resolve, reject) => {
    client.subscribe({ query: LIVE, variables: { org } }, { next: resolve, error: reject, complete: () => {} });
  });
  // The subscription follows from the moment it is set up: submit until it answers.
  let value = 50000;
  const submitting = setInterval(async () => {
    value += 1;
    await api(server.base, token, 'mutation($input: SubmitReadingInput!) { submitReading(input: $input) { reading { id } } }',
      { input: { meterId: meter.id, values: [String(value)] } });
  }, 200);
  const event = await received;
  clearInterval(submitting);
  assert.equal(event.data.readingSubmitted.reading.meterSerial, meter.serial);
  assert.ok(event.data.readingSubmitted.eventId > 0);
  await client.dispose();
});
