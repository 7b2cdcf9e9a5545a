// @commercelayer/js-auth 8, unmodified, with Node's own fetch: authenticate
// at https://auth.DOMAIN/oauth/token (js-auth builds that URL itself), a
// wrong secret, jwtVerify against the JWKS of the token's issuer (and of an
// altered token), a protected call, revoke, and the same call again. Prints
// one JSON object of what happened; e2e/clients_test.go judges it. The
// mock's certificate must be trusted (NODE_EXTRA_CA_CERTS) and auth.DOMAIN
// must resolve to the mock.
// Usage: node js-auth.mjs DOMAIN CLIENT_ID SECRET PROTECTED_PATH
import { authenticate, jwtVerify, revoke } from '@commercelayer/js-auth';

const [domain, clientId, clientSecret, protectedPath] = process.argv.slice(2);

// step runs one call and records its outcome or its error.
async function step(call) {
  try {
    return await call();
  } catch (err) {
    return { thrown: `${err.name}: ${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}` };
  }
}

async function callProtected(token, issuer) {
  const res = await fetch(new URL(protectedPath, issuer), { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

const out = {};
const auth = await step(() => authenticate('client_credentials', { clientId, clientSecret, domain }));
out.authenticate = { ...auth, accessToken: undefined, tokenLength: auth.accessToken?.length };
out.wrongSecret = await step(() => authenticate('client_credentials', { clientId, clientSecret: `${clientSecret}-wrong`, domain }));
if (auth.accessToken) {
  const token = auth.accessToken;
  out.verify = await step(async () => {
    const { header, payload } = await jwtVerify(token);
    return { alg: header.alg, kid: header.kid, iss: payload.iss };
  });
  const [head, body, signature] = token.split('.');
  const altered = `${head}.${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  out.verifyAltered = await step(async () => ({ verified: Boolean(await jwtVerify(altered)) }));
  const issuer = out.verify.iss ?? `https://auth.${domain}`;
  out.before = await step(() => callProtected(token, issuer));
  out.revoke = await step(() => revoke({ clientId, clientSecret, token }));
  out.after = await step(() => callProtected(token, issuer));
}
console.log(JSON.stringify(out));
