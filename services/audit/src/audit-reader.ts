import { Injectable } from '@nestjs/common';
import { AuditRecordSchema, type AuditPage, type ListAuditQuery } from '@sup/contracts';
import { ChainStore } from './chain-store';

/** Pages of the chain for `GET /v1/audit`, by direct reads of stream sequences (no consumer state). */
@Injectable()
export class AuditReader {
  constructor(private readonly store: ChainStore) {}

  async page(query: ListAuditQuery): Promise<AuditPage> {
    const lastSeq = await this.store.lastSeq();
    const end = Math.min(lastSeq, query.after + query.limit);
    const seqs = Array.from(
      { length: Math.max(0, end - query.after) },
      (_, i) => query.after + 1 + i,
    );
    const items = await Promise.all(
      seqs.map(async (seq): Promise<AuditPage['items'][number]> => {
        const msg = await this.store.get(seq);
        if (!msg) return { seq, missing: true };
        const parsed = AuditRecordSchema.safeParse(parseJson(msg.data));
        // Shown as found, not hidden: the audit log must not silently skip what it cannot read.
        return parsed.success
          ? { seq, record: parsed.data }
          : { seq, malformed: Buffer.from(msg.data).toString('utf8').slice(0, 2_000) };
      }),
    );
    return { items, lastSeq, ...(end < lastSeq ? { next: end } : {}) };
  }
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}
