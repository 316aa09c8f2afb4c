import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Authenticator } from './authenticator';
import { OidcVerifier, roleFromClaim, type OidcConfig } from './oidc';

const ISSUER = 'https://idp.example.test/realms/ops';
const AUDIENCE = 'sup-api';
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('OIDC access tokens', () => {
  let rsa: { privateKey: Key; jwk: JWK };
  let ec: { privateKey: Key; jwk: JWK };
  let stranger: Key;
  let dir: string;
  let jwksFile: string;
  let server: Server;
  let jwksUrl: string;

  const keyPair = async (alg: string, kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
  };

  beforeAll(async () => {
    rsa = await keyPair('RS256', 'rsa-1');
    ec = await keyPair('ES256', 'ec-1');
    stranger = (await generateKeyPair('RS256')).privateKey;
    dir = mkdtempSync(join(tmpdir(), 'sup-oidc-'));
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const config = (over: Partial<OidcConfig> = {}): OidcConfig => ({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksFile,
    roleClaim: 'roles',
    roleMap: {},
    algorithms: ['RS256', 'ES256'],
    clockToleranceS: 30,
    ...over,
  });

  const sign = (
    claims: JWTPayload,
    opts: { key?: Key; alg?: string; kid?: string; exp?: string | number } = {},
  ) =>
    new SignJWT({
      roles: ['operator'],
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'alice@example.test',
      ...claims,
    })
      .setProtectedHeader({ alg: opts.alg ?? 'RS256', kid: opts.kid ?? 'rsa-1' })
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(opts.key ?? rsa.privateKey);

  const verifiers: OidcVerifier[] = [];
  const verifier = (over: Partial<OidcConfig> = {}) => {
    const v = new OidcVerifier(config(over), (e) => {
      throw e;
    });
    verifiers.push(v);
    return v;
  };
  afterAll(() => verifiers.forEach((v) => v.close()));

  it('accepts a token signed by a key of the JWKS file or URL, as its subject with its role', async () => {
    const expected = { type: 'oidc', name: 'alice@example.test', role: 'operator' };
    expect(await verifier().verify(await sign({}))).toEqual(expected);
    const byUrl = verifier({ jwksFile: undefined, jwksUrl });
    expect(await byUrl.verify(await sign({}))).toEqual(expected);
    expect(
      await byUrl.verify(await sign({}, { alg: 'ES256', kid: 'ec-1', key: ec.privateKey })),
    ).toEqual(expected);
  });

  it.each<[string, () => Promise<string>]>([
    ['expired', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 120 })],
    ['for another audience', () => sign({ aud: 'other-api' })],
    ['from another issuer', () => sign({ iss: 'https://evil.example.test/' })],
    ['signed by an unknown key', () => sign({}, { key: stranger })],
    [
      'unsigned (alg none)',
      () =>
        Promise.resolve(
          new UnsecuredJWT({ roles: ['admin'] })
            .setIssuer(ISSUER)
            .setAudience(AUDIENCE)
            .setSubject('mallory')
            .setExpirationTime('5m')
            .encode(),
        ),
    ],
    [
      'HMAC-signed with the public key as the secret',
      async () =>
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('mallory')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk))),
    ],
    [
      'on an algorithm off the list',
      () => sign({}, { alg: 'ES256', kid: 'ec-1', key: ec.privateKey }),
    ],
  ])('refuses a token %s', async (_what, make) => {
    const v = verifier({ algorithms: ['RS256'] });
    await expect(v.verify(await make())).rejects.toThrow();
  });

  it('refuses a token tampered with after signing', async () => {
    const [h, p, s] = (await sign({})).split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as JWTPayload;
    const forged = Buffer.from(JSON.stringify({ ...payload, roles: ['admin'] })).toString(
      'base64url',
    );
    await expect(verifier().verify(`${h}.${forged}.${s}`)).rejects.toThrow();
  });

  it('takes the role from a string, an array, a nested or a namespaced claim, through the map', () => {
    const c = config();
    expect(roleFromClaim({ roles: 'viewer' }, c)).toBe('viewer');
    expect(roleFromClaim({ roles: ['viewer', 'admin', 'operator'] }, c)).toBe('admin');
    expect(roleFromClaim({ roles: ['agent'] }, c)).toBe('agent');
    expect(roleFromClaim({ roles: ['agent', 'relay'] }, c)).toBeUndefined();
    expect(roleFromClaim({ roles: ['root', 42] }, c)).toBeUndefined();
    const nested = config({ roleClaim: 'realm_access.roles' });
    expect(roleFromClaim({ realm_access: { roles: ['operator'] } }, nested)).toBe('operator');
    const namespaced = config({ roleClaim: 'https://sup.example/roles' });
    expect(roleFromClaim({ 'https://sup.example/roles': ['viewer'] }, namespaced)).toBe('viewer');
    const mapped = config({ roleMap: { 'sup-ops': 'operator' } });
    expect(roleFromClaim({ roles: ['sup-ops'] }, mapped)).toBe('operator');
    // With a map, only mapped values count: a group that happens to be called "admin" does not.
    expect(roleFromClaim({ roles: ['admin'] }, mapped)).toBeUndefined();
  });

  it('authenticates a bearer OIDC token beside the token file, and refuses a bad one with 401', async () => {
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ tokens: [] }));
    const auth = Authenticator.create(
      { tokensFile, oidc: config(), allowNoAuth: false },
      pino({ level: 'silent' }),
    );
    try {
      expect(await auth.authenticate(`Bearer ${await sign({ roles: 'viewer' })}`)).toMatchObject({
        type: 'oidc',
        role: 'viewer',
      });
      await expect(auth.authenticate(`Bearer ${await sign({ aud: 'x' })}`)).rejects.toMatchObject({
        status: 401,
      });
    } finally {
      auth.close();
    }
  });
});
