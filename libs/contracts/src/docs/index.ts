import { buildAsyncApi } from './asyncapi';
import { buildOpenApi } from './openapi';

export * from './asyncapi';
export * from './openapi';
export * from './openapi-security';
export { collectRefs, refResolves, type JsonObject } from './json-schema';

/** The generated contract documents, by path from the repository root. */
export const CONTRACT_DOCUMENTS: readonly { file: string; build: () => object }[] = [
  { file: 'docs/asyncapi.json', build: buildAsyncApi },
  { file: 'docs/openapi.json', build: buildOpenApi },
];

/** How the documents are written: 2-space JSON with a trailing newline. */
export const renderDocument = (doc: object): string => `${JSON.stringify(doc, null, 2)}\n`;

export const CONTRACTS_GENERATE_COMMAND = 'npm run contracts:generate';
