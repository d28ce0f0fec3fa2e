// Live events over /graphql/ws (graphql-transport-ws), signed in by the session
// cookie. `follow` keeps one subscription open: after a dropped connection it
// reconnects with `after` set to the last event seen, so nothing is missed or
// shown twice. A closed session (4403) ends it.
export function follow(query, variables, { onEvent, onStatus = () => {}, eventId = (d) => null }) {
  let socket = null;
  let stopped = false;
  let after = variables.after ?? null;
  let retry = 500;
  const open = () => {
    if (stopped) return;
    onStatus('connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, 'graphql-transport-ws');
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    socket.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === 'connection_ack') {
        retry = 500;
        socket.send(JSON.stringify({ id: 'live', type: 'subscribe', payload: { query, variables: { ...variables, after } } }));
        onStatus('live');
      } else if (msg.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (msg.type === 'next' && msg.payload.data) {
        const id = eventId(msg.payload.data);
        if (id != null) after = id;
        onEvent(msg.payload.data);
      } else if (msg.type === 'error') {
        onStatus('error', msg.payload);
        stopped = true;
        socket.close();
      }
    };
    socket.onclose = (e) => {
      if (stopped) return;
      if (e.code === 4403) { onStatus('closed'); return; }
      onStatus('reconnecting');
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 10000);
    };
  };
  open();
  return () => { stopped = true; socket?.close(); };
}
