import { API_ROUTES, serviceForPath, type ServiceName } from '@sup/contracts';
import { createServer, request, type Server } from 'node:http';
import { lingerAfterAnswer } from './http-linger';

const jsonError = (statusCode: number, error: string, message: string, details?: string[]) =>
  JSON.stringify({ statusCode, error, message, ...(details ? { details } : {}) });

/**
 * The local stand-in for the Kubernetes ingress: one base URL for operators, routed by path
 * prefix to the owning service (the same table the ingress uses). Aborts travel both ways, as
 * through a real proxy: a client that goes away mid-upload aborts the upstream request (so the
 * service drops the partial upload at once), and a service that fails mid-answer cuts the
 * client's connection instead of leaving it hanging.
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
        jsonError(
          404,
          'NOT_FOUND',
          `no route for ${path}`,
          API_ROUTES.map((r) => `${r.prefix} → ${r.service}`),
        ),
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
        // An answer that ends early (a refused upload) ends the upload too: what the client
        // still sends is not forwarded.
        up.on('end', () => {
          req.unpipe(upstream);
          lingerAfterAnswer(req, res);
        });
        up.on('error', (err) => res.destroy(err));
        up.on('aborted', () => res.destroy());
      },
    );
    // The client went away before its answer was complete: abort upstream as well.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('error', () => upstream.destroy());
    upstream.on('error', (err) => {
      req.unpipe(upstream);
      if (res.writableEnded) return;
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(jsonError(502, 'BAD_GATEWAY', `${service} unavailable: ${err.message}`));
      lingerAfterAnswer(req, res);
    });
    req.pipe(upstream);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
