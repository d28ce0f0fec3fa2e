// A small GraphQL client: POST JSON, errors thrown with their extensions.
export async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const error = new Error(body.errors[0].message);
    error.extensions = body.errors[0].extensions || {};
    throw error;
  }
  return body.data;
}
