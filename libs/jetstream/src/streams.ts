import {
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { STREAMS, type StreamSpec } from '@sup/contracts';
import { nanos } from './nats-types';

export interface StreamSettings {
  replicas: number;
  duplicateWindowMs: number;
}

export function streamConfig(spec: StreamSpec, settings: StreamSettings): StreamConfig {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    description: spec.description,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(settings.duplicateWindowMs),
    num_replicas: settings.replicas,
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
): Promise<StreamInfo> {
  let existing = await findStream(jsm, desired.name);
  if (!existing) {
    try {
      return await jsm.streams.add(desired);
    } catch (error) {
      // Another replica may have created it between our lookup and our create.
      existing = await findStream(jsm, desired.name);
      if (!existing) throw error;
    }
  }
  const current = existing.config;
  if (current.storage !== desired.storage || current.retention !== desired.retention) {
    throw new Error(
      `stream ${desired.name} exists with storage=${current.storage} retention=${current.retention}; ` +
        `it must be ${desired.storage}/${desired.retention} and JetStream cannot change that in place`,
    );
  }
  const drifted =
    !sameSubjects(current.subjects, desired.subjects) ||
    (current.description ?? '') !== (desired.description ?? '') ||
    current.duplicate_window !== desired.duplicate_window ||
    current.num_replicas !== desired.num_replicas;
  if (!drifted) return existing;
  return jsm.streams.update(desired.name, {
    subjects: desired.subjects,
    description: desired.description,
    duplicate_window: desired.duplicate_window,
    num_replicas: desired.num_replicas,
  });
}

export async function ensureStreams(
  jsm: JetStreamManager,
  settings: StreamSettings,
): Promise<void> {
  for (const spec of STREAMS) await ensureStream(jsm, streamConfig(spec, settings));
}

/** NATS subject matching: `*` is one token, `>` one or more trailing tokens. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length || (f[i] !== '*' && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

export function streamForSubject(subject: string): StreamSpec {
  const spec = STREAMS.find((s) => s.subjects.some((filter) => subjectMatches(filter, subject)));
  if (!spec) throw new Error(`no stream in the contracts captures subject ${subject}`);
  return spec;
}
