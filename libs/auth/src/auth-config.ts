import { RoleSchema, type Role } from '@sup/contracts';
import { z } from 'zod';
import type { OidcConfig } from './oidc';

/** Asymmetric JWS algorithms only: `none` and shared-secret HMAC are never accepted. */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

const list = (what: string) =>
  z
    .string()
    .regex(/^[^,\s]+(,[^,\s]+)*$/, `must be a comma-separated list of ${what}`)
    .transform((s) => s.split(','));

/** The authentication variables every service reads (spread into the base env schema). */
export const AuthEnvShape = {
  API_TOKENS_FILE: z.string().min(1).optional(),
  API_ALLOW_NO_AUTH: z.enum(['true', 'false']).default('false'),
  OIDC_ISSUER: z.string().url().optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_JWKS_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL of the JWKS')
    .optional(),
  OIDC_JWKS_FILE: z.string().min(1).optional(),
  OIDC_ROLE_CLAIM: z.string().min(1).max(256).default('roles'),
  OIDC_ROLE_MAP: list('claim-value=role pairs, e.g. "sup-admins=admin,sup-ops=operator"')
    .transform((pairs, ctx) => {
      const map: Record<string, Role> = {};
      for (const pair of pairs) {
        const at = pair.lastIndexOf('=');
        const role = RoleSchema.safeParse(pair.slice(at + 1));
        if (at <= 0 || !role.success) {
          ctx.addIssue({ code: 'custom', message: `"${pair}" is not <claim value>=<role>` });
          return z.NEVER;
        }
        map[pair.slice(0, at)] = role.data;
      }
      return map;
    })
    .optional(),
  OIDC_ALGORITHMS: list('JWS algorithms')
    .pipe(z.array(z.enum(OIDC_ALGORITHMS)))
    .default('RS256,PS256,ES256,EdDSA'),
  OIDC_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
};
type AuthEnv = z.infer<z.ZodObject<typeof AuthEnvShape>>;

export interface AuthConfig {
  tokensFile?: string;
  oidc?: OidcConfig;
  /** Start even with no token file and no OIDC: every protected route then answers 401. */
  allowNoAuth: boolean;
}

/** The auth settings, or the problems of the combination (each variable alone is valid). */
export function toAuthConfig(env: AuthEnv): { config: AuthConfig; problems: string[] } {
  const problems: string[] = [];
  let oidc: OidcConfig | undefined;
  if (env.OIDC_ISSUER) {
    if (!env.OIDC_AUDIENCE) problems.push('OIDC_AUDIENCE: required with OIDC_ISSUER');
    if (!env.OIDC_JWKS_URL === !env.OIDC_JWKS_FILE)
      problems.push('OIDC_JWKS_URL / OIDC_JWKS_FILE: exactly one is required with OIDC_ISSUER');
    oidc = {
      issuer: env.OIDC_ISSUER,
      audience: env.OIDC_AUDIENCE ?? '',
      ...(env.OIDC_JWKS_URL ? { jwksUrl: env.OIDC_JWKS_URL } : {}),
      ...(env.OIDC_JWKS_FILE ? { jwksFile: env.OIDC_JWKS_FILE } : {}),
      roleClaim: env.OIDC_ROLE_CLAIM,
      roleMap: env.OIDC_ROLE_MAP ?? {},
      algorithms: env.OIDC_ALGORITHMS,
      clockToleranceS: env.OIDC_CLOCK_TOLERANCE_S,
    };
  } else if (env.OIDC_AUDIENCE || env.OIDC_JWKS_URL || env.OIDC_JWKS_FILE) {
    problems.push('OIDC_ISSUER: required when any other OIDC_ variable is set');
  }
  return {
    config: {
      ...(env.API_TOKENS_FILE ? { tokensFile: env.API_TOKENS_FILE } : {}),
      ...(oidc ? { oidc } : {}),
      allowNoAuth: env.API_ALLOW_NO_AUTH === 'true',
    },
    problems,
  };
}
