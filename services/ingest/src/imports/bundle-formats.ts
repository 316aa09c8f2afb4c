import { HttpStatus } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { BundleSource, SourceLimits } from './bundle-source';
import { ImportRefusal } from './import-refusal';
import { multipartFiles } from './multipart-source';
import { tarFiles } from './tar-source';
import { zipFiles } from './zip-source';

type Reader = (req: IncomingMessage, tempDir: string, limits: SourceLimits) => BundleSource;

/** The media types a bundle may be sent as (the route admits these bodies and no others). */
export const BUNDLE_MEDIA_TYPES = [
  'multipart/form-data',
  'application/zip',
  'application/x-zip-compressed',
  'application/x-tar',
  'application/tar',
] as const;

const READERS: Record<(typeof BUNDLE_MEDIA_TYPES)[number], Reader> = {
  'multipart/form-data': (req, _dir, limits) => multipartFiles(req, limits),
  'application/zip': (req, dir, limits) => zipFiles(req, dir, limits),
  'application/x-zip-compressed': (req, dir, limits) => zipFiles(req, dir, limits),
  'application/x-tar': (req, _dir, limits) => tarFiles(req, limits),
  'application/tar': (req, _dir, limits) => tarFiles(req, limits),
};
const isBundleType = (type: string): type is (typeof BUNDLE_MEDIA_TYPES)[number] =>
  (BUNDLE_MEDIA_TYPES as readonly string[]).includes(type);

/** The files of an uploaded bundle, read by its media type; 415 for any other type. */
export function openBundle(
  req: IncomingMessage,
  tempDir: string,
  limits: SourceLimits,
): BundleSource {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!isBundleType(type)) {
    throw new ImportRefusal(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'unsupported-media-type',
      `a bundle is sent as ${BUNDLE_MEDIA_TYPES.join(', ')}; got ${type || 'no content type'}`,
    );
  }
  return READERS[type](req, tempDir, limits);
}
