export {
  connectJetStream,
  JetStreamConnection,
  DEFAULT_DUPLICATE_WINDOW_MS,
  type ConnectJetStreamOptions,
} from './connection';
export {
  EventPublisher,
  type OutgoingEvent,
  type PublishOutcome,
  type PublishResult,
} from './event-publisher';
export {
  JetStreamServer,
  JETSTREAM_TRANSPORT,
  type JetStreamServerOptions,
} from './jetstream-server';
export {
  OnEvent,
  OnEvents,
  DEFAULT_CONSUMER,
  type OnEventOptions,
  type JetStreamPattern,
} from './on-event';
export { EventBatch, type BatchItem, type ItemVerdict } from './event-batch';
export { JetStreamEventContext } from './event-context';
export { JetStreamModule } from './jetstream.module';
export { PermanentError, PublishError } from './errors';
export type { DeadLetter } from './dead-letter';
export {
  DeadLetterAdmin,
  DLQ_STREAM,
  type ActionResult,
  type DeadLetterEntry,
  type DeadLetterFilter,
  type ListOptions,
  type ListResult,
} from './dead-letter-admin';
export { runDeadLetterCli, EXIT, type CliIo } from './dead-letter-cli';
export {
  DEFAULT_STREAM_LIMITS,
  streamSettingsProblems,
  type StreamLimits,
  type StreamSettings,
} from './stream-settings';
export type { JetStreamLogger } from './logger';
export { WRONG_LAST_SEQUENCE, type RetryPolicy } from './publish-retry';
export {
  backoffFor,
  consumerConfig,
  durableName,
  ensureConsumer,
  type DeliverySettings,
} from './consumer-config';
export {
  VersionedStore,
  CasConflictError,
  type BucketOptions,
  type StoreWatch,
  type WatchChange,
  type Mutation,
  type Versioned,
} from './versioned-store';
export {
  NatsAuthError,
  natsAuthFromEnv,
  natsAuthOptions,
  redactUrlSecrets,
  type NatsAuth,
} from './nats-auth';
export {
  followSubject,
  nextSequence,
  type FollowOptions,
  type SubjectFollower,
} from './subject-follower';
