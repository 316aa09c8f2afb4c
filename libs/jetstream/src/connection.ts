import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { PermissionViolationError } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { serviceInboxPrefix } from '@sup/contracts';
import { errorMessage } from './errors';
import type { JetStreamLogger } from './logger';
import { natsAuthOptions, redactUrlSecrets, type NatsAuth } from './nats-auth';
import type { ConnectionOptions, NatsConnection } from './nats-types';
import { ensureStreams, type StreamSettings } from './streams';

export interface ConnectJetStreamOptions {
  /** NATS URL(s), comma-separated for a cluster. */
  servers: string;
  /** Service name: the NATS connection name and the prefix of every durable consumer. */
  service: string;
  /** Stream replicas (1 on a single server, 3 on a cluster). Default 1. */
  replicas?: number;
  /** How long JetStream remembers message ids for de-duplication. Default 10 minutes. */
  duplicateWindowMs?: number;
  /** Age and size limits by stream name (over the defaults of stream-settings). */
  streamLimits?: StreamSettings['limits'];
  /** Timeout of the first connection attempt. Default 5 s. */
  connectTimeoutMs?: number;
  /** The service's own NATS user; none: the server's configuration decides (e.g. no auth). */
  auth?: NatsAuth;
  /** Where refusals by the server (permissions) are logged. */
  logger?: JetStreamLogger;
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60_000;

/**
 * One NATS connection per process, shared by the publisher and the microservice server. It is a
 * class so Nest can inject it by type.
 */
export class JetStreamConnection {
  private reconnecting = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly service: string,
    private readonly logger?: JetStreamLogger,
  ) {
    void this.watchStatus();
  }

  /** Readiness: a replica that lost NATS cannot do its job, even though it will reconnect. */
  isHealthy(): boolean {
    return !this.nc.isClosed() && !this.nc.isDraining() && !this.reconnecting;
  }

  /** Drains: pending publishes are flushed and subscriptions end before the socket closes. */
  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  private async drain(): Promise<void> {
    if (this.nc.isClosed()) return;
    try {
      await this.nc.drain();
    } catch {
      // drain refuses a connection that is already closing; make sure it ends closed either way
      if (!this.nc.isClosed()) await this.nc.close();
    }
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnecting')
          this.reconnecting = true;
        else if (status.type === 'reconnect') this.reconnecting = false;
        else if (status.type === 'error') this.reportRefusal(status.error);
      }
    } catch {
      // the iterator only ends with the connection; isClosed() reports that
    }
  }

  /**
   * The request that was refused fails on its own (a JetStream publish rejects with this error),
   * but the reason is said once more here, loudly: a refused subject is a missing grant in
   * libs/contracts/src/nats-permissions.ts, or something trying what it must not.
   */
  private reportRefusal(error: Error): void {
    // By name: the class may come from another copy of nats-core than the transport's.
    if (error.name !== 'PermissionViolationError') return;
    const { operation, subject } = error as PermissionViolationError;
    this.logger?.error(
      { err: error, operation, subject },
      `NATS refused ${operation} to ${subject}: not in the permissions of service ${this.service}`,
    );
  }
}

export async function connectJetStream(
  options: ConnectJetStreamOptions,
): Promise<JetStreamConnection> {
  const replicas = options.replicas ?? 1;
  const duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new Error(`replicas must be an integer from 1 to 5, got ${replicas}`);
  }
  if (!(duplicateWindowMs > 0))
    throw new Error(`duplicateWindowMs must be positive, got ${duplicateWindowMs}`);

  const connectOptions: ConnectionOptions = {
    servers: options.servers.split(',').map((s) => s.trim()),
    name: options.service,
    timeout: options.connectTimeoutMs ?? 5_000,
    // After the first connection succeeds, a NATS outage must never kill the process: Kubernetes
    // would restart every replica at once and they would all stampede the server when it returns.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 2_000,
    reconnectJitter: 1_000,
    // The client would otherwise capture a stack trace for every request (each KV read or write,
    // each publish acknowledgement): measured as the largest single CPU cost of a busy service.
    noAsyncTraces: true,
    // Replies come to inboxes of the service's own, the only ones its NATS user may subscribe to.
    inboxPrefix: serviceInboxPrefix(options.service),
    ...natsAuthOptions(options.auth),
  };
  // A URL may carry `user:password@`: never in an error message (it ends up in logs).
  const servers = redactUrlSecrets(options.servers);
  let nc: NatsConnection;
  try {
    nc = (await connect(connectOptions)) as NatsConnection;
  } catch (error) {
    throw new Error(
      `cannot connect to NATS at ${servers}: ${redactUrlSecrets(errorMessage(error))}`,
      {
        cause: error,
      },
    );
  }

  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(
      jsm,
      {
        replicas,
        duplicateWindowMs,
        ...(options.streamLimits ? { limits: options.streamLimits } : {}),
      },
      undefined,
      options.logger,
    );
    return new JetStreamConnection(nc, jetstream(nc), jsm, options.service, options.logger);
  } catch (error) {
    await nc.close();
    throw new Error(`JetStream set-up on ${servers} failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
