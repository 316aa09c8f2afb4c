import type { ServiceName } from './services';

/**
 * Which service owns which operator path under /v1. The Kubernetes ingress and the local
 * gateway route by these prefixes, so no two services may share one.
 */
export const API_ROUTES: readonly { prefix: string; service: ServiceName }[] = [
  { prefix: '/v1/feeds', service: 'ingest' },
  { prefix: '/v1/imports', service: 'ingest' },
  { prefix: '/v1/updates', service: 'distribution' },
  { prefix: '/v1/openapi.json', service: 'distribution' },
  { prefix: '/v1/fleet', service: 'distribution' },
  { prefix: '/v1/relays', service: 'distribution' },
  { prefix: '/v1/relay-groups', service: 'distribution' },
  { prefix: '/v1/rollouts', service: 'distribution' },
  { prefix: '/v1/version-control', service: 'distribution' },
  { prefix: '/v1/agents', service: 'distribution' },
  { prefix: '/v1/provenance', service: 'distribution' },
  { prefix: '/v1/alerts', service: 'alerting' },
  { prefix: '/v1/audit', service: 'audit' },
];

export function serviceForPath(path: string): ServiceName | undefined {
  return API_ROUTES.find(
    (r) => path === r.prefix || path.startsWith(`${r.prefix}/`) || path.startsWith(`${r.prefix}?`),
  )?.service;
}
