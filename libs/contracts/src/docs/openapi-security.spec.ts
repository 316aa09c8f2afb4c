import { buildOpenApi } from './openapi';
import { OPERATION_ROLES } from './openapi-security';
import type { JsonObject } from './json-schema';

const operations = () =>
  Object.entries(buildOpenApi().paths as Record<string, Record<string, JsonObject>>).flatMap(
    ([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

describe('OpenAPI security', () => {
  it('names the role of every routed operation and the answers a refused caller gets', () => {
    for (const { path, method, op } of operations().filter((o) => o.op['x-ingress'] !== false)) {
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, OPERATION_ROLES[op.operationId as string]?.length ?? 0]).not.toEqual([
        where,
        0,
      ]);
      expect(op).toMatchObject({ security: [{ bearerAuth: [] }], 'x-roles': expect.any(Array) });
      expect(Object.keys(op.responses as JsonObject)).toEqual(
        expect.arrayContaining(['401', '403']),
      );
      if (op.requestBody)
        expect(Object.keys(op.responses as JsonObject)).toEqual(
          expect.arrayContaining(['413', '415']),
        );
    }
  });

  it('leaves the probes open and declares the bearer scheme', () => {
    const probes = operations().filter((o) => o.op['x-ingress'] === false);
    expect(probes.length).toBeGreaterThan(0);
    for (const { op } of probes) expect(op.security).toEqual([]);
    const doc = buildOpenApi() as {
      components: { securitySchemes: JsonObject };
      security: unknown;
    };
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
  });
});
