'use strict';
// Stand-in credential data for node code, from the credential type's own description in
// n8n-nodes-base: every default the type declares (a server URL, an auth method), fixed
// stand-ins for secrets. No secret of the user ever reaches the runner; the runner only
// knows credential types.
//
// Also the scopes a credential type asks the user to consent to: a literal `scope`, an
// expression whose default branch holds the scope list (`customScopes` off), or Slack's
// `user_scope=` in `authQueryParameters`.

const crypto = require('crypto');
const { ExpressionProblem } = require('./expressions');

const SECRET = 'n8n-harness-secret';
const MAX_EXTENDS = 10;

class CredentialTypes {
  constructor(packageRoot, load, evaluator) {
    const path = require('path');
    const list = load(path.join(packageRoot, 'dist', 'types', 'credentials.json'));
    this.types = new Map(list.map((type) => [type.name, type]));
    this.evaluator = evaluator;
    this.cache = new Map();
    this.privateKey = null;
  }

  known(name) {
    return this.types.has(name);
  }

  // The type's chain, the type itself last: oAuth2Api, googleOAuth2Api, gmailOAuth2
  chain(name) {
    const chain = [];
    let names = [name];
    for (let depth = 0; names.length && depth < MAX_EXTENDS; depth++) {
      const parents = [];
      for (const current of names) {
        const type = this.types.get(current);
        if (!type) continue;
        chain.unshift(type);
        parents.push(...(type.extends || []));
      }
      names = parents;
    }
    return chain;
  }

  properties(name) {
    const merged = new Map();
    for (const type of this.chain(name)) {
      for (const property of type.properties || []) merged.set(property.name, property);
    }
    return [...merged.values()];
  }

  // Defaults of the type, expressions evaluated against the values before them ($self).
  defaults(name, restore) {
    const values = { customScopes: false };
    const later = [];
    for (const property of this.properties(name)) {
      const value = property.default;
      if (typeof value === 'string' && value.charAt(0) === '=') later.push(property);
      else if (value !== undefined) values[property.name] = value;
    }
    values.customScopes = false;
    for (const property of later) {
      values[property.name] = this.evaluate(property.default.slice(1), values, restore);
    }
    return values;
  }

  evaluate(text, self, restore) {
    try {
      this.evaluator.begin({ $self: self });
      const result = this.evaluator.evaluate(text);
      return result.dynamic.length ? undefined : result.value;
    } catch (error) {
      if (error instanceof ExpressionProblem) return undefined;
      throw error;
    } finally {
      if (restore) restore();
    }
  }

  // What node code sees from getCredentials(type).
  data(name, restore) {
    if (this.cache.has(name)) return { ...this.cache.get(name) };
    const values = this.defaults(name, restore);
    for (const property of this.properties(name)) {
      const secret = property.typeOptions && property.typeOptions.password;
      if (secret) values[property.name] = SECRET;
      else if (values[property.name] === '' && property.type === 'string' && property.required) {
        values[property.name] = `n8n-credential-${property.name}`;
      }
    }
    const chainNames = this.chain(name).map((type) => type.name);
    if (chainNames.includes('oAuth2Api')) {
      values.clientId = values.clientId || SECRET;
      values.clientSecret = SECRET;
      values.oauthTokenData = {
        access_token: 'n8n-harness-token',
        refresh_token: SECRET,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: values.scope || '',
      };
    }
    if (chainNames.includes('oAuth1Api')) {
      values.oauthTokenData = { oauth_token: 'n8n-harness-token', oauth_token_secret: SECRET };
    }
    if (name === 'googleApi') {
      values.email = 'service-account@n8n-harness.iam.gserviceaccount.com';
      values.privateKey = this.servicePrivateKey();
    }
    for (const key of ['accessToken', 'apiKey', 'token', 'password']) {
      if (values[key] === '') values[key] = SECRET;
    }
    this.cache.set(name, values);
    return { ...values };
  }

  servicePrivateKey() {
    // A real key, so that node code can sign the JWT it sends for a service-account token;
    // the token call itself is recorded for its scopes and never kept as a flow step.
    if (this.privateKey === null) {
      const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.privateKey = privateKey.export({ type: 'pkcs8', format: 'pem' });
    }
    return this.privateKey;
  }

  // The scopes the type asks for: {extends: [...], scope, userScope, known}
  describe(name, restore) {
    if (!this.types.has(name)) return { name, known: false };
    const values = this.defaults(name, restore);
    const chain = this.chain(name).map((type) => type.name);
    const result = { name, known: true, extends: chain.slice(0, -1), oauth2: chain.includes('oAuth2Api') };
    if (typeof values.scope === 'string' && values.scope.trim()) result.scope = values.scope;
    const query = typeof values.authQueryParameters === 'string' ? values.authQueryParameters : '';
    const userScope = /(?:^|&)user_scope=([^&]*)/.exec(query);
    if (userScope && userScope[1].trim()) result.userScope = decodeURIComponent(userScope[1].replace(/\+/g, ' '));
    if (typeof values.grantType === 'string') result.grantType = values.grantType;
    const customizable = this.properties(name).some((p) => p.name === 'customScopes' || p.name === 'enabledScopes');
    result.customizable = customizable;
    return result;
  }
}

module.exports = { CredentialTypes, SECRET };
