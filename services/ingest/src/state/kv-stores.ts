import type { ArtifactRefs, SyncAggregate } from '@sup/domain';
import { JetStreamConnection, VersionedStore } from '@sup/jetstream';
import { SERVICE_CONFIG } from '@sup/service-kit';
import type { Provider } from '@nestjs/common';
import type { IngestConfig } from '../config';
import type { FeedState } from './feed-states';

export const SYNC_STORE = Symbol('SYNC_STORE');
export const FEED_STATE_STORE = Symbol('FEED_STATE_STORE');
export const ARTIFACT_REFS_STORE = Symbol('ARTIFACT_REFS_STORE');

export type SyncStore = VersionedStore<SyncAggregate>;
export type FeedStateStore = VersionedStore<FeedState>;
export type ArtifactRefsStore = VersionedStore<ArtifactRefs>;

/**
 * Ingest's state that several replicas change, each in a KV bucket changed by compare-and-set:
 * sync progress (entries finish on any replica), the highest accepted index per feed, and who
 * holds which stored bytes.
 */
export const KV_STORE_PROVIDERS: Provider[] = [
  {
    provide: SYNC_STORE,
    inject: [JetStreamConnection, SERVICE_CONFIG],
    useFactory: (c: JetStreamConnection, config: IngestConfig) =>
      VersionedStore.open<SyncAggregate>(c, 'ingest_syncs', {
        replicas: config.jetstream.replicas,
        ttlMs: config.syncRetentionMs,
        description: 'Feed syncs and their per-entry progress',
      }),
  },
  {
    provide: FEED_STATE_STORE,
    inject: [JetStreamConnection, SERVICE_CONFIG],
    useFactory: (c: JetStreamConnection, config: IngestConfig) =>
      VersionedStore.open<FeedState>(c, 'ingest_feed_states', {
        replicas: config.jetstream.replicas,
        description: 'Highest accepted index per feed (rollback protection)',
      }),
  },
  {
    provide: ARTIFACT_REFS_STORE,
    inject: [JetStreamConnection, SERVICE_CONFIG],
    useFactory: (c: JetStreamConnection, config: IngestConfig) =>
      VersionedStore.open<ArtifactRefs>(c, 'ingest_artifact_refs', {
        replicas: config.jetstream.replicas,
        description: 'Which updates hold which stored bytes',
      }),
  },
];
