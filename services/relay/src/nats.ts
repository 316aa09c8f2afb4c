import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { relayNatsUser, serviceInboxPrefix } from '@sup/contracts';
import { JetStreamConnection, natsAuthOptions, redactUrlSecrets } from '@sup/jetstream';
import type { Logger } from 'pino';
import type { RelayConfig } from './config';

type NatsConnection = JetStreamConnection['nc'];

/**
 * The relay's NATS connection as its own user `relay-<id>`. Unlike the services it creates no
 * stream (its user may not): the control plane's services own UPDATES and FLEET.
 */
export async function connectRelayNats(
  config: RelayConfig,
  logger: Logger,
): Promise<JetStreamConnection> {
  const name = relayNatsUser(config.relayId);
  let nc: NatsConnection;
  try {
    nc = (await connect({
      servers: config.natsUrl.split(',').map((s) => s.trim()),
      name,
      timeout: 5_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 2_000,
      reconnectJitter: 1_000,
      noAsyncTraces: true,
      inboxPrefix: serviceInboxPrefix(name),
      ...natsAuthOptions(config.natsAuth),
    })) as NatsConnection;
  } catch (error) {
    throw new Error(
      `cannot connect to NATS at ${redactUrlSecrets(config.natsUrl)}: ${String(error)}`,
    );
  }
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  return new JetStreamConnection(nc, jetstream(nc), jsm, name, logger);
}
