import { MongoBulkWriteError } from 'mongodb';
import type { Model } from 'mongoose';
import { ImportRepository, type ImportRecord } from './import.repository';

const record = (id: string): ImportRecord => ({
  _id: id,
  state: 'rejected',
  event: {} as ImportRecord['event'],
  storeKeys: [],
  syncId: 'sync_0123456789abcdef01234567',
  createdAt: new Date('2026-03-01T10:00:00.000Z'),
});

/** The driver's error for an unordered insertMany, with one write error per failed document. */
function bulkError(failed: { index: number; code: number }[]): MongoBulkWriteError {
  return new MongoBulkWriteError(
    {
      message: 'write failed',
      code: failed[0]?.code,
      writeErrors: failed.map((f) => ({
        index: f.index,
        code: f.code,
        errmsg: 'x',
        errInfo: {},
      })) as never,
    },
    { insertedCount: 0 } as never,
  );
}

function repositoryWhoseInsert(result: () => Promise<unknown>) {
  const calls: unknown[][] = [];
  const model = {
    collection: {
      insertMany: (docs: unknown[], options: unknown) => {
        calls.push([docs, options]);
        return result();
      },
    },
  };
  return { repository: new ImportRepository(model as unknown as Model<ImportRecord>), calls };
}

describe('ImportRepository.insertNew', () => {
  const records = ['upd_a', 'upd_b', 'upd_c'].map(record);

  it('inserts all in one unordered bulk write and reports none as existing', async () => {
    const { repository, calls } = repositoryWhoseInsert(() => Promise.resolve({}));
    expect(await repository.insertNew(records)).toEqual(new Set());
    expect(calls).toEqual([[records, { ordered: false }]]);
  });

  it('names exactly the records that existed already (their first writer stands)', async () => {
    const { repository } = repositoryWhoseInsert(() =>
      Promise.reject(
        bulkError([
          { index: 0, code: 11000 },
          { index: 2, code: 11000 },
        ]),
      ),
    );
    expect(await repository.insertNew(records)).toEqual(new Set(['upd_a', 'upd_c']));
  });

  it('fails when any record failed for another reason', async () => {
    const error = bulkError([
      { index: 0, code: 11000 },
      { index: 1, code: 121 },
    ]);
    const { repository } = repositoryWhoseInsert(() => Promise.reject(error));
    await expect(repository.insertNew(records)).rejects.toBe(error);
  });

  it('writes nothing for no records', async () => {
    const { repository, calls } = repositoryWhoseInsert(() => Promise.resolve({}));
    expect(await repository.insertNew([])).toEqual(new Set());
    expect(calls).toEqual([]);
  });
});
