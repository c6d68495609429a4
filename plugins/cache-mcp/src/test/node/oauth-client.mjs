// An MCP client (the official TypeScript SDK) that gets its own OAuth token, as Claude or VS Code
// do: no header made by hand. It connects, gets 401, follows resource_metadata to the issuer,
// runs the authorization-code flow with PKCE as a pre-registered client, exchanges the code, and
// then calls a tool with the token.
//
//   node oauth-client.mjs URL CLIENT_ID CLIENT_SECRET [PAUSE_MS]
//
// With PAUSE_MS, it waits that long after the first tool call and calls the tool again in the
// same session with the same token: longer than a Node server's 5 s keep-alive, the gateway's
// pooled connection to the server is gone by then.
//
// The "browser" is a plain fetch of the authorization URL: the IdP in the tests signs the user in
// without a login page and redirects to redirect_uri with the code, which is read from Location
// (redirect_uri itself is never contacted).
//
// Prints one JSON line: {"ok":true,"steps":[...],"echo":"...","resource":"...","tokenAudience":[...]}
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const [url, clientId, clientSecret, pauseArg] = process.argv.slice(2);
const pauseMs = Number(pauseArg ?? 0);
const redirectUrl = 'http://localhost:65000/callback';
const steps = [];
let authorizationCode;
let authorizationResource;

const store = {};
const provider = {
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() {
    return { client_name: 'portal-gateway-test', redirect_uris: [redirectUrl], grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid' };
  },
  clientInformation() { return { client_id: clientId, client_secret: clientSecret }; },
  tokens() { return store.tokens; },
  saveTokens(tokens) { store.tokens = tokens; steps.push('token'); },
  saveCodeVerifier(v) { store.verifier = v; },
  codeVerifier() { return store.verifier; },
  async redirectToAuthorization(authorizationUrl) {
    steps.push('authorize');
    authorizationResource = authorizationUrl.searchParams.get('resource');
    const r = await fetch(authorizationUrl, { redirect: 'manual' });
    const location = r.headers.get('location');
    if (r.status !== 302 || !location) {
      throw new Error(`the IdP answered ${r.status} to the authorization request`);
    }
    authorizationCode = new URL(location).searchParams.get('code');
  },
};

const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await realFetch(input, init);
  const u = String(input instanceof Request ? input.url : input);
  if (u.includes('/.well-known/oauth-protected-resource')) {
    steps.push(`metadata ${response.status}`);
  } else if (u.startsWith(url) && response.status === 401) {
    steps.push('401');
  }
  return response;
};

try {
  let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  let client = new Client({ name: 'portal-gateway-oauth-client', version: '1.0.0' });
  try {
    await client.connect(transport);
    throw new Error('connected without signing in');
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !authorizationCode) {
      throw e;
    }
  }
  await transport.finishAuth(authorizationCode);
  transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  client = new Client({ name: 'portal-gateway-oauth-client', version: '1.0.0' });
  await client.connect(transport);
  const result = await client.callTool({ name: 'echo', arguments: { message: 'hello through sso' } });
  let afterPause;
  if (pauseMs > 0) {
    await new Promise(resolve => setTimeout(resolve, pauseMs));
    const again = await client.callTool({ name: 'echo', arguments: { message: 'again after a pause' } });
    afterPause = again.content[0].text;
  }
  const payload = JSON.parse(Buffer.from(store.tokens.access_token.split('.')[1], 'base64url').toString());
  console.log(JSON.stringify({ ok: true, steps, echo: result.content[0].text, afterPause, resource: authorizationResource,
    tokenAudience: [].concat(payload.aud) }));
  await client.close();
} catch (e) {
  console.log(JSON.stringify({ ok: false, steps, error: String(e && e.stack || e) }));
  process.exit(1);
}
