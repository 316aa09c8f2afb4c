import { ActorSchema, RoleSchema, type Actor } from '@sup/contracts';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** `API_TOKENS_FILE`: named tokens with a role, stored only as the SHA-256 of the token. */
export const TokensFileSchema = z
  .object({
    tokens: z
      .array(
        z
          .object({
            name: ActorSchema.shape.name,
            role: RoleSchema,
            sha256: z
              .string()
              .regex(/^[0-9a-fA-F]{64}$/, 'must be the hex SHA-256 of the token (64 hex digits)')
              .transform((s) => s.toLowerCase()),
          })
          .strict(),
      )
      .max(10_000),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.tokens.forEach((t, i) => {
      if (seen.has(t.sha256))
        ctx.addIssue({ code: 'custom', path: ['tokens', i, 'sha256'], message: 'listed twice' });
      seen.add(t.sha256);
    });
  });

export const sha256Hex = (token: string): string =>
  createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * The tokens by the hash of their value. A presented token is hashed and looked up: the lookup
 * works on a digest the caller cannot steer byte by byte, so its timing says nothing about any
 * stored token, and the file never holds a usable secret.
 */
export class TokenTable {
  private constructor(private readonly byHash: ReadonlyMap<string, Actor>) {}

  static parse(text: string, source = 'API_TOKENS_FILE'): TokenTable {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${source}: not JSON (${(error as Error).message})`);
    }
    const result = TokensFileSchema.safeParse(json);
    if (!result.success) {
      const problems = result.error.issues.map(
        (i) => `${i.path.join('.') || '(file)'}: ${i.message}`,
      );
      throw new Error(`${source}: ${problems.join('; ')}`);
    }
    return new TokenTable(
      new Map(
        result.data.tokens.map((t) => [t.sha256, { type: 'token', name: t.name, role: t.role }]),
      ),
    );
  }

  get size(): number {
    return this.byHash.size;
  }

  lookup(token: string): Actor | undefined {
    return this.byHash.get(sha256Hex(token));
  }
}
