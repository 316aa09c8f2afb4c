import {
  durableName,
  isAllowed,
  NATS_ADMIN_USER,
  NATS_SERVICE_GRANTS,
  NATS_SERVICES,
  natsPermissions,
  serviceInboxPrefix,
  relayNatsPermissions,
  agentNatsPermissions,
  type NatsServiceName,
} from './nats-permissions';
import { STREAMS, SUBJECTS, entitySubject, type Subject } from './subjects';

const publishers = (subject: string): NatsServiceName[] =>
  NATS_SERVICES.filter((s) => isAllowed(natsPermissions(s).publish, subject));

/** Who may announce what: the services table of docs/architecture.md. */
const EXPECTED_PUBLISHERS: Record<string, NatsServiceName[]> = {
  [SUBJECTS.imported]: ['ingest'],
  [SUBJECTS.checksumVerified]: ['checksum'],
  [SUBJECTS.validated]: ['signature-validator'],
  [SUBJECTS.published]: ['distribution'],
  [SUBJECTS.rejected]: ['ingest', 'checksum', 'signature-validator'],
  [SUBJECTS.alertRaised]: ['alerting'],
  [SUBJECTS.alertResolved]: ['alerting'],
  [SUBJECTS.alertAcknowledged]: ['alerting'],
  [SUBJECTS.syncRequested]: ['ingest'],
  [SUBJECTS.entryRequested]: ['ingest'],
  [SUBJECTS.syncFinished]: ['ingest'],
  'audit.v1.action': ['ingest', 'alerting', 'distribution'],
  // Reports posted over REST; agents and relays publishing over NATS get users of their own (issue 7).
  [SUBJECTS.fleetReported]: ['distribution'],
  [SUBJECTS.relayed]: ['distribution'],
  [SUBJECTS.relayFailed]: ['distribution'],
  [SUBJECTS.withdrawn]: ['distribution'],
  [SUBJECTS.rolloutChanged]: ['distribution'],
};

