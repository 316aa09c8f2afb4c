import { z, type ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

export type JsonObject = { [key: string]: unknown };

/** `jsonSchema7` for AsyncAPI 2.6 (a Draft 07 superset); `openApi3` for OpenAPI. */
export type SchemaTarget = 'jsonSchema7' | 'openApi3';

export const COMPONENT_SCHEMA_REF = '#/components/schemas/';
export const schemaRef = (name: string): JsonObject => ({ $ref: `${COMPONENT_SCHEMA_REF}${name}` });

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local $ref: ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = node[Number(key)];
    else if (isObject(node)) node = node[key];
    else node = undefined;
    if (node === undefined) throw new Error(`$ref ${ref} does not resolve`);
  }
  return node;
}

/**
 * Replaces every `$ref` that does not name one of `kept` with a copy of what it points to.
 * zod-to-json-schema refers a sub-schema used twice to where it first met it (for instance
 * `#/components/schemas/UpdateItem/properties/rejection`), which is valid but unreadable.
 */
function inlineForeignRefs(
  node: unknown,
  root: unknown,
  kept: ReadonlySet<string>,
  depth = 0,
): unknown {
  if (depth > 64) throw new Error('schema nests too deep (recursive schema?)');
  if (Array.isArray(node))
    return node.map((item) => inlineForeignRefs(item, root, kept, depth + 1));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string' && !kept.has(ref)) {
    const siblings = Object.fromEntries(Object.entries(node).filter(([key]) => key !== '$ref'));
    const target = inlineForeignRefs(
      resolvePointer(root, ref),
      root,
      kept,
      depth + 1,
    ) as JsonObject;
    return { ...target, ...siblings };
  }
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      inlineForeignRefs(value, root, kept, depth + 1),
    ]),
  );
}

/**
 * Converts named zod schemas into a `components.schemas` map. Where one named schema uses
 * another (the same zod instance), the result holds a `$ref` to `#/components/schemas/<name>`;
 * everything else is inlined. `extra` schemas are converted alongside (so that they refer to the
 * components too) and returned apart: they are inlined wherever they are used.
 */
export function componentSchemas(
  named: Record<string, ZodTypeAny>,
  target: SchemaTarget,
  extra: Record<string, ZodTypeAny> = {},
): { schemas: Record<string, JsonObject>; extra: Record<string, JsonObject> } {
  const clash = Object.keys(extra).find((name) => name in named);
  if (clash) throw new Error(`schema name ${clash} is both a component and an extra`);
  // Typed loosely: inferring zod-to-json-schema's options from a record of schemas is too deep for tsc.
  const toJsonSchema = zodToJsonSchema as unknown as (
    schema: ZodTypeAny,
    options: object,
  ) => unknown;
  const generated = toJsonSchema(z.never(), {
    target,
    definitions: { ...named, ...extra },
    basePath: ['#', 'components'],
    definitionPath: 'schemas',
    $refStrategy: 'root',
    // As zod parses: a plain object ignores (strips) unknown keys, only a `.strict()` one refuses them.
    removeAdditionalStrategy: 'strict',
    allowedAdditionalProperties: undefined,
  }) as JsonObject;
  const raw = (generated.schemas ?? {}) as Record<string, JsonObject>;
  const root = { components: { schemas: raw } };
  const kept = new Set(Object.keys(named).map((name) => `${COMPONENT_SCHEMA_REF}${name}`));
  const convert = (names: string[]): Record<string, JsonObject> =>
    Object.fromEntries(
      names.map((name) => [name, inlineForeignRefs(raw[name], root, kept) as JsonObject]),
    );
  return { schemas: convert(Object.keys(named)), extra: convert(Object.keys(extra)) };
}

/** Every `$ref` in a document, with the JSON path where it appears. */
export function collectRefs(node: unknown, path = '#'): { path: string; ref: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => collectRefs(item, `${path}/${i}`));
  if (!isObject(node)) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string'
      ? [{ path, ref: value }]
      : collectRefs(value, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
  );
}

/** Whether a local `$ref` resolves inside `root`. */
export function refResolves(root: unknown, ref: string): boolean {
  try {
    resolvePointer(root, ref);
    return true;
  } catch {
    return false;
  }
}
