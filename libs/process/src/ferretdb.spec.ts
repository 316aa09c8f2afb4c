import { MongoClient, ObjectId, type Db, type Document } from 'mongodb';
import { startFerretDb, type RunningMongo } from './ferretdb';

/**
 * deploy/ferretdb/patches makes FerretDB v1.24.2's SQLite backend look documents up by _id with
 * the expression its unique index is on; before, every lookup, update and delete by _id scanned
 * the table. This checks the binary `npm run build` made (never MONGODB_URI) through `explain`,
 * whose plan is SQLite's EXPLAIN QUERY PLAN: "SEARCH <table> USING INDEX <table>__id_ (<expr>=?)"
 * with the fix, "SCAN <table>" without it.
 */
describe('FerretDB built from deploy/ferretdb', () => {
  let mongo: RunningMongo | undefined;
  let client: MongoClient | undefined;
  let db: Db;
  const oid = new ObjectId();

  beforeAll(async () => {
    mongo = await startFerretDb();
    client = await MongoClient.connect(mongo.uri);
    db = client.db('id-index');
    // Enough rows that SQLite's planner would not pick an index for a small table's sake.
    const docs = Array.from({ length: 3_000 }, (_, i) => ({ _id: `doc-${i}`, n: i }));
    await db.collection<{ _id: string; n: number }>('strings').insertMany(docs);
    await db
      .collection('objectids')
      .insertMany([...docs.map((d) => ({ n: d.n })), { _id: oid, n: -1 }]);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await mongo?.stop();
  });

  const plan = async (collection: string, filter: Document) => {
    const explained = await db.command({ explain: { find: collection, filter } });
    return {
      pushdown: explained.filterPushdown as boolean,
      plan: (explained.queryPlanner as { Plan: string[] }).Plan.join('\n'),
    };
  };

  it.each([
    ['a string _id', 'strings', 'doc-1234'],
    ['an ObjectId _id', 'objectids', oid],
  ])('finds %s through the _id index', async (_what, collection, id) => {
    const explained = await plan(collection, { _id: id });
    expect(explained.pushdown).toBe(true);
    expect(explained.plan).toMatch(/SEARCH \S+ USING INDEX \S+__id_ /);
    expect(await db.collection(collection).findOne({ _id: id as never })).toHaveProperty('n');
  });

  it('scans for a field without an index (so the plan tells the two apart)', async () => {
    const explained = await plan('strings', { n: 1234 });
    expect(explained.plan).toMatch(/SCAN \S+/);
    expect(explained.plan).not.toMatch(/USING INDEX/);
  });

  it('completes bulk updates of more statements than it has SQLite connections', async () => {
    // Unpatched, each statement kept a connection until the command returned: the 101st waited
    // forever, and the server with it. Two at once, as two consumers of one service would.
    const views = db.collection<{ _id: string; state: string }>('bulk-updates');
    const bulk = (state: string) =>
      views.bulkWrite(
        Array.from({ length: 250 }, (_, i) => ({
          replaceOne: { filter: { _id: `v-${i}` }, replacement: { state }, upsert: true },
        })),
        { ordered: false },
      );
    await bulk('first');
    await Promise.all([bulk('second'), bulk('third')]);
    expect(await views.countDocuments({})).toBe(250);
  });
});
