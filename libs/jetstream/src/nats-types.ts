import type { connect } from '@nats-io/transport-node';

/*
 * `@nats-io/transport-node` re-exports nats-core through a package subpath that the workspace's
 * `moduleResolution: node` cannot see, so the connection type is derived from `connect` instead of
 * importing a transitive package.
 */
export type NatsConnection = Awaited<ReturnType<typeof connect>>;

/** JetStream durations are nanoseconds on the wire; everything in this library speaks milliseconds. */
export const nanos = (millis: number): number => Math.round(millis * 1_000_000);

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());
