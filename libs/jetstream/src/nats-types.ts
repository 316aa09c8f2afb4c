/*
 * `@nats-io/transport-node` and `@nats-io/jetstream` type their connection through the
 * `@nats-io/nats-core/internal` subpath, which the workspace's `moduleResolution: node` cannot see
 * (it comes out as an unresolved `any`). The package root resolves, so the type is taken from
 * there: a type-only import of the nats-core that both packages depend on, erased at runtime.
 */
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';

export type { ConnectionOptions, NatsConnection };

/** What a pull (`fetch`) hands back, typed here for the same reason. */
export interface MessageBatch extends AsyncIterable<JsMsg> {
  close(): Promise<void | Error>;
}

/** JetStream durations are nanoseconds on the wire; everything in this library speaks milliseconds. */
export const nanos = (millis: number): number => Math.round(millis * 1_000_000);

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());
