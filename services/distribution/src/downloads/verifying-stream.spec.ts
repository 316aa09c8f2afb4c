import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StoredBytesMismatch, VerifyingStream } from './verifying-stream';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function run(chunks: Buffer[], expected: { sha256: string; size: number }) {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      out.push(chunk);
      done();
    },
  });
  const error = await pipeline(Readable.from(chunks), new VerifyingStream(expected), sink).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { out: Buffer.concat(out), error };
}

describe('VerifyingStream', () => {
  const chunks = [Buffer.from('first chunk '), Buffer.from('second chunk '), Buffer.from('last')];
  const whole = Buffer.concat(chunks);

  it('passes matching bytes through unchanged', async () => {
    const { out, error } = await run(chunks, { sha256: sha(whole), size: whole.length });
    expect(error).toBeUndefined();
    expect(out.equals(whole)).toBe(true);
  });

  it('never lets the last chunk of a mismatching file out', async () => {
    const corrupt = [chunks[0], chunks[1], Buffer.from('LAST')];
    const { out, error } = await run(corrupt, { sha256: sha(whole), size: whole.length });
    expect(error).toBeInstanceOf(StoredBytesMismatch);
    expect(out.length).toBeLessThan(whole.length);
    expect((error as StoredBytesMismatch).computedSha256).toBe(sha(Buffer.concat(corrupt)));
  });

  it('refuses a file longer or shorter than recorded', async () => {
    const longer = await run([...chunks, Buffer.from('x')], {
      sha256: sha(whole),
      size: whole.length,
    });
    expect(longer.error).toBeInstanceOf(StoredBytesMismatch);
    const shorter = await run(chunks.slice(0, 2), { sha256: sha(whole), size: whole.length });
    expect(shorter.error).toBeInstanceOf(StoredBytesMismatch);
    expect(shorter.out.length).toBeLessThan(whole.length);
  });

  it('sends nothing of a one-chunk file that mismatches', async () => {
    const { out, error } = await run([Buffer.from('tiny')], {
      sha256: sha(Buffer.from('tidy')),
      size: 4,
    });
    expect(error).toBeInstanceOf(StoredBytesMismatch);
    expect(out.length).toBe(0);
  });
});
