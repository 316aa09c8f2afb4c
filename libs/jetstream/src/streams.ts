import {
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { STREAMS, subjectMatches, type StreamSpec } from '@sup/contracts';
import { errorMessage } from './errors';
import type { JetStreamLogger } from './logger';
import { nanos } from './nats-types';
import {
  assertStreamSettings,
  streamLimits,
  type StreamRetention,
  type StreamSettings,
} from './stream-settings';

export type { StreamSettings };

const RETENTION: Record<StreamRetention, RetentionPolicy> = {
  limits: RetentionPolicy.Limits,
  workqueue: RetentionPolicy.Workqueue,
};

/** JetStream spells "no size limit" -1 (and stores -1 when given 0); "no age limit" is 0. */
const bytesLimit = (maxBytes: number | undefined): number =>
  maxBytes !== undefined && maxBytes > 0 ? maxBytes : -1;

export function streamConfig(spec: StreamSpec, settings: StreamSettings): StreamConfig {
  const limits = streamLimits(spec.name, settings);
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    description: spec.description,
    storage: StorageType.File,
    retention: RETENTION[spec.retention ?? 'limits'],
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: nanos(limits.maxAgeMs),
    max_bytes: bytesLimit(limits.maxBytes),
    num_replicas: settings.replicas,
    // JetStream's "no limit" is -1.
    max_msgs_per_subject: spec.maxMsgsPerSubject ?? -1,
  } as StreamConfig;
}

const isNotFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;

async function findStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

const sameSubjects = (a: string[] | undefined, b: string[]): boolean =>
  (a ?? []).length === b.length && [...(a ?? [])].sort().join('\n') === [...b].sort().join('\n');

/**
 * Every service runs this at start-up, in any order and concurrently, so it must converge: create
 * what is missing, update what drifted, and refuse (loudly) what JetStream cannot change in place.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  desired: StreamConfig,
  log?: JetStreamLogger,
): Promise<StreamInfo> {
  let existing = await findStream(jsm, desired.name);
  if (!existing) {
    try {
      return await jsm.streams.add(desired);
    } catch (error) {
      // Another replica may have created it between our lookup and our create.
      existing = await findStream(jsm, desired.name);
      if (!existing) throw explained(desired, error);
    }
  }
  const current = existing.config;
  if (current.storage !== desired.storage || current.retention !== desired.retention) {
    throw new Error(
      `stream ${desired.name} exists with storage=${current.storage} retention=${current.retention}; ` +
        `it must be ${desired.storage}/${desired.retention} and JetStream cannot change that in place. ` +
        `Stop the services, let its consumers finish, delete the stream (its messages are lost, ` +
        `e.g. \`nats stream rm ${desired.name}\`) and start again to recreate it`,
    );
  }
  const drifted =
    !sameSubjects(current.subjects, desired.subjects) ||
    (current.description ?? '') !== (desired.description ?? '') ||
    current.duplicate_window !== desired.duplicate_window ||
    (current.max_age ?? 0) !== desired.max_age ||
    bytesLimit(current.max_bytes) !== desired.max_bytes ||
    current.num_replicas !== desired.num_replicas ||
    (current.max_msgs_per_subject ?? -1) !== desired.max_msgs_per_subject;
  if (!drifted) return existing;
  try {
    // One update, so JetStream checks the duplicate window against the new max age, not the old.
    return await jsm.streams.update(desired.name, {
      subjects: desired.subjects,
      description: desired.description,
      duplicate_window: desired.duplicate_window,
      max_age: desired.max_age,
      max_bytes: desired.max_bytes,
      num_replicas: desired.num_replicas,
      max_msgs_per_subject: desired.max_msgs_per_subject,
    });
  } catch (error) {
    if (!isPermissionRefusal(error)) throw explained(desired, error);
    // A service's own NATS user may create a missing stream but never change one (that could
    // shorten its retention to nothing): the stream as it is stands until `admin` converges it.
    log?.warn(
      { stream: desired.name, err: error },
      `stream ${desired.name} differs from this service's settings and its NATS user may not change it; converge the streams as admin (npm start does at start-up)`,
    );
    return existing;
  }
}

const isPermissionRefusal = (error: unknown): boolean =>
  error instanceof Error &&
  (error.name === 'PermissionViolationError' ||
    (error.cause instanceof Error && error.cause.name === 'PermissionViolationError'));

/** JSStorageResourcesExceededErr; the client library names no constant for it. */
const STORAGE_RESOURCES_EXCEEDED = 10047;

/** JetStream reserves max_bytes up front; its bare "insufficient storage" names neither stream nor fix. */
function explained(desired: StreamConfig, error: unknown): unknown {
  if (!(error instanceof JetStreamApiError) || error.code !== STORAGE_RESOURCES_EXCEEDED) {
    return error;
  }
  return new Error(
    `stream ${desired.name}: JetStream cannot reserve its max bytes (${desired.max_bytes}): ` +
      `${errorMessage(error)}. Lower JS_${desired.name}_MAX_BYTES or give JetStream more storage`,
    { cause: error },
  );
}

/** Checks the settings first, so a bad one changes none of the streams. */
export async function ensureStreams(
  jsm: JetStreamManager,
  settings: StreamSettings,
  specs: readonly StreamSpec[] = STREAMS,
  log?: JetStreamLogger,
): Promise<void> {
  assertStreamSettings(settings, specs);
  for (const spec of specs) await ensureStream(jsm, streamConfig(spec, settings), log);
}

/** Re-exported: the contracts own NATS subject matching (stream lookup, permission grants). */
export { subjectMatches };

/** The stream of a wire subject, or of an event type's `<type>.<entity id>` subjects. */
export function streamForSubject(subject: string): StreamSpec {
  const captures = (filter: string): boolean =>
    subjectMatches(filter, subject) || subjectMatches(filter, `${subject}.entity`);
  const spec = STREAMS.find((s) => s.subjects.some(captures));
  if (!spec) throw new Error(`no stream in the contracts captures subject ${subject}`);
  return spec;
}
