import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  ReplayPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from './nats-types';

export interface DeliverySettings {
  /** Handler attempts before a message is dead-lettered. */
  maxDeliver: number;
  /** Delay before attempt n+1 after attempt n failed: backoffMs[n-1], the last entry repeating. */
  backoffMs: number[];
  /** How long a silent handler keeps its message before JetStream hands it to another replica. */
  ackWaitMs: number;
  /** Unsettled messages of the durable across all replicas, including those waiting out a back-off. */
  maxAckPending: number;
}

/** Durable names are part of the contracts: each service's NATS user is granted exactly its own. */
export { durableName } from '@sup/contracts';

export const backoffFor = (backoffMs: number[], deliveryCount: number): number =>
  backoffMs[Math.min(deliveryCount, backoffMs.length) - 1] ?? backoffMs[backoffMs.length - 1] ?? 0;

/**
 * JetStream's consumer `backoff` only paces redeliveries after an ack *timeout* (a failed handler is
 * nak'd with its own delay), and a non-empty `backoff` silently replaces `ack_wait` with its first
 * entry. So each entry is ackWait plus the configured back-off: a handler keeps the full ack wait on
 * every attempt (the heartbeat runs at a third of it), and a replica that died mid-message costs its
 * successor the same pause a failure would.
 */
export function redeliveryBackoffMs(settings: DeliverySettings): number[] {
  return Array.from(
    { length: settings.maxDeliver },
    (_, i) => settings.ackWaitMs + backoffFor(settings.backoffMs, i + 1),
  );
}

export function consumerConfig(
  durable: string,
  subject: string,
  description: string,
  settings: DeliverySettings,
): ConsumerConfig {
  return {
    durable_name: durable,
    description,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: nanos(settings.ackWaitMs),
    // One delivery more than the handler gets: if the last attempt dies without settling (crash,
    // ack timeout), the spare delivery dead-letters it instead of JetStream dropping it silently.
    // It also keeps backoff.length < max_deliver, which JetStream requires.
    max_deliver: settings.maxDeliver + 1,
    backoff: redeliveryBackoffMs(settings).map(nanos),
    max_ack_pending: settings.maxAckPending,
  };
}

async function findConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
): Promise<ConsumerInfo | null> {
  try {
    return await jsm.consumers.info(stream, durable);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)
      return null;
    throw error;
  }
}

const sameNumbers = (a: number[] | undefined, b: number[] | undefined): boolean =>
  (a ?? []).join(',') === (b ?? []).join(',');

/**
 * Create-or-update, safe to run from every replica at once: replicas share the durable (that is
 * what splits the work), and the last one started with new settings updates it.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  desired: ConsumerConfig,
): Promise<ConsumerInfo> {
  const durable = desired.durable_name ?? '';
  let existing = await findConsumer(jsm, stream, durable);
  if (!existing) {
    try {
      return await jsm.consumers.add(stream, desired);
    } catch (error) {
      existing = await findConsumer(jsm, stream, durable);
      if (!existing) throw error;
    }
  }
  const current = existing.config;
  if (
    current.ack_policy !== desired.ack_policy ||
    current.deliver_policy !== desired.deliver_policy
  ) {
    throw new Error(
      `consumer ${stream}/${durable} exists with ack_policy=${current.ack_policy} ` +
        `deliver_policy=${current.deliver_policy}; delete it so it can be recreated`,
    );
  }
  const drifted =
    current.filter_subject !== desired.filter_subject ||
    current.max_deliver !== desired.max_deliver ||
    current.max_ack_pending !== desired.max_ack_pending ||
    (current.description ?? '') !== (desired.description ?? '') ||
    !sameNumbers(current.backoff, desired.backoff);
  if (!drifted) return existing;
  return jsm.consumers.update(stream, durable, {
    description: desired.description,
    filter_subject: desired.filter_subject,
    ack_wait: desired.ack_wait,
    max_deliver: desired.max_deliver,
    backoff: desired.backoff,
    max_ack_pending: desired.max_ack_pending,
  });
}
