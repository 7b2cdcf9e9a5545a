// openid-client 6, unmodified: RFC 8414 discovery against the mock, then
// client credentials with client_secret_basic and client_secret_post, the
// token on a protected route, and a wrong secret. Prints one JSON object of
// what happened; e2e/clients_test.go judges it.
// Usage: node openid-client.mjs ISSUER CLIENT_ID SECRET PROTECTED_PATH
import * as client from 'openid-client';

const [issuer, clientId, secret, protectedPath] = process.argv.slice(2);
const methods = { client_secret_basic: client.ClientSecretBasic, client_secret_post: client.ClientSecretPost };
const options = { algorithm: 'oauth2', execute: [client.allowInsecureRequests] }; // the mock speaks http on loopback

async function run(method, clientSecret) {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret, methods[method](clientSecret), options);
  const out = { method, tokenEndpoint: config.serverMetadata().token_endpoint };
  try {
    const tokens = await client.clientCredentialsGrant(config);
    const res = await client.fetchProtectedResource(config, tokens.access_token, new URL(protectedPath, issuer), 'GET');
    return { ...out, tokenType: tokens.token_type, expiresIn: tokens.expiresIn(), scope: tokens.scope, protectedStatus: res.status, protectedBody: await res.json() };
  } catch (err) {
    // A 401 with a challenge is thrown before the body is read: read it here.
    const body = err.error === undefined ? await err.response?.json().catch(() => undefined) : undefined;
    return { ...out, errorName: err.name, status: err.status, error: err.error ?? body?.error, challenge: err.cause?.[0]?.scheme };
  }
}

const results = [];
for (const method of Object.keys(methods)) {
  results.push(await run(method, secret));
  results.push({ ...(await run(method, secret + '-wrong')), wrongSecret: true });
}
console.log(JSON.stringify(results));
