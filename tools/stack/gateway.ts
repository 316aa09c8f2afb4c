import { API_ROUTES, serviceForPath, type ServiceName } from '@sup/contracts';
import { createServer, request, type Server } from 'node:http';

/**
 * The local stand-in for the Kubernetes ingress: one base URL for operators, routed by path
 * prefix to the owning service (the same table the ingress uses).
 */
export function startGateway(
  port: number,
  host: string,
  ports: ReadonlyMap<ServiceName, number>,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const service = serviceForPath(path);
    if (!service) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          statusCode: 404,
          error: 'NOT_FOUND',
          message: `no route for ${path}`,
          details: API_ROUTES.map((r) => `${r.prefix} → ${r.service}`),
        }),
      );
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: ports.get(service),
        path,
        method: req.method,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          statusCode: 502,
          error: 'BAD_GATEWAY',
          message: `${service} unavailable: ${err.message}`,
        }),
      );
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
