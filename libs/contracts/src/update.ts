import { z } from 'zod';
import { parseVersion, versionKindOf } from './versions';

export const SOFTWARE_COMPONENTS = ['agent', 'relay'] as const;
export const SECURITY_COMPONENTS = [
  'anti-malware-pattern',
  'firewall-rules',
  'intrusion-prevention-rules',
  'integrity-monitoring-rules',
  'log-inspection-rules',
] as const;
export const UPDATE_KINDS = ['software', 'security'] as const;
/** Application-control rules are built locally from each computer's software; a vendor never ships them. */
export const LOCAL_ONLY_COMPONENTS = ['application-control-rules'] as const;

export const UpdateKindSchema = z.enum(UPDATE_KINDS);
export type UpdateKind = z.infer<typeof UpdateKindSchema>;
export const SoftwareComponentSchema = z.enum(SOFTWARE_COMPONENTS);
export const SecurityComponentSchema = z.enum(SECURITY_COMPONENTS);
export type Component =
  z.infer<typeof SoftwareComponentSchema> | z.infer<typeof SecurityComponentSchema>;

export const Sha256HexSchema = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex characters (SHA-256)');

/**
 * A URL parser strips leading and trailing spaces and control characters, drops tabs and newlines
 * anywhere (" /x" resolves as "/x", ".\t./x" as "../x") and reads "%2e" as a dot ("%2e%2e/x" as
 * "../x"). Such paths are refused too, or they would slip past the checks below.
 */
const hasControlOrEdgeSpace = (p: string): boolean =>
  p !== p.trim() || [...p].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
const isDotSegment = (s: string): boolean => {
  const decoded = s.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
};

/** A path relative to the feed base: no scheme, no absolute path, no `..` segment, no backslash. */
export const RelativePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) =>
      !hasControlOrEdgeSpace(p) &&
      !p.startsWith('/') &&
      !p.includes('\\') &&
      !/^[a-z][a-z0-9+.-]*:/i.test(p) &&
      !p.split('/').some((s) => s === '' || isDotSegment(s)),
    {
      message:
        'must be a relative path inside the feed (no "..", ".", empty segments, "/" prefix or scheme)',
    },
  );

export const PlatformSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:[-_][a-z0-9]+)*$/, 'must look like "linux-x86_64"')
  .max(64);

/** The largest artifact any index or manifest may declare (4 GiB); FEED_MAX_ARTIFACT_BYTES may lower it. */
export const ARTIFACT_MAX_BYTES = 4 * 1024 ** 3;

export const ArtifactRefSchema = z.object({
  path: RelativePathSchema,
  size: z.number().int().nonnegative().max(ARTIFACT_MAX_BYTES),
  sha256: Sha256HexSchema,
});
export const SignatureRefSchema = z.object({
  path: RelativePathSchema,
  format: z.literal('cms-detached-der'),
});

const entryCommon = {
  version: z.string().min(1).max(64),
  releasedAt: z.string().datetime({ offset: true }).optional(),
  artifact: ArtifactRefSchema,
  signature: SignatureRefSchema,
  notesUrl: z.string().max(2048).url().optional(),
};

const SoftwareEntrySchema = z
  .object({
    kind: z.literal('software'),
    component: SoftwareComponentSchema,
    platform: PlatformSchema,
    minManagerVersion: z.string().min(1).max(64).optional(),
    ...entryCommon,
  })
  .strict();

const SecurityEntrySchema = z
  .object({
    kind: z.literal('security'),
    component: SecurityComponentSchema,
    ...entryCommon,
  })
  .strict();

/** One update as a vendor feed lists it, and the manifest of a manual import. */
export const FeedEntrySchema = z
  .discriminatedUnion('kind', [SoftwareEntrySchema, SecurityEntrySchema])
  .superRefine((e, ctx) => {
    // The issue carries the version's rejection code (params.code), so a refused entry is
    // refused as `invalid-software-version` and the like, not as a generic schema error.
    const checks: [string, unknown, ReturnType<typeof versionKindOf>][] = [
      ['version', e.version, versionKindOf(e.kind, e.component)],
      ...(e.kind === 'software' && e.minManagerVersion !== undefined
        ? [['minManagerVersion', e.minManagerVersion, 'manager'] as [string, unknown, 'manager']]
        : []),
    ];
    for (const [field, value, kind] of checks) {
      const parsed = kind ? parseVersion(kind, value) : undefined;
      if (parsed && !parsed.ok) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [field],
          message: parsed.reason,
          params: { code: parsed.code },
        });
      }
    }
  });
export type FeedEntry = z.infer<typeof FeedEntrySchema>;

export const UPDATE_STATES = [
  'imported',
  'checksum-verified',
  'validated',
  'published',
  'rejected',
] as const;
export const UpdateStateSchema = z.enum(UPDATE_STATES);
export type UpdateState = z.infer<typeof UpdateStateSchema>;

export const REJECTION_STAGES = ['feed', 'checksum', 'signature', 'policy'] as const;
export const RejectionStageSchema = z.enum(REJECTION_STAGES);
export type RejectionStage = z.infer<typeof RejectionStageSchema>;

export const UpdateIdSchema = z
  .string()
  .regex(/^upd_[0-9a-f]{24}$/, 'must be an update id (upd_ + 24 hex)');
