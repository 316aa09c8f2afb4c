/** The pipeline's services: the `<service>` of `dlq.v1.<service>.<subject>` and of `/services/<service>`. */
export const SERVICE_NAMES = [
  'ingest',
  'checksum',
  'signature-validator',
  'distribution',
  'alerting',
  'audit',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** The CloudEvents `source` of every event a service emits. */
export const serviceSource = (service: ServiceName): string => `/services/${service}`;
