export {
  connectJetStream,
  JetStreamConnection,
  DEFAULT_DUPLICATE_WINDOW_MS,
  type ConnectJetStreamOptions,
} from './connection';
export { EventPublisher, type PublishOptions, type PublishResult } from './event-publisher';
export {
  JetStreamServer,
  JETSTREAM_TRANSPORT,
  type JetStreamServerOptions,
} from './jetstream-server';
export { OnEvent, DEFAULT_CONSUMER, type OnEventOptions, type JetStreamPattern } from './on-event';
export { JetStreamEventContext } from './event-context';
export { JetStreamModule } from './jetstream.module';
export { PermanentError, PublishError } from './errors';
export type { DeadLetter } from './dead-letter';
export type { JetStreamLogger } from './logger';
export type { RetryPolicy } from './publish-retry';
export { durableName } from './consumer-config';
