import { ensureFerretDbBinary, serviceEntry } from '@sup/testing';
import { existsSync } from 'node:fs';

/** The suites run the services from dist/ and need FerretDB; both are prepared once here. */
export default function globalSetup(): void {
  if (!existsSync(serviceEntry('ingest'))) {
    throw new Error('dist/ is missing: `npm test` builds first; run `npm run build` before `npm run test:e2e`');
  }
  if (!process.env.MONGODB_URI) ensureFerretDbBinary();
}
