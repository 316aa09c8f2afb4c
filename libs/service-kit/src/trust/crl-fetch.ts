export interface FetchLimits {
  timeoutMs: number;
  maxBytes: number;
}

/**
 * GETs a CRL over http(s): no redirects (a CRL location is configured, not discovered), one
 * deadline for the whole transfer, and at most `maxBytes` read. Errors name the rule that
 * failed, never bytes that were read.
 */
export async function fetchCrlBytes(location: string, limits: FetchLimits): Promise<Buffer> {
  const url = new URL(location);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`only http(s) CRL URLs are fetched, not ${url.protocol}`);
  }
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'error' });
  } catch (error) {
    throw new Error(fetchFailure(error, limits), { cause: error });
  }
  try {
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) throw new Error(tooLarge(limits));
    return await readCapped(res, limits);
  } catch (error) {
    await res.body?.cancel().catch(() => undefined);
    if (signal.aborted) throw new Error(fetchFailure(signal.reason, limits), { cause: error });
    throw error;
  }
}

async function readCapped(res: Response, limits: FetchLimits): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > limits.maxBytes) throw new Error(tooLarge(limits));
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks);
}

const tooLarge = (limits: FetchLimits) => `larger than ${limits.maxBytes} bytes (CRL_MAX_BYTES)`;

function fetchFailure(error: unknown, limits: FetchLimits): string {
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return `no complete answer within ${limits.timeoutMs} ms (CRL_FETCH_TIMEOUT_MS)`;
  }
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return `cannot fetch: ${cause?.code ?? (error as Error | undefined)?.message ?? String(error)}`;
}
