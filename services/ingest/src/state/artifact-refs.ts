import { Inject, Injectable } from '@nestjs/common';
import { acquireRef, releaseRef } from '@sup/domain';
import { ARTIFACT_REFS_STORE, type ArtifactRefsStore } from './kv-stores';

/** Reference counts of stored bytes, kept by compare-and-set (see `@sup/domain` artifact-refs). */
@Injectable()
export class ArtifactRefsService {
  constructor(@Inject(ARTIFACT_REFS_STORE) private readonly store: ArtifactRefsStore) {}

  /** Before storing bytes: throws BlobBeingDeletedError while the janitor is deleting them. */
  async acquire(key: string, holder: string): Promise<void> {
    // New bytes (the usual case) take one insert-once request instead of a read and a write.
    const first = acquireRef(key, undefined, holder);
    if (first && (await this.store.create(key, first))) return;
    await this.store.update(key, (current) => acquireRef(key, current?.value, holder));
  }

  /** Returns true when `holder` was the last one: the bytes may now be deleted, then `forget` them. */
  async release(key: string, holder: string): Promise<boolean> {
    const after = await this.store.update(key, (current) => releaseRef(current?.value, holder));
    return after?.value.deleting === true;
  }

  /** After the bytes are gone: imports may store them afresh. */
  async forget(key: string): Promise<void> {
    await this.store.delete(key);
  }
}
