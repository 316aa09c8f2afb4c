/**
 * Every NATS subject the pipeline uses. Nothing else in the code base spells a subject out.
 * `v1` is the payload contract version: a breaking change gets a new subject, never a new shape
 * on an old one.
 */
export const SUBJECTS = {
  imported: 'updates.v1.imported',
  checksumVerified: 'updates.v1.checksum-verified',
  validated: 'updates.v1.validated',
  published: 'updates.v1.published',
  rejected: 'updates.v1.rejected',
  alertRaised: 'alerts.v1.raised',
  alertResolved: 'alerts.v1.resolved',
  syncRequested: 'feeds.v1.sync-requested',
} as const;
export type Subject = (typeof SUBJECTS)[keyof typeof SUBJECTS];
export const ALL_SUBJECTS: readonly Subject[] = Object.values(SUBJECTS);

/** Dead letters land on `dlq.v1.<service>.<original subject>` after the last delivery attempt. */
export const DLQ_PREFIX = 'dlq.v1';
export const dlqSubject = (service: string, original: string): string =>
  `${DLQ_PREFIX}.${service}.${original}`;

export interface StreamSpec {
  name: string;
  subjects: string[];
  description: string;
}

/** Streams are created (or updated) idempotently by every service at start-up. */
export const STREAMS: readonly StreamSpec[] = [
  { name: 'UPDATES', subjects: ['updates.v1.>'], description: 'Update lifecycle events' },
  { name: 'ALERTS', subjects: ['alerts.v1.>'], description: 'Alert lifecycle events' },
  { name: 'FEEDS', subjects: ['feeds.v1.>'], description: 'Feed sync requests (work for ingest)' },
  {
    name: 'DLQ',
    subjects: [`${DLQ_PREFIX}.>`],
    description: 'Messages that exhausted their deliveries',
  },
];
