import { UpdateIdSchema, Sha256HexSchema, type RelayFailureCodeSchema } from '@sup/contracts';
import { z } from 'zod';

/**
 * What the relay reads of a group catalog entry (GET /v1/relay-groups/{group}/catalog). Parsed
 * loosely (unknown fields kept): the relay re-serves the control plane's entries to agents, so a
 * field added there reaches agents without a relay release.
 */
export const ControlPlaneEntrySchema = z
  .object({
    updateId: UpdateIdSchema,
    kind: z.string(),
    component: z.string(),
    platform: z.string().optional(),
    version: z.string(),
    sha256: Sha256HexSchema,
    size: z.number().int().nonnegative(),
    artifactPath: z.string().startsWith('/'),
    signaturePath: z.string().startsWith('/'),
    required: z.boolean().default(false),
  })
  .passthrough();
export type ControlPlaneEntry = z.infer<typeof ControlPlaneEntrySchema>;
const CatalogSchema = z.object({ group: z.string(), entries: z.array(ControlPlaneEntrySchema) });
export type ControlPlaneCatalog = z.infer<typeof CatalogSchema>;

export interface RelayResultBody {
  updateId: string;
  state: 'relayed' | 'failed';
  sha256?: string;
  code?: z.infer<typeof RelayFailureCodeSchema>;
  reason?: string;
  attempt?: number;
}

/** An answer of the control plane other than the one expected (status and a bit of its body). */
export class ControlPlaneError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

/**
 * The relay's side of the control plane's REST API, always with its own `relay` token. The base
 * is CONTROL_PLANE_URL (`…/v1`); paths the control plane hands out (`/v1/updates/…`) are resolved
 * against its origin.
 */
export class ControlPlaneClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Absolute URL of an API path (`/relays/x`) or of a path the control plane gave (`/v1/…`). */
  url(path: string): string {
    if (path.startsWith('/v1/')) return new URL(path, this.baseUrl).toString();
    return `${this.baseUrl}${path}`;
  }

  get authorization(): string {
    return `Bearer ${this.token}`;
  }

  async catalog(group: string): Promise<ControlPlaneCatalog> {
    return CatalogSchema.parse(
      await this.json('GET', `/relay-groups/${encodeURIComponent(group)}/catalog`),
    );
  }

  /** The relay's effective group, or undefined when the control plane does not know it yet. */
  async effectiveGroup(relayId: string): Promise<string | undefined> {
    try {
      const view = (await this.json('GET', `/relays/${encodeURIComponent(relayId)}`)) as {
        group?: unknown;
      };
      return typeof view.group === 'string' ? view.group : undefined;
    } catch (error) {
      if (error instanceof ControlPlaneError && error.status === 404) return undefined;
      throw error;
    }
  }

  async postResults(relayId: string, results: RelayResultBody[]): Promise<void> {
    await this.json('POST', `/relays/${encodeURIComponent(relayId)}/results`, { results });
  }

  async postFleetReport(report: unknown): Promise<void> {
    await this.json('POST', '/fleet/reports', { reports: [report] });
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(this.url(path), {
      method,
      headers: {
        authorization: this.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok)
      throw new ControlPlaneError(
        res.status,
        `${method} ${path}: ${res.status} ${text.slice(0, 300)}`,
      );
    return text ? (JSON.parse(text) as unknown) : undefined;
  }
}
