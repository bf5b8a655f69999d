// An OpenID provider for kb's single sign-on tests: panva's oidc-provider on 127.0.0.1 over http.
//
//   node tests/oidc/provider.mjs SETTINGS.json
//
// SETTINGS.json: {"client_id", "client_secret", "redirect_uris": [...], "accounts": "ACCOUNTS.json"}.
// ACCOUNTS.json maps a login name to the claims of that person ({"sub", "email", "email_verified",
// "name", "roles"}); it is read again at every sign-in, so a test can add or change people.
// The provider signs people in through its own development pages (a login name and any
// password), grants kb's client what it asks without a consent page, and puts the claims in
// the ID token. It listens on a free port and prints {"issuer": ...} as its first line.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function accounts() {
  return JSON.parse(readFileSync(settings.accounts, 'utf8'));
}

const configuration = {
  clients: [
    {
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: settings.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // kb must send a PKCE challenge: the provider refuses an authorisation request without one.
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub', 'roles'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // The claims go into the ID token, as Entra ID and Google put them there.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const person = accounts()[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return { ...person, sub: person.sub || id };
      },
    };
  },
  // kb's client is first party: what it asks for is granted without a consent page.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  cookies: { keys: ['kb-test-provider-cookie-key'] },
};

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration);
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
