import { z } from 'zod';
import { queryInt } from './query';
import { InstallStatusSchema, RelayStatusSchema } from './relays';
import { PlatformSchema } from './update';

/**
 * The fleet: agents and relays say which builds and security updates they run. Each report is a
 * `fleet.v1.reported.<computer id>` event (stream `FLEET`, which keeps one message per computer);
 * agents and relays publish it over NATS themselves or post a batch to `POST /v1/fleet/reports`,
 * which publishes the same events.
 */

/** A computer id: one NATS subject token, so it can be the report's subject. */
export const ComputerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1 to 128 letters, digits, "_" or "-"');

export const FLEET_ROLES = ['agent', 'relay'] as const;
export const FleetRoleSchema = z.enum(FLEET_ROLES);
export type FleetRole = z.infer<typeof FleetRoleSchema>;

/** Bounded so that a report (and a batch of MAX_FLEET_BATCH) stays a few hundred KiB. */
const Label = (max: number) => z.string().min(1).max(max);
/** Security updates a computer may list: one per component, few components exist. */
export const MAX_SECURITY_UPDATES = 32;

export const FleetReportSchema = z
  .object({
    id: ComputerIdSchema,
    role: FleetRoleSchema,
    platform: PlatformSchema,
    /** The agent or relay build it runs, as the vendor writes it (`20.0.1-12345`, `9.6.100`). */
    version: Label(64),
    /** The relay group it belongs to (a relay) or is served by (an agent). */
    relayGroup: Label(128).regex(/^[A-Za-z0-9_.:-]+$/, 'must be letters, digits or "_.:-"'),
    /** Installed security update version per component (`{"firewall-rules": "26-058"}`). */
    securityUpdates: z
      .record(
        z.string().regex(/^[a-z0-9-]{1,64}$/, 'component names are lower-case, digits and "-"'),
        Label(64),
      )
      .refine((r) => Object.keys(r).length <= MAX_SECURITY_UPDATES, {
        message: `at most ${MAX_SECURITY_UPDATES} components`,
      })
      .default({}),
    /** When the computer was seen in this state; of two reports of one computer the later wins. */
    seenAt: z.string().datetime({ offset: true }),
    /** A relay's cache and where agents reach it (relays only). */
    relay: RelayStatusSchema.optional(),
    /** An agent's last install attempt (agents only): what rollouts count. */
    install: InstallStatusSchema.optional(),
  })
  .strict()
  .refine((r) => r.role === 'relay' || r.relay === undefined, {
    message: 'only a relay reports "relay"',
    path: ['relay'],
  })
  .refine((r) => r.role === 'agent' || r.install === undefined, {
    message: 'only an agent reports "install"',
    path: ['install'],
  });
export type FleetReport = z.infer<typeof FleetReportSchema>;

/** The data of `fleet.v1.reported.<id>`. */
export const FleetReportedSchema = z.object({
  report: FleetReportSchema,
  receivedAt: z.string().datetime({ offset: true }),
});
export type FleetReported = z.infer<typeof FleetReportedSchema>;

export const MAX_FLEET_BATCH = 1_000;
/** The JSON body limit of `POST /v1/fleet/reports`: a full batch of typical reports fits. */
export const FLEET_REPORTS_BODY_LIMIT = 2 * 1024 * 1024;

export const FleetReportsBodySchema = z
  .object({ reports: z.array(FleetReportSchema).min(1).max(MAX_FLEET_BATCH) })
  .strict();
export type FleetReportsBody = z.infer<typeof FleetReportsBodySchema>;

export const FleetReportsAcceptedSchema = z.object({
  /** Reports stored on the stream now. */
  accepted: z.number().int(),
  /** Reports the stream already had (the same report sent again). */
  duplicates: z.number().int(),
});
export type FleetReportsAccepted = z.infer<typeof FleetReportsAcceptedSchema>;

/**
 * Deepest page of the fleet listing: skipping is linear in MongoDB, and past this a filter narrows
 * the listing better (this module does not import rest.ts: events -> fleet -> rest -> events).
 */
export const MAX_FLEET_OFFSET = 200_000;

export const ListFleetQuerySchema = z
  .object({
    role: FleetRoleSchema.optional(),
    platform: PlatformSchema.optional(),
    group: Label(128).optional(),
    version: Label(64).optional(),
    limit: queryInt(1, 500).default(50),
    offset: queryInt(0, MAX_FLEET_OFFSET).default(0),
  })
  .strict();
export type ListFleetQuery = z.infer<typeof ListFleetQuerySchema>;

export const ComputerSchema = z.object({
  id: z.string(),
  role: FleetRoleSchema,
  platform: z.string(),
  version: z.string(),
  /** `major.minor` of the version, or `unknown` when it is not a software version. */
  line: z.string(),
  relayGroup: z.string(),
  securityUpdates: z.record(z.string()),
  seenAt: z.string(),
  receivedAt: z.string(),
});
export type Computer = z.infer<typeof ComputerSchema>;

export const FleetListSchema = z.object({
  items: z.array(ComputerSchema),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export const FleetSummarySchema = z.object({
  total: z.number().int(),
  /** Computers by role, platform and `major.minor` line. */
  lines: z.array(
    z.object({
      role: FleetRoleSchema,
      platform: z.string(),
      line: z.string(),
      count: z.number().int(),
    }),
  ),
  /** Per security component: the newest published version and how many computers run it. */
  securityUpdates: z.array(
    z.object({
      component: z.string(),
      /** The newest version of the component the catalog has published, if any. */
      latest: z.string().optional(),
      upToDate: z.number().int(),
      outOfDate: z.number().int(),
      /** Computers per reported version, newest first. */
      versions: z.array(z.object({ version: z.string(), count: z.number().int() })),
    }),
  ),
});
export type FleetSummary = z.infer<typeof FleetSummarySchema>;
