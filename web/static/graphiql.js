// GraphiQL, served by the server itself (no CDN): the API's explorer for a
// signed-in browser. Queries go to /graphql with the session cookie;
// subscriptions over /graphql/ws.
const ws = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql/ws`;
const fetcher = window.GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: ws });
const root = window.ReactDOM.createRoot(document.getElementById('graphiql'));
root.render(window.React.createElement(window.GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
