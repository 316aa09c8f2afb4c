import type { ArtifactRefs, SyncAggregate } from '@sup/domain';
import type { VersionedStore } from '@sup/jetstream';
import { versionedStoreProvider } from '@sup/service-kit';
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
const bucket = versionedStoreProvider<IngestConfig>;

export const KV_STORE_PROVIDERS: Provider[] = [
  bucket(
    SYNC_STORE,
    'ingest_syncs',
    'Feed syncs and their per-entry progress',
    (config) => config.syncRetentionMs,
  ),
  bucket(
    FEED_STATE_STORE,
    'ingest_feed_states',
    'Highest accepted index per feed (rollback protection)',
  ),
  bucket(ARTIFACT_REFS_STORE, 'ingest_artifact_refs', 'Which updates hold which stored bytes'),
];
