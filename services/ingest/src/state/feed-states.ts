import { Inject, Injectable } from '@nestjs/common';
import { FEED_STATE_STORE, type FeedStateStore } from './kv-stores';

/** Highest accepted index of a feed: what makes rollback (an older signed index replayed) detectable. */
export interface FeedState {
  sequence: number;
  indexSha256: string;
  acceptedAt: string;
}

@Injectable()
export class FeedStates {
  constructor(@Inject(FEED_STATE_STORE) private readonly store: FeedStateStore) {}

  async get(feed: string): Promise<FeedState | undefined> {
    return (await this.store.get(feed))?.value;
  }

  /** Moves the accepted sequence forward only (compare-and-set): a concurrent newer index wins. */
  async accept(feed: string, sequence: number, indexSha256: string): Promise<void> {
    await this.store.update(feed, (current) =>
      current && current.value.sequence >= sequence
        ? undefined
        : { sequence, indexSha256, acceptedAt: new Date().toISOString() },
    );
  }
}
