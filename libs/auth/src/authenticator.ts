import { UnauthorizedException } from '@nestjs/common';
import type { Actor } from '@sup/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from './auth-config';
import { OidcVerifier } from './oidc';
import { TokenTable } from './token-file';
import { WatchedFile } from './watched-file';

/** A 401 with the RFC 6750 challenge the response must carry. */
export class BearerChallenge extends UnauthorizedException {
  constructor(
    message: string,
    readonly invalidToken: boolean,
  ) {
    super(message);
  }

  get wwwAuthenticate(): string {
    return this.invalidToken ? 'Bearer realm="sup", error="invalid_token"' : 'Bearer realm="sup"';
  }
}

// RFC 6750 b64token; far longer than any real token or JWT would be is refused unhashed.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_TOKEN_CHARS = 8_192;
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * Turns an `Authorization` header into the caller: a named token from `API_TOKENS_FILE` (looked
 * up by its SHA-256), else an OIDC access token verified by jose. Each replica does this on its
 * own from the same file and issuer: no shared state.
 */
export class Authenticator {
  private constructor(
    private readonly tokens: WatchedFile<TokenTable> | undefined,
    private readonly oidc: OidcVerifier | undefined,
    private readonly logger: Logger,
  ) {}

  /** Reads the token file now: a missing or invalid file at start-up throws (a config error). */
  static create(config: AuthConfig, logger: Logger): Authenticator {
    const tokens = config.tokensFile
      ? new WatchedFile(config.tokensFile, {
          parse: (text) => TokenTable.parse(text),
          onReload: (t) => logger.info({ tokens: t.size }, 'API_TOKENS_FILE reloaded'),
          onError: (err) =>
            logger.error(
              { err },
              'API_TOKENS_FILE changed but is unusable: keeping the previous tokens',
            ),
        })
      : undefined;
    const oidc = config.oidc
      ? new OidcVerifier(config.oidc, (err) =>
          logger.error(
            { err },
            'OIDC_JWKS_FILE changed but is unusable: keeping the previous keys',
          ),
        )
      : undefined;
    return new Authenticator(tokens?.watch(), oidc, logger);
  }

  /** Whether any token could ever authenticate (a token file or an issuer is configured). */
  get configured(): boolean {
    return this.tokens !== undefined || this.oidc !== undefined;
  }

  async authenticate(authorization: string | undefined): Promise<Actor> {
    if (!authorization)
      throw new BearerChallenge(
        'authentication required: send Authorization: Bearer <token>',
        false,
      );
    const token = BEARER.exec(authorization)?.[1];
    if (!token || token.length > MAX_TOKEN_CHARS)
      throw new BearerChallenge('malformed Authorization header: expected "Bearer <token>"', true);
    const named = this.tokens?.current().lookup(token);
    if (named) return named;
    if (this.oidc && JWT_SHAPE.test(token)) {
      try {
        return await this.oidc.verify(token);
      } catch (error) {
        // The reason is for the operator's log; the caller only learns that the token was refused.
        this.logger.info({ err: error }, 'OIDC token refused');
      }
    }
    throw new BearerChallenge('invalid or expired token', true);
  }

  close(): void {
    this.tokens?.close();
    this.oidc?.close();
  }
}
