/** The few HTTP calls an agent makes, with its bearer token and a bound on every wait. */

export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly url: string,
    readonly status: number,
    body: string,
  ) {
    super(`${url}: HTTP ${status}${body ? ` ${body.slice(0, 200)}` : ''}`);
  }
}

export interface HttpClientOptions {
  token: string;
  /** Per request; a relay that hangs must not hold an agent forever. Default 30 s. */
  timeoutMs?: number;
}

export class HttpClient {
  constructor(private readonly options: HttpClientOptions) {}

  private init(extra: RequestInit = {}, timeoutMs?: number): RequestInit {
    return {
      ...extra,
      headers: { authorization: `Bearer ${this.options.token}`, ...(extra.headers ?? {}) },
      signal: AbortSignal.timeout(timeoutMs ?? this.options.timeoutMs ?? 30_000),
    };
  }

  async text(url: string, init: RequestInit = {}): Promise<string> {
    const res = await fetch(url, this.init(init));
    const text = await res.text();
    if (!res.ok) throw new HttpError(url, res.status, text);
    return text;
  }

  async json<T>(url: string, init: RequestInit = {}): Promise<T> {
    const text = await this.text(url, init);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async postJson<T>(url: string, body: unknown): Promise<T> {
    return this.json<T>(url, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  }

  /** A small body (a signature), refused past `maxBytes`. */
  async bytes(url: string, maxBytes: number): Promise<Buffer> {
    const res = await fetch(url, this.init());
    if (!res.ok) throw new HttpError(url, res.status, await res.text());
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > maxBytes) throw new Error(`${url}: ${body.length} bytes, limit ${maxBytes}`);
    return body;
  }

  /**
   * The body of a large download as it arrives. The timeout covers the whole transfer, so it is
   * the caller's (`timeoutMs`), sized for the artifact.
   */
  async *stream(url: string, timeoutMs: number): AsyncGenerator<Buffer> {
    const res = await fetch(url, this.init({}, timeoutMs));
    if (!res.ok || !res.body) throw new HttpError(url, res.status, await res.text());
    for await (const chunk of res.body) yield Buffer.from(chunk as Uint8Array);
  }
}

/**
 * Resolves a URL a catalog or an assignment gives against the base it came from. Paths that
 * start with `/v1/` are relative to the API root the base names (`http://host/api/v1` +
 * `/v1/x` -> `http://host/api/v1/x`), other absolute paths to its origin.
 */
export function resolveUrl(base: string, ref: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return ref;
  const trimmed = base.replace(/\/+$/, '');
  if (ref.startsWith('/v1/') && trimmed.endsWith('/v1')) return `${trimmed}${ref.slice(3)}`;
  if (ref.startsWith('/')) return new URL(ref, trimmed).href;
  return `${trimmed}/${ref}`;
}