describe('NATS permissions', () => {
  it.each(Object.entries(EXPECTED_PUBLISHERS))(
    'only the right services may publish %s',
    (type, expected) => {
      expect(publishers(`${type}.upd_0123`).sort()).toEqual([...expected].sort());
      // Only `<type>.<entity id>`: neither the bare type nor a deeper subject.
      expect(publishers(type)).toEqual([]);
      expect(publishers(`${type}.a.b`)).toEqual([]);
    },
  );

  it('covers every contract event type', () => {
    const types = Object.values(SUBJECTS) as string[];
    expect(types.filter((t) => !(t in EXPECTED_PUBLISHERS))).toEqual([]);
  });

  it('lets each service publish every event it emits, on any entity', () => {
    for (const service of NATS_SERVICES) {
      const { publish } = natsPermissions(service);
      for (const filter of NATS_SERVICE_GRANTS[service].emits) {
        const concrete = filter.endsWith('.*') ? `${filter.slice(0, -2)}.x_1` : filter;
        expect(isAllowed(publish, concrete)).toBe(true);
      }
      expect(isAllowed(publish, entitySubject(SUBJECTS.imported, 'upd_1'))).toBe(
        service === 'ingest',
      );
    }
  });

  it('lets only audit append to the audit chain', () => {
    for (const subject of ['audit.v1.chain.record', 'audit.v1.chain.checkpoint'])
      expect(publishers(subject)).toEqual(['audit']);
  });

  it('lets a service dead-letter only under its own name', () => {
    for (const service of NATS_SERVICES) {
      expect(publishers(`dlq.v1.${service}.updates.v1.imported.upd_1`)).toEqual([service]);
    }
  });

  it('lets every service create the contract streams but never change, delete or purge anything', () => {
    for (const service of NATS_SERVICES) {
      const { publish } = natsPermissions(service);
      for (const { name } of STREAMS) {
        for (const op of ['INFO', 'CREATE'])
          expect(isAllowed(publish, `$JS.API.STREAM.${op}.${name}`)).toBe(true);
        for (const op of ['UPDATE', 'DELETE', 'PURGE', 'MSG.DELETE'])
          expect(isAllowed(publish, `$JS.API.STREAM.${op}.${name}`)).toBe(false);
      }
      for (const bucket of NATS_SERVICE_GRANTS.ingest.buckets) {
        expect(isAllowed(publish, `$JS.API.STREAM.PURGE.KV_${bucket}`)).toBe(false);
        expect(isAllowed(publish, `$JS.API.STREAM.DELETE.KV_${bucket}`)).toBe(false);
        expect(isAllowed(publish, `$JS.API.STREAM.UPDATE.KV_${bucket}`)).toBe(false);
      }
      expect(isAllowed(publish, '$JS.API.CONSUMER.DELETE.UPDATES.checksum-main-x')).toBe(false);
    }
  });

  it('grants each service its own KV buckets only', () => {
    const ingest = natsPermissions('ingest').publish;
    const distribution = natsPermissions('distribution').publish;
    expect(isAllowed(ingest, '$KV.ingest_syncs.sync_1')).toBe(true);
    expect(isAllowed(ingest, '$JS.API.DIRECT.GET.KV_ingest_syncs.$KV.ingest_syncs.sync_1')).toBe(
      true,
    );
    expect(isAllowed(ingest, '$KV.update_views.upd_1')).toBe(false);
    expect(isAllowed(distribution, '$KV.update_views.upd_1')).toBe(true);
    expect(isAllowed(distribution, '$KV.ingest_artifact_refs.abc')).toBe(false);
    expect(isAllowed(distribution, '$JS.API.STREAM.MSG.GET.KV_ingest_artifact_refs')).toBe(false);
  });

  it('lets a service pull and acknowledge its own durables, not another service’s', () => {
    const own = durableName('checksum', 'main', SUBJECTS.imported);
    const theirs = durableName('distribution', 'main', SUBJECTS.validated);
    const checksum = natsPermissions('checksum').publish;
    for (const api of ['CONSUMER.INFO', 'CONSUMER.MSG.NEXT', 'CONSUMER.DURABLE.CREATE']) {
      expect(isAllowed(checksum, `$JS.API.${api}.UPDATES.${own}`)).toBe(true);
      expect(isAllowed(checksum, `$JS.API.${api}.UPDATES.${theirs}`)).toBe(false);
    }
    expect(
      isAllowed(checksum, `$JS.API.CONSUMER.CREATE.UPDATES.${own}.${SUBJECTS.imported}.*`),
    ).toBe(true);
    expect(isAllowed(checksum, `$JS.ACK.UPDATES.${own}.1.2.3.4.5`)).toBe(true);
    expect(isAllowed(checksum, `$JS.ACK.UPDATES.${theirs}.1.2.3.4.5`)).toBe(false);
  });

  it('lets alerting follow the subjects it keeps in memory, and nothing more of UPDATES', () => {
    const alerting = natsPermissions('alerting').publish;
    const create = (subject: string) => `$JS.API.CONSUMER.CREATE.UPDATES.oc_x_1.${subject}`;
    for (const s of [SUBJECTS.published, SUBJECTS.withdrawn, SUBJECTS.relayed])
      expect(isAllowed(alerting, create(`${s}.>`))).toBe(true);
    expect(isAllowed(alerting, create(`${SUBJECTS.imported}.>`))).toBe(false);
    expect(isAllowed(alerting, create('>'))).toBe(false);
    expect(isAllowed(alerting, '$JS.FC.UPDATES.oc_x_1.1.2')).toBe(true);
    const theirs = durableName('distribution', 'main', SUBJECTS.validated);
    for (const api of ['CONSUMER.MSG.NEXT', 'CONSUMER.DELETE'])
      expect(isAllowed(alerting, `$JS.API.${api}.UPDATES.${theirs}`)).toBe(false);
  });

  it('names exactly the durables the services declare (the distribution view takes every update event)', () => {
    const viewTypes: Subject[] = [
      SUBJECTS.imported,
      SUBJECTS.checksumVerified,
      SUBJECTS.validated,
      SUBJECTS.published,
      SUBJECTS.rejected,
    ];
    const publish = natsPermissions('distribution').publish;
    for (const type of viewTypes) {
      expect(
        isAllowed(
          publish,
          `$JS.API.CONSUMER.MSG.NEXT.UPDATES.${durableName('distribution', 'view', type)}`,
        ),
      ).toBe(true);
    }
  });

  it('delivers replies only to the service’s own inboxes', () => {
    for (const service of NATS_SERVICES) {
      const { subscribe } = natsPermissions(service);
      expect(subscribe).toEqual([`${serviceInboxPrefix(service)}.>`]);
      const other = NATS_SERVICES.find((s) => s !== service) ?? 'ingest';
      expect(isAllowed(subscribe, `${serviceInboxPrefix(other)}.abc`)).toBe(false);
      expect(isAllowed(subscribe, 'updates.v1.imported.upd_1')).toBe(false);
    }
  });

  it('gives the admin user everything, and lists no grant twice', () => {
    expect(natsPermissions(NATS_ADMIN_USER)).toEqual({ publish: ['>'], subscribe: ['>'] });
    for (const service of NATS_SERVICES) {
      const { publish } = natsPermissions(service);
      expect(new Set(publish).size).toBe(publish.length);
    }
  });
});

describe('relay and agent NATS users', () => {
  const relay = relayNatsPermissions('relay-a');

  it('lets a relay pull only its own durable and publish only its own fleet report', () => {
    expect(isAllowed(relay.publish, '$JS.API.CONSUMER.MSG.NEXT.UPDATES.relay-relay-a')).toBe(true);
    expect(isAllowed(relay.publish, '$JS.API.CONSUMER.MSG.NEXT.UPDATES.relay-relay-b')).toBe(false);
    expect(isAllowed(relay.publish, '$JS.API.CONSUMER.MSG.NEXT.UPDATES.audit-main-x')).toBe(false);
    expect(isAllowed(relay.publish, entitySubject(SUBJECTS.fleetReported, 'relay-a'))).toBe(true);
    expect(isAllowed(relay.publish, entitySubject(SUBJECTS.fleetReported, 'relay-b'))).toBe(false);
    expect(isAllowed(relay.publish, entitySubject(SUBJECTS.relayed, 'upd_1-relay-a'))).toBe(false);
  });

  it('lets agents publish fleet reports and nothing else', () => {
    const agent = agentNatsPermissions();
    expect(isAllowed(agent.publish, entitySubject(SUBJECTS.fleetReported, 'pc-1'))).toBe(true);
    expect(isAllowed(agent.publish, entitySubject(SUBJECTS.published, 'upd_1'))).toBe(false);
    expect(isAllowed(agent.publish, '$JS.API.STREAM.DELETE.UPDATES')).toBe(false);
  });
});
