import { HttpStatus } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { BundleSource, SourceLimits } from './bundle-source';
import { ImportRefusal } from './import-refusal';
import { multipartFiles } from './multipart-source';
import { tarFiles } from './tar-source';
import { zipFiles } from './zip-source';

type Reader = (req: IncomingMessage, tempDir: string, limits: SourceLimits) => BundleSource;

/** The bundle formats, by the request's media type. */
const READERS: Record<string, Reader> = {
  'multipart/form-data': (req, _dir, limits) => multipartFiles(req, limits),
  'application/zip': (req, dir, limits) => zipFiles(req, dir, limits),
  'application/x-zip-compressed': (req, dir, limits) => zipFiles(req, dir, limits),
  'application/x-tar': (req, _dir, limits) => tarFiles(req, limits),
  'application/tar': (req, _dir, limits) => tarFiles(req, limits),
};

/** The files of an uploaded bundle, read by its media type; 415 for any other type. */
export function openBundle(
  req: IncomingMessage,
  tempDir: string,
  limits: SourceLimits,
): BundleSource {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const reader = READERS[type];
  if (!reader) {
    throw new ImportRefusal(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'unsupported-media-type',
      `a bundle is sent as ${Object.keys(READERS).join(', ')}; got ${type || 'no content type'}`,
    );
  }
  return reader(req, tempDir, limits);
}
