import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Why a bundle was refused, as the `details[0]` of the error body (and the audit record), so a
 * client can tell the rules apart without parsing the message.
 */
export type ImportRefusalCode =
  | 'unsupported-media-type'
  | 'index-first'
  | 'index-missing'
  | 'index-refused'
  | 'path-escape'
  | 'not-in-index'
  | 'duplicate-file'
  | 'invalid-entry'
  | 'incomplete-entry'
  | 'no-entries'
  | 'not-a-file'
  | 'malformed-bundle'
  | 'too-large'
  | 'bundle-too-large'
  | 'too-many-files'
  | 'size-mismatch'
  | 'sha256-mismatch'
  | 'signature-invalid'
  | 'busy'
  | 'insufficient-storage'
  | 'aborted';

/**
 * A bundle refused for a reason the client can act on. Nothing of it was recorded or stored; its
 * temporary files are removed by whoever received it.
 */
export class ImportRefusal extends HttpException {
  override readonly name = 'ImportRefusal';

  constructor(
    status: HttpStatus,
    readonly code: ImportRefusalCode,
    message: string,
    /** Headers the answer needs (Retry-After). */
    readonly headers: Record<string, string> = {},
  ) {
    super({ message, details: [code] }, status);
  }
}

export const badBundle = (code: ImportRefusalCode, message: string): ImportRefusal =>
  new ImportRefusal(HttpStatus.BAD_REQUEST, code, message);

export const unacceptable = (code: ImportRefusalCode, message: string): ImportRefusal =>
  new ImportRefusal(HttpStatus.UNPROCESSABLE_ENTITY, code, message);

export const tooLarge = (code: ImportRefusalCode, message: string): ImportRefusal =>
  new ImportRefusal(HttpStatus.PAYLOAD_TOO_LARGE, code, message);
