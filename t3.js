const { MongoClient } = require('mongodb');
(async () => {
  const c = await MongoClient.connect(process.argv[2]);
  const col = c.db('perf').collection('c' + Date.now());
  let t = Date.now();
  for (let i = 0; i < 300; i++) await col.updateOne({ _id: 'k' + i }, { $setOnInsert: { a: i, b: 'x'.repeat(500) } }, { upsert: true });
  console.log('upsert ops/s', (300 / ((Date.now() - t) / 1000)).toFixed(0));
  t = Date.now();
  for (let i = 0; i < 300; i++) await col.findOne({ _id: 'k' + i });
  console.log('findById ops/s', (300 / ((Date.now() - t) / 1000)).toFixed(0));
  t = Date.now();
  await Promise.all(Array.from({length: 8}, async (_, w) => { for (let i = 0; i < 50; i++) await col.updateOne({ _id: `p${w}-${i}` }, { $setOnInsert: { a: i } }, { upsert: true }); }));
  console.log('parallel upsert ops/s', (400 / ((Date.now() - t) / 1000)).toFixed(0));
  await c.close();
})();
