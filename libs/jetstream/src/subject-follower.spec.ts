import { randomBytes } from 'node:crypto';
import { useNats } from '@sup/testing';
import { connectJetStream, type JetStreamConnection } from './connection';
import { followSubject, nextSequence } from './subject-follower';

jest.setTimeout(20_000);

let stop: () => Promise<void>;
let connection: JetStreamConnection;
const stream = `FOLLOW_${randomBytes(4).toString('hex')}`;
const prefix = stream.toLowerCase();

beforeAll(async () => {
  const nats = await useNats();
  stop = () => nats.stop();
  connection = await connectJetStream({ servers: nats.url, service: 'follow-spec' });
  await connection.jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
});

afterAll(async () => {
  await connection?.jsm.streams.delete(stream).catch(() => undefined);
  await connection?.close();
  await stop?.();
});

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!check()) throw new Error(`never saw ${what}`);
};

describe('followSubject', () => {
  it('delivers the filtered subject from the given sequence on, in order, then what follows', async () => {
    for (let i = 0; i < 5; i++) await connection.js.publish(`${prefix}.a.${i}`, `a${i}`);
    await connection.js.publish(`${prefix}.b.0`, 'b0');
    const from = await nextSequence(connection, stream);
    const seenAll: string[] = [];
    const seenNew: string[] = [];
    const all = followSubject(connection, { stream, subject: `${prefix}.a.>`, fromSeq: 1 }, (m) =>
      seenAll.push(m.string()),
    );
    const fresh = followSubject(
      connection,
      { stream, subject: `${prefix}.a.>`, fromSeq: from },
      (m) => seenNew.push(m.string()),
    );
    try {
      await until(() => seenAll.length === 5, 'the stored messages');
      await connection.js.publish(`${prefix}.a.5`, 'a5');
      await connection.js.publish(`${prefix}.b.1`, 'b1');
      await until(() => seenAll.length === 6 && seenNew.length === 1, 'the new message');
      expect(seenAll).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
      expect(seenNew).toEqual(['a5']);
    } finally {
      await all.stop();
      await fresh.stop();
    }
  });
});
