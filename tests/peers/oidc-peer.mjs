// oidc-peer.mjs: a real OAuth 2.0 / OIDC authorization server, oidc-provider 9.13.3
// (PROTOCOLS.md §2 and §6.2), for Breaker's identity layer of the stop switch.
//
// Usage: node oidc-peer.mjs
//   Binds 127.0.0.1:0 first (the issuer must contain the port), then prints exactly
//   "LISTENING <port>". Issuer: http://127.0.0.1:<port>. Features: clientCredentials,
//   introspection, revocation. Discovery lists /token, /token/revocation, /token/introspection.
//   Ends on SIGTERM/SIGINT, or when stdin closes (a harness that dies does not leak us).
//
// Clients (client_secret_basic or client_secret_post):
//   breaker / breaker-secret  Breaker's own client: introspects and revokes the agent's tokens.
//   agent   / agent-secret    the agent's client: owns the tokens Breaker revokes.
//   "ops:breaker +1" / "p@ss:w/rd +%&="   like breaker, with characters Basic auth must encode.
//
// What Breaker's client needs, from the source (lib/helpers/defaults.js, lib/helpers/revoke.js):
//   - introspection: the default allowedPolicy lets any authenticated confidential client
//     introspect any token, so a separate Breaker client works as is;
//   - revocation: the default allowedPolicy *throws invalid_request "client is not authorized to
//     revoke the presented token"* when the token belongs to another client. So this peer sets
//     features.revocation.allowedPolicy to let the `breaker` client revoke any client's tokens
//     (a real deployment must do the same, or give Breaker the agent's own client);
//   - the cascade: revoking a token revokes every token of its grant, but lib/helpers/revoke.js
//     only kills refresh tokens when the *revoking* client has the refresh_token grant type.
//     So `breaker` has grant_types [client_credentials, refresh_token]; without refresh_token,
//     revoking the agent's access token would leave its refresh token alive.
//
// Test-only route (not OAuth): POST /test/mint with a JSON body
//   {"sub":"alice","scope":"openid offline_access api:read","refresh":true}
// makes a Grant for the `agent` client and subject `sub` and answers
//   {"access_token":"…","refresh_token":"…","expires_in":300,"grant_id":"…"}
// (refresh_token only when refresh is true). clientCredentials tokens have no grant, so revoking
// one cannot cascade: the test tokens belong to a user grant like an agent's delegated tokens.
import http from 'node:http';
import Provider from 'oidc-provider';

const BREAKER_CLIENTS = new Set(['breaker', 'ops:breaker +1']);
const CLIENTS = [
  {
    client_id: 'breaker',
    client_secret: 'breaker-secret',
    grant_types: ['client_credentials', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    // Characters that client_secret_basic must form-encode (RFC 6749 section 2.3.1).
    client_id: 'ops:breaker +1',
    client_secret: 'p@ss:w/rd +%&=',
    grant_types: ['client_credentials', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
  {
    client_id: 'agent',
    client_secret: 'agent-secret',
    grant_types: ['client_credentials', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  },
];

function readJson(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      try { resolve(data ? JSON.parse(data) : {}); } catch (e) { reject(e); }
    });
    req.on('error', reject);
  });
}

const srv = http.createServer();
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: CLIENTS,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: {
        enabled: true,
        // Breaker revokes tokens of another client (the agent's); the default refuses that.
        allowedPolicy: async (ctx, client, token) => BREAKER_CLIENTS.has(client.clientId)
          || client.clientId === token.clientId,
      },
    },
    ttl: {
      AccessToken: 300,
      ClientCredentials: 300,
      RefreshToken: 3600,
      Grant: 3600,
    },
    findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));

  const handle = provider.callback();
  srv.on('request', async (req, res) => {
    if (req.method === 'POST' && req.url === '/test/mint') {
      try {
        const body = await readJson(req);
        const sub = String(body.sub ?? 'alice');
        const scope = String(body.scope ?? 'openid offline_access');
        const client = await provider.Client.find('agent');
        const grant = new provider.Grant({ accountId: sub, clientId: client.clientId });
        grant.addOIDCScope(scope);
        const grantId = await grant.save();
        const at = new provider.AccessToken({
          accountId: sub, client, grantId, scope, gty: 'refresh_token',
        });
        const out = { access_token: await at.save(), expires_in: 300, grant_id: grantId };
        if (body.refresh !== false) {
          const rt = new provider.RefreshToken({
            accountId: sub, client, grantId, scope, gty: 'refresh_token',
          });
          out.refresh_token = await rt.save();
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(out));
      } catch (e) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'server_error', error_description: String(e?.message ?? e) }));
      }
      return;
    }
    handle(req, res);
  });
  console.log(`LISTENING ${port}`);
});

const stop = () => { srv.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop).on('close', stop).resume();
