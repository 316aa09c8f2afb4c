// busboy 1.x ships no types (it comes with multer); only what the multipart bundle reader uses.
declare module 'busboy' {
  import type { IncomingHttpHeaders } from 'node:http';
  import type { Writable } from 'node:stream';

  namespace busboy {
    interface Limits {
      fieldNameSize?: number;
      fieldSize?: number;
      fields?: number;
      fileSize?: number;
      files?: number;
      parts?: number;
      headerPairs?: number;
    }
    interface Config {
      headers: IncomingHttpHeaders;
      limits?: Limits;
      highWaterMark?: number;
      fileHwm?: number;
      preservePath?: boolean;
    }
    interface FileInfo {
      filename: string | undefined;
      encoding: string;
      mimeType: string;
    }
    /** Emits 'file' (name, stream, info), 'field', 'filesLimit', 'partsLimit', 'fieldsLimit'. */
    type Busboy = Writable;
  }
  function busboy(config: busboy.Config): busboy.Busboy;
  export = busboy;
}
