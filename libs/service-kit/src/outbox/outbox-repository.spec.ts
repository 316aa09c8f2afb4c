import { MongoBulkWriteError, MongoServerError, type BulkWriteResult } from 'mongodb';
import type { Model } from 'mongoose';
import { allDuplicates } from '../mongo';
import { MongoOutboxRepository, type OutboxEntry } from './outbox-repository';

const DUPLICATE = 11000;
const VALIDATION = 121;

/** The driver's WriteError: `code` and `index` are getters over the server's raw `err`. */
class DriverWriteError {
  constructor(readonly err: { code: number; index: number; errmsg: string }) {}
  get code(): number {
    return this.err.code;
  }
  get index(): number {
    return this.err.index;
  }
}

const raw = (code: number, index: number) => ({ code, index, errmsg: `E${code} at ${index}` });

/**
 * What an unordered insertMany rejects with. The driver throws a MongoBulkWriteError whose own
 * `code` is the first write error's (see `handleWriteError` in mongodb/lib/bulk/common.js), and
 * mongoose then replaces each WriteError by a spread copy (`{ ...writeError, index }`), which
 * keeps the raw `err` but loses the `code` getter.
 */
function bulkError(codes: number[], via: 'driver' | 'mongoose'): MongoBulkWriteError {
  const writeErrors = codes.map((code, index) =>
    via === 'driver'
      ? new DriverWriteError(raw(code, index))
      : { ...new DriverWriteError(raw(code, index)), index },
  );
  return new MongoBulkWriteError(
    {
      message: writeErrors.length ? `E${codes[0]}` : 'write operation failed',
      code: codes[0],
      // The driver's WriteError class is not exported; ours has its shape.
      writeErrors: writeErrors as never,
    },
    {} as BulkWriteResult,
  );
}

describe('allDuplicates', () => {
  // The error comes last so the title names the case instead of printing a stack.
  it.each<[string, boolean, unknown]>([
    [
      'a single duplicate key error',
      true,
      new MongoServerError({ message: 'E11000', code: DUPLICATE }),
    ],
    ['a plain object with code 11000', true, { code: DUPLICATE }],
    [
      'a bulk error, every write error a duplicate',
      true,
      bulkError([DUPLICATE, DUPLICATE], 'driver'),
    ],
    ['the same after mongoose copied the write errors', true, bulkError([DUPLICATE], 'driver')],
    [
      'write errors of the raw shape only ({ err })',
      true,
      { writeErrors: [{ err: raw(DUPLICATE, 0) }] },
    ],
    // The bulk error's own code is 11000 here (the first write error's), yet one document failed
    // for another reason and was not stored.
    [
      'a duplicate first, then another failure',
      false,
      bulkError([DUPLICATE, VALIDATION], 'driver'),
    ],
    ['the same after mongoose', false, bulkError([DUPLICATE, VALIDATION], 'driver')],
    [
      'another failure first, then a duplicate',
      false,
      bulkError([VALIDATION, DUPLICATE], 'driver'),
    ],
    [
      'a bulk error wrapping a single duplicate (no write errors)',
      true,
      new MongoBulkWriteError(
        new MongoServerError({ message: 'E11000', code: DUPLICATE }),
        {} as BulkWriteResult,
      ),
    ],
    ['a bulk error with no write errors and no code', false, bulkError([], 'driver')],
    ['another server error', false, new MongoServerError({ message: 'not primary', code: 10107 })],
    ['the code as a string', false, { code: '11000' }],
    ['an empty write error list and no code', false, { writeErrors: [] }],
    ['a plain Error', false, new Error('connection reset')],
    ['null', false, null],
    ['undefined', false, undefined],
    ['a string', false, 'E11000 duplicate key'],
  ])('%s → %s', (_, expected, error) => {
    expect(allDuplicates(error)).toBe(expected);
  });
});

describe('MongoOutboxRepository.add', () => {
  const entries: OutboxEntry[] = ['e1', 'e2'].map((id) => ({
    _id: id,
    event: { type: 'updates.v1.imported', entityId: id, id, data: {} } as never,
    createdAt: new Date('2026-03-01T10:00:00.000Z'),
  }));

  /** A model whose driver collection's insertMany rejects with `error`, recording the calls. */
  function modelFailingWith(error: Error) {
    const calls: unknown[][] = [];
    const model = {
      collection: {
        insertMany: (docs: unknown[], options: unknown) => {
          calls.push([docs, options]);
          return Promise.reject(error);
        },
      },
    };
    return { repository: new MongoOutboxRepository(model as unknown as Model<OutboxEntry>), calls };
  }

  it('inserts unordered, so one existing entry does not stop the others', async () => {
    const { repository, calls } = modelFailingWith(bulkError([DUPLICATE], 'driver'));
    await repository.add(entries);
    expect(calls).toEqual([[entries, { ordered: false }]]);
  });

  it('treats entries that all existed already as stored', async () => {
    const { repository } = modelFailingWith(bulkError([DUPLICATE, DUPLICATE], 'driver'));
    await expect(repository.add(entries)).resolves.toBeUndefined();
  });

  it('fails when any entry failed for another reason, even after a duplicate', async () => {
    const error = bulkError([DUPLICATE, VALIDATION], 'driver');
    const { repository } = modelFailingWith(error);
    await expect(repository.add(entries)).rejects.toBe(error);
  });

  it('writes nothing for no entries', async () => {
    const { repository, calls } = modelFailingWith(new Error('must not be called'));
    await repository.add([]);
    expect(calls).toEqual([]);
  });
});
