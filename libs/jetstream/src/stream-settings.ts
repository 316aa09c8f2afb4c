import { STREAMS, type StreamSpec } from '@sup/contracts';

export type StreamRetention = NonNullable<StreamSpec['retention']>;

/** How long and how much a stream keeps; 0 means no limit. */
export interface StreamLimits {
  maxAgeMs: number;
  maxBytes: number;
}

export interface StreamSettings {
  replicas: number;
  /** How long JetStream remembers message ids; must not exceed any stream's max age. */
  duplicateWindowMs: number;
  /** Limits by stream name, over DEFAULT_STREAM_LIMITS. A stream named in neither has none. */
  limits?: Readonly<Partial<Record<string, StreamLimits>>>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const GiB = 1024 ** 3;

/**
 * Events are facts other systems may still want to read back, dead letters wait for an operator,
 * so both keep weeks. FEEDS is a work queue: an age limit would silently drop work no replica has
 * done yet, so it has none (acked work leaves it anyway).
 */
export const DEFAULT_STREAM_LIMITS = {
  UPDATES: { maxAgeMs: 30 * DAY_MS, maxBytes: 10 * GiB },
  ALERTS: { maxAgeMs: 90 * DAY_MS, maxBytes: GiB },
  // How syncs ended: alerting reads the whole stream at start (security-updates-stale).
  SYNCS: { maxAgeMs: 30 * DAY_MS, maxBytes: GiB / 4 },
  DLQ: { maxAgeMs: 90 * DAY_MS, maxBytes: GiB },
  // Actions only wait there until the audit service chains them.
  AUDIT: { maxAgeMs: 90 * DAY_MS, maxBytes: GiB / 4 },
  // The audit log itself: kept for good unless an operator sets a limit.
  AUDIT_CHAIN: { maxAgeMs: 0, maxBytes: 0 },
  // One message per computer (the latest report): a computer silent for 30 days leaves the
  // stream (not the read model); 256 MiB holds about a million reports.
  FLEET: { maxAgeMs: 30 * DAY_MS, maxBytes: GiB / 4 },
} as const satisfies Readonly<Record<string, StreamLimits>>;

const DEFAULTS: Readonly<Partial<Record<string, StreamLimits>>> = DEFAULT_STREAM_LIMITS;

const NO_LIMITS: StreamLimits = { maxAgeMs: 0, maxBytes: 0 };

/** JetStream durations are int64 nanoseconds; a century keeps far clear of that. */
const MAX_DURATION_MS = 100 * 365 * DAY_MS;

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const isDuration = (ms: number): boolean => isCount(ms) && ms <= MAX_DURATION_MS;

/**
 * Everything wrong with the settings at once, so a service names every bad variable before it
 * starts. JetStream itself refuses a duplicate window longer than the max age, but only when the
 * stream is written, i.e. after the service has half started.
 */
export function streamSettingsProblems(
  settings: StreamSettings,
  specs: readonly StreamSpec[] = STREAMS,
): string[] {
  const problems: string[] = [];
  const window = settings.duplicateWindowMs;
  if (!isDuration(window) || window === 0) {
    problems.push(`duplicate window must be whole ms from 1 to 100 years, got ${window}`);
  }
  const names = new Set(specs.map((s) => s.name));
  for (const name of Object.keys(settings.limits ?? {})) {
    if (!names.has(name)) problems.push(`limits given for ${name}, which is not a stream`);
  }
  for (const spec of specs) {
    const { maxAgeMs, maxBytes } = streamLimits(spec.name, settings);
    if (!isDuration(maxAgeMs))
      problems.push(
        `stream ${spec.name}: max age must be whole ms up to 100 years, got ${maxAgeMs}`,
      );
    if (!isCount(maxBytes))
      problems.push(`stream ${spec.name}: max bytes must be whole bytes >= 0, got ${maxBytes}`);
    if (maxAgeMs > 0 && window > maxAgeMs) {
      problems.push(
        `the duplicate window (${window} ms) is longer than stream ${spec.name}'s max age ` +
          `(${maxAgeMs} ms); JetStream refuses that`,
      );
    }
  }
  return problems;
}

export function streamLimits(stream: string, settings: StreamSettings): StreamLimits {
  return settings.limits?.[stream] ?? DEFAULTS[stream] ?? NO_LIMITS;
}

export function assertStreamSettings(
  settings: StreamSettings,
  specs: readonly StreamSpec[] = STREAMS,
): void {
  const problems = streamSettingsProblems(settings, specs);
  if (problems.length > 0) throw new Error(`invalid stream settings: ${problems.join('; ')}`);
}
