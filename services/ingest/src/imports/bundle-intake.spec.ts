import { parseTrustAnchors, TrustStore } from '@sup/integrity';
import {
  buildFeed,
  bundleFilesOf,
  createTestPki,
  MemoryVersionedStore,
  multipartBundle,
  tarBundle,
  zipBundle,
  type BuiltFeed,
  type BundleFileSpec,
  type TestPki,
} from '@sup/testing';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pack } from 'tar-stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IngestConfig } from '../config';
import { FeedStates, type FeedState } from '../state/feed-states';
import { SignedIndexVerifier } from '../trust/signed-index';
import { bundleEntries } from './bundle-entries';
import { openBundle } from './bundle-formats';
import { receiveBundle, type IntakeLimits } from './bundle-intake';
import { lingerAfterAnswer } from '@sup/process';
import { ImportRefusal } from './import-refusal';

jest.setTimeout(120_000);

const KiB = 1024;
const LIMITS: IntakeLimits = {
  maxFileBytes: 1024 * KiB,
  maxBundleBytes: 16 * 1024 * KiB,
  indexMaxBytes: 256 * KiB,
  indexSignatureMaxBytes: 64 * KiB,
  signatureMaxBytes: 64 * KiB,
};

let root: string;
let pki: TestPki;
let feed: BuiltFeed;
let files: BundleFileSpec[];
let server: Server;
let url: string;
/** What the server saw of the last upload. */
let seen: { bytesRead: number; leftInTempDir: string[]; refusal?: string };

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A real HTTP server receiving bundles as ingest does (openBundle + receiveBundle with the real
 * index verifier), answering with what it received or the refusal, as the controller would.
 */
