import { z } from 'zod';
import { SyncRequestedSchema } from './events';

/** `202` of `POST /v1/feeds/sync`: the id to poll at `GET /v1/feeds/syncs/{id}`. */
export const SyncAcceptedSchema = z.object({ id: SyncRequestedSchema.shape.syncId });
export type SyncAccepted = z.infer<typeof SyncAcceptedSchema>;

export const HEALTH_CHECK_STATES = ['up', 'down'] as const;

/** Body of `GET /healthz/live` (`{ status: 'ok' }`) and `GET /healthz/ready` on every service. */
export const HealthSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  /** Readiness only: each dependency (`nats`, `mongo`, ...) and whether it answers. */
  checks: z.record(z.enum(HEALTH_CHECK_STATES)).optional(),
});
export type Health = z.infer<typeof HealthSchema>;
