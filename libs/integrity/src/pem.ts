export interface PemBlock {
  label: string;
  der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

// Buffer#includes searches the bytes without decoding them first.
export const looksLikePem = (input: Buffer | string): boolean => input.includes('-----BEGIN ');

/** Every PEM block in the text; bodies that are not plain base64 (e.g. encrypted headers) throw. */
export function decodePem(input: Buffer | string): PemBlock[] {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  return [...text.matchAll(PEM_BLOCK)].map(([, label = '', body = '']) => {
    if (!BASE64_BODY.test(body)) throw new Error(`PEM block "${label}" has a non-base64 body`);
    return { label, der: Buffer.from(body.replace(/\s+/g, ''), 'base64') };
  });
}