async function receiveRequest(req: IncomingMessage): Promise<unknown> {
  const kv = new MemoryVersionedStore<FeedState>('ingest_feed_states');
  const config = {
    trustAnchors: parseTrustAnchors(readFileSync(pki.trustAnchorsPem), pki.trustAnchorsPem),
    intermediates: [],
    indexMaxBytes: LIMITS.indexMaxBytes,
    indexSignatureMaxBytes: LIMITS.indexSignatureMaxBytes,
  } as unknown as IngestConfig;
  const verifier = new SignedIndexVerifier(
    config,
    new FeedStates(kv.asStore()),
    new TrustStore({ anchors: config.trustAnchors, intermediates: [], crls: [] }),
  );
  const tempDir = await mkdtemp(join(root, 'upload-'));
  let refusal: string | undefined;
  try {
    const bundle = await receiveBundle(
      openBundle(req, tempDir, { maxBundleBytes: LIMITS.maxBundleBytes, maxFiles: 100 }),
      { tempDir, limits: LIMITS, verifyIndex: (f) => verifier.verify(f) },
    );
    const entries = bundleEntries(bundle);
    return {
      feed: bundle.verified.index.feed,
      files: [...bundle.files.values()].map((f) => ({ path: f.path, sha256: f.sha256 })),
      entries: entries.map((e) => e.id),
    };
  } catch (error) {
    refusal = error instanceof ImportRefusal ? error.code : String(error);
    throw error;
  } finally {
    seen = { bytesRead: req.socket.bytesRead, leftInTempDir: await readdir(tempDir), refusal };
    await rm(tempDir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bundle-intake-'));
  pki = await createTestPki(join(root, 'pki'));
  feed = await buildFeed(join(root, 'feed'), pki, {
    updates: [
      { kind: 'security', component: 'firewall-rules', version: '26-071', content: 3000 },
      { kind: 'software', component: 'agent', platform: 'linux-x86_64', version: '20.0.3-10' },
    ],
  });
  files = await bundleFilesOf(feed);
  server = createServer((req, res) => {
    receiveRequest(req).then(
      (body) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      (error: unknown) => {
        const status = error instanceof ImportRefusal ? error.getStatus() : 500;
        const code = error instanceof ImportRefusal ? error.code : String(error);
        lingerAfterAnswer(req, res);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code, message: (error as Error).message }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(root, { recursive: true, force: true });
});

type Answer = { status: number; body: { code?: string; message?: string; files?: unknown[] } };

async function send(body: FormData | Buffer, type?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    ...(type ? { headers: { 'content-type': type } } : {}),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const formats = {
  multipart: (f: BundleFileSpec[]) => send(multipartBundle(f)),
  tar: async (f: BundleFileSpec[]) => send(await tarBundle(f), 'application/x-tar'),
  zip: (f: BundleFileSpec[]) => send(zipBundle(f), 'application/zip'),
};
const replace = (path: string, bytes: Buffer): BundleFileSpec[] =>
  files.map((f) => (f.path === path ? { path, bytes } : f));
const artifactPath = (): string => files[2].path;

describe.each(Object.entries(formats))('a %s bundle', (_name, upload) => {
  it('is received whole once its index verifies, every file measured', async () => {
    const answer = await upload(files);
    expect(answer.status).toBe(200);
    expect(answer.body.files).toEqual(
      files.slice(2).map((f) => ({ path: f.path, sha256: sha256(f.bytes) })),
    );
  });

  it('refuses a file that comes before the signed index', async () => {
    const answer = await upload([files[2], ...files.slice(0, 2), ...files.slice(3)]);
    if (_name === 'zip') {
      // A zip's directory is read first: the index is taken first wherever it sits.
      expect(answer.status).toBe(200);
      return;
    }
    expect(answer).toMatchObject({ status: 400, body: { code: 'index-first' } });
  });

  it('refuses a file the index does not name, and a file sent twice', async () => {
    const extra = { path: 'firewall-rules/extra.bin', bytes: Buffer.from('extra') };
    expect(await upload([...files, extra])).toMatchObject({
      status: 400,
      body: { code: 'not-in-index' },
    });
    expect(await upload([...files, files[3]])).toMatchObject({
      status: 400,
      body: { code: 'duplicate-file' },
    });
  });

  it('refuses an index whose signature is not over its bytes, before reading other files', async () => {
    const edited = Buffer.from(files[0].bytes.toString().replace('"sequence": 1', '"sequence": 9'));
    const answer = await upload(replace('index.json', edited));
    expect(answer).toMatchObject({ status: 422, body: { code: 'index-refused' } });
    expect(answer.body.message).toContain('index-signature-invalid');
  });

  it('refuses junk of the signed size under a genuine entry (SHA-256), keeping nothing', async () => {
    const junk = Buffer.alloc(files[2].bytes.length, 0x41);
    const answer = await upload(replace(artifactPath(), junk));
    expect(answer).toMatchObject({ status: 422, body: { code: 'sha256-mismatch' } });
    expect(answer.body.message).toContain(artifactPath());
  });

  it('cuts an artifact off at its signed size', async () => {
    // Past the bundle cap too, so only a cut at the file's own signed size names the file (a
    // zip is received whole before it is read: it stays within the cap).
    const extra = _name === 'zip' ? 2 * 1024 * KiB : 30 * 1024 * KiB;
    const big = Buffer.concat([files[2].bytes, Buffer.alloc(extra)]);
    const answer = await upload(replace(artifactPath(), big));
    expect(answer.status).toBe(413);
    expect(answer.body.message).toContain(artifactPath());
    if (_name !== 'zip') {
      // Stopped reading long before the end of the upload (zip: the archive is received first).
      expect(seen.bytesRead).toBeLessThan(8 * 1024 * KiB);
    }
  });

  it('cuts a huge artifact signature off at the signature cap', async () => {
    const sig = files[3].path;
    const answer = await upload(replace(sig, Buffer.alloc(3000 * KiB, 1)));
    expect(answer.status).toBe(413);
    expect(answer.body.message).toContain(sig);
    expect(answer.body.message).toContain(String(LIMITS.signatureMaxBytes));
  });

  it('refuses an entry with only one of its two files', async () => {
    const answer = await upload(files.filter((f) => f.path !== files[3].path));
    expect(answer).toMatchObject({ status: 400, body: { code: 'incomplete-entry' } });
  });

  it('refuses a bundle without its signed index', async () => {
    expect(await upload([files[0]])).toMatchObject({
      status: 400,
      body: { code: 'index-missing' },
    });
  });
});

describe('archive entries', () => {
  it('refuses a path that climbs out of the bundle (tar and zip)', async () => {
    const evil = [...files.slice(0, 2), { path: '../../etc/evil', bytes: Buffer.from('x') }];
    expect(await formats.tar(evil)).toMatchObject({ status: 400, body: { code: 'path-escape' } });
    expect(await formats.zip(evil)).toMatchObject({ status: 400, body: { code: 'path-escape' } });
  });

  it('refuses a text field in a multipart bundle and a link in a tar', async () => {
    const form = multipartBundle(files.slice(0, 2));
    form.append('note', 'not a file');
    expect(await send(form)).toMatchObject({ status: 400, body: { code: 'not-a-file' } });
    const archive = pack();
    for (const f of files.slice(0, 2))
      archive.entry({ name: f.path, size: f.bytes.length }, f.bytes);
    archive.entry({ name: files[2].path, type: 'symlink', linkname: '/etc/passwd' });
    archive.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
    const tar = Buffer.concat(chunks);
    expect(await send(tar, 'application/x-tar')).toMatchObject({
      status: 400,
      body: { code: 'not-a-file' },
    });
  });

  it('takes ./-prefixed names as tar writes them for a directory', async () => {
    const dotted = files.map((f) => ({ ...f, path: `./${f.path}` }));
    expect((await formats.tar(dotted)).status).toBe(200);
  });

  it('refuses a 100 MB index signature at its cap, with nothing written', async () => {
    const answer = await formats.multipart(
      replace('index.json.p7s', Buffer.alloc(100 * 1024 * KiB)),
    );
    expect(answer.status).toBe(413);
    expect(answer.body.message).toContain('index.json.p7s');
    expect(seen.bytesRead).toBeLessThan(10 * 1024 * KiB);
    expect(seen.leftInTempDir).toEqual([]);
  });

  it('refuses a bundle over the total cap', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({
      path: `x/${i}`,
      bytes: Buffer.alloc(4 * 1024 * KiB),
    }));
    const answer = await formats.multipart([...files, ...many]);
    // The first unnamed file is refused before the cap is reached.
    expect(answer).toMatchObject({ status: 400, body: { code: 'not-in-index' } });
    const zip = await formats.zip([...files, ...many]);
    expect(zip).toMatchObject({ status: 413, body: { code: 'bundle-too-large' } });
  });

  it('refuses other media types', async () => {
    expect(await send(Buffer.from('{}'), 'application/json')).toMatchObject({
      status: 415,
      body: { code: 'unsupported-media-type' },
    });
  });
});

describe('an aborted upload', () => {
  it('ends the intake with "aborted" instead of waiting for bytes that never come', async () => {
    const controller = new AbortController();
    const head = new Response(multipartBundle(files.slice(0, 3)));
    const type = head.headers.get('content-type') ?? '';
    // Sent slowly: the index, one file, then part of a large one, then the client gives up.
    const body = new ReadableStream<Uint8Array>({
      async start(stream) {
        const bytes = Buffer.from(await head.arrayBuffer());
        stream.enqueue(bytes.subarray(0, bytes.length - 200));
        setTimeout(() => controller.abort(), 300);
      },
    });
    const before = seen;
    const request = fetch(url, {
      method: 'POST',
      body,
      duplex: 'half',
      signal: controller.signal,
      headers: { 'content-type': type },
    });
    await expect(request).rejects.toThrow();
    await waitFor(() => seen !== before);
    expect(seen.refusal).toBe('aborted');
  });
});

async function waitFor(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 20));
}
