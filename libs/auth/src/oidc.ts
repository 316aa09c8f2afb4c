import { HUMAN_ROLES, RoleSchema, type Actor, type Role } from '@sup/contracts';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { WatchedFile } from './watched-file';

export interface OidcConfig {
  issuer: string;
  audience: string;
  /** Exactly one of the two. */
  jwksUrl?: string;
  jwksFile?: string;
  /** Claim holding the role(s): a top-level name, or a dotted path such as `realm_access.roles`. */
  roleClaim: string;
  /** Claim value -> role. Empty: values that are role names count as themselves. */
  roleMap: Record<string, Role>;
  /** Signature algorithms accepted; `none` and HMAC are never on the list. */
  algorithms: string[];
  clockToleranceS: number;
}

function parseJwks(text: string): JWTVerifyGetKey {
  const jwks = JSON.parse(text) as JSONWebKeySet;
  if (!Array.isArray(jwks?.keys)) throw new Error('OIDC_JWKS_FILE: not a JWKS ({"keys": [...]})');
  return createLocalJWKSet(jwks);
}

/** The claim's value: the whole name first (namespaced claims contain dots), else a dotted path. */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name];
  let node: unknown = payload;
  for (const key of name.split('.')) {
    node =
      typeof node === 'object' && node !== null
        ? (node as Record<string, unknown>)[key]
        : undefined;
  }
  return node;
}

/**
 * The role a token's claim grants: the highest human role among its values, else its single
 * machine role. A token naming several machine roles (or none we know) gets no role, and with
 * it no route.
 */
export function roleFromClaim(payload: JWTPayload, config: OidcConfig): Role | undefined {
  const raw = claim(payload, config.roleClaim);
  const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  const mapped = new Set<Role>();
  const hasMap = Object.keys(config.roleMap).length > 0;
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const role = hasMap ? config.roleMap[v] : RoleSchema.safeParse(v).data;
    if (role) mapped.add(role);
  }
  const human = HUMAN_ROLES.filter((r) => mapped.has(r));
  if (human.length > 0) return human[human.length - 1];
  const machine = [...mapped];
  return machine.length === 1 ? machine[0] : undefined;
}

/** Verifies OIDC access tokens (JWTs) with jose against the issuer's keys. */
export class OidcVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly jwksFile?: WatchedFile<JWTVerifyGetKey>;

  constructor(
    private readonly config: OidcConfig,
    onError: (error: unknown) => void,
  ) {
    if (config.jwksFile) {
      const file = new WatchedFile(config.jwksFile, { parse: parseJwks, onError }).watch();
      this.jwksFile = file;
      this.keys = (header, token) => file.current()(header, token);
    } else if (config.jwksUrl) {
      // jose caches the set and fetches it again (at most every 30 s) when a token names a new key.
      this.keys = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000 });
    } else {
      throw new Error('OIDC needs OIDC_JWKS_URL or OIDC_JWKS_FILE');
    }
  }

  /** The token's subject and role; rejects (with jose's error) anything that does not verify. */
  async verify(token: string): Promise<Actor> {
    const { payload } = await jwtVerify(token, this.keys, {
      issuer: this.config.issuer,
      audience: this.config.audience,
      algorithms: this.config.algorithms,
      clockTolerance: this.config.clockToleranceS,
      requiredClaims: ['exp', 'sub'],
    });
    const sub = payload.sub ?? '';
    if (sub.length === 0 || sub.length > 256) throw new Error('token subject is empty or too long');
    const role = roleFromClaim(payload, this.config);
    return { type: 'oidc', name: sub, ...(role ? { role } : {}) };
  }

  close(): void {
    this.jwksFile?.close();
  }
}
