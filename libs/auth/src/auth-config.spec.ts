import { z } from 'zod';
import { AuthEnvShape, toAuthConfig } from './auth-config';

const load = (env: Record<string, string>) => toAuthConfig(z.object(AuthEnvShape).parse(env));

describe('authentication settings', () => {
  it('needs nothing by default (the service decides whether it has routes to protect)', () => {
    expect(load({})).toEqual({ config: { allowNoAuth: false }, problems: [] });
  });

  it('reads a complete OIDC setting with its role map and algorithms', () => {
    const { config, problems } = load({
      OIDC_ISSUER: 'https://idp.example.test/',
      OIDC_AUDIENCE: 'sup',
      OIDC_JWKS_URL: 'https://idp.example.test/jwks',
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_ROLE_MAP: 'sup-admins=admin,team=a=operator',
      OIDC_ALGORITHMS: 'ES256',
    });
    expect(problems).toEqual([]);
    expect(config.oidc).toMatchObject({
      roleClaim: 'groups',
      roleMap: { 'sup-admins': 'admin', 'team=a': 'operator' },
      algorithms: ['ES256'],
      clockToleranceS: 30,
    });
  });

  it('lists what an incomplete OIDC setting lacks', () => {
    expect(load({ OIDC_ISSUER: 'https://idp.example.test/' }).problems).toEqual([
      'OIDC_AUDIENCE: required with OIDC_ISSUER',
      'OIDC_JWKS_URL / OIDC_JWKS_FILE: exactly one is required with OIDC_ISSUER',
    ]);
    expect(load({ OIDC_AUDIENCE: 'sup' }).problems).toEqual([
      'OIDC_ISSUER: required when any other OIDC_ variable is set',
    ]);
  });

  it.each([
    ['OIDC_ALGORITHMS', 'none'],
    ['OIDC_ALGORITHMS', 'HS256'],
    ['OIDC_ROLE_MAP', 'admins=root'],
    ['OIDC_ROLE_MAP', 'no-role'],
    ['OIDC_JWKS_URL', 'file:///etc/jwks.json'],
    ['API_ALLOW_NO_AUTH', 'yes'],
  ])('refuses %s=%s', (name, value) => {
    expect(z.object(AuthEnvShape).safeParse({ [name]: value }).success).toBe(false);
  });
});
