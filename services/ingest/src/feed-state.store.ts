import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKeyError } from '@sup/service-kit';
import type { Model } from 'mongoose';
import { FEED_STATE_MODEL, type FeedStateRecord } from './schemas';

@Injectable()
export class FeedStateStore {
  constructor(@InjectModel(FEED_STATE_MODEL) private readonly states: Model<FeedStateRecord>) {}

  get(feed: string): Promise<FeedStateRecord | null> {
    return this.states.findById(feed).lean().exec();
  }

  /** Moves the accepted sequence forward only; a concurrent sync of a newer index wins. */
  async accept(feed: string, sequence: number, indexSha256: string): Promise<void> {
    try {
      await this.states
        .updateOne(
          { _id: feed, sequence: { $lte: sequence } },
          { $set: { sequence, indexSha256, acceptedAt: new Date() } },
          { upsert: true },
        )
        .exec();
    } catch (error) {
      // The filter missed because a newer sequence is stored, and the upsert collided with it.
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
}
