import {
  buildEvent,
  ContractViolation,
  eventId,
  eventType,
  isSubject,
  parseEvent,
  validateEventData,
  type CloudEvent,
} from './cloud-event';
import { EVENT_SCHEMAS, type EventMap, type UpdateDescriptor } from './events';
import { ALL_SUBJECTS, SUBJECTS, type Subject } from './subjects';

const SHA = 'c'.repeat(64);
const AT = '2026-03-01T10:00:00.000Z';
const UPDATE_ID = 'upd_0123456789abcdef01234567';

const descriptor: UpdateDescriptor = {
  updateId: UPDATE_ID,
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version: '20.0.1-12345',
  source: {
    type: 'feed',
    feed: 'acme-active-update',
    sequence: 7,
    url: 'https://feeds.example/acme/',
    syncId: 'sync_0123456789abcdef01234567',
  },
  artifact: { path: 'agent/agent.tar.gz', size: 10, sha256: SHA, storeKey: SHA },
  signature: {
    path: 'agent/agent.tar.gz.p7s',
    format: 'cms-detached-der',
    storeKey: 'd'.repeat(64),
  },
};

/** A valid payload for every subject. */
const SAMPLES: EventMap = {
  [SUBJECTS.imported]: { update: descriptor, importedAt: AT },
  [SUBJECTS.checksumVerified]: {
    update: descriptor,
    computedSha256: SHA,
    computedSize: 10,
    verifiedAt: AT,
  },
  [SUBJECTS.validated]: {
    update: descriptor,
    signer: {
      subject: 'CN=Acme Update Signing',
      issuer: 'CN=Acme Root',
      serialNumber: '01',
      sha256Fingerprint: 'e'.repeat(64),
      notBefore: '2025-01-01T00:00:00Z',
      notAfter: '2027-01-01T00:00:00Z',
    },
    signatureAlgorithm: 'rsa-pkcs1-v1_5',
    digestAlgorithm: 'sha256',
    signedAttributes: true,
    validatedAt: AT,
  },
  [SUBJECTS.published]: { update: descriptor, publishedAt: AT },
  [SUBJECTS.rejected]: {
    updateId: UPDATE_ID,
    stage: 'checksum',
    code: 'sha256-mismatch',
    reason: 'the stored artifact does not have the published SHA-256',
    update: descriptor,
    rejectedAt: AT,
  },
  [SUBJECTS.alertRaised]: {
    alertId: 'alert-1',
    rule: 'update-rejected',
    severity: 'warning',
    summary: 'agent 20.0.1-12345 was rejected',
    updateId: UPDATE_ID,
    details: { stage: 'checksum' },
    raisedAt: AT,
  },
  [SUBJECTS.alertAcknowledged]: {
    alertId: 'alert-1',
    rule: 'update-rejected',
    by: 'alice',
    acknowledgedAt: AT,
  },
  [SUBJECTS.alertResolved]: {
    alertId: 'alert-1',
    rule: 'update-rejected',
    reason: 'superseded',
    resolvedAt: AT,
  },
  [SUBJECTS.syncRequested]: {
    syncId: 'sync_0123456789abcdef01234567',
    url: 'https://feeds.example/acme/',
    requestedAt: AT,
  },
  [SUBJECTS.syncFinished]: {
    syncId: 'sync_0123456789abcdef01234567',
    url: 'https://feeds.example/acme/',
    state: 'failed',
    reason: 'index-signature-invalid: the index signature does not verify',
    scheduled: true,
    requestedAt: AT,
    finishedAt: AT,
    entries: { total: 0, imported: 0, unchanged: 0, rejected: 0, failed: 0 },
  },
  [SUBJECTS.entryRequested]: {
    syncId: 'sync_0123456789abcdef01234567',
    index: 3,
    total: 4,
    feed: 'acme',
    sequence: 7,
    url: 'https://feeds.example/acme/',
    entry: { kind: 'software', component: 'agent' },
    deadline: AT,
  },
  [SUBJECTS.auditAction]: {
    action: 'feed-sync-requested',
    actor: { type: 'token', name: 'ci', role: 'operator' },
    target: 'sync_0123456789abcdef01234567',
    outcome: 'accepted',
    at: AT,
  },
  [SUBJECTS.fleetReported]: {
    report: {
      id: 'pc-1',
      role: 'agent',
      platform: 'linux-x86_64',
      version: '20.0.1-12345',
      relayGroup: 'default',
      securityUpdates: { 'firewall-rules': '26-058' },
      seenAt: AT,
    },
    receivedAt: AT,
  },
  [SUBJECTS.relayed]: {
    updateId: UPDATE_ID,
    relayId: 'relay-a',
    relayGroup: 'site-a',
    sha256: SHA,
    relayedAt: AT,
  },
  [SUBJECTS.relayFailed]: {
    updateId: UPDATE_ID,
    relayId: 'relay-a',
    relayGroup: 'site-a',
    code: 'signature-invalid',
    reason: 'the CMS signature does not verify',
    attempt: 1,
    failedAt: AT,
  },
  [SUBJECTS.withdrawn]: {
    updateId: UPDATE_ID,
    code: 'stored-digest-mismatch',
    reason: 'the stored bytes hash to another digest',
    expectedSha256: SHA,
    computedSha256: 'f'.repeat(64),
    withdrawnAt: AT,
  },
  [SUBJECTS.rolloutChanged]: {
    rolloutId: `rol_${'a'.repeat(24)}`,
    revision: 1,
    change: 'created',
    state: 'waiting-for-relays',
    wave: 0,
    updateId: UPDATE_ID,
    at: AT,
  },
};

const options = {
  id: `${UPDATE_ID}:x`,
  source: '/services/test',
  subject: UPDATE_ID,
  time: new Date(AT),
};

/** A serialised event, as it travels: a plain JSON object. */
const wire = <S extends Subject>(subject: S): Record<string, unknown> =>
  JSON.parse(JSON.stringify(buildEvent(subject, SAMPLES[subject], options))) as Record<
    string,
    unknown
  >;

const violation = (fn: () => unknown): ContractViolation => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ContractViolation) return error;
    throw error;
  }
  throw new Error('expected a ContractViolation');
};

describe('buildEvent / parseEvent', () => {
  it('has a sample for every subject', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...ALL_SUBJECTS].sort());
  });

  it.each([...ALL_SUBJECTS])('round-trips %s through JSON', (subject) => {
    const event = buildEvent(subject, SAMPLES[subject], options);
    expect(event).toEqual({
      specversion: '1.0',
      id: options.id,
      source: options.source,
      type: `io.signed-update-pipeline.${subject}`,
      subject: UPDATE_ID,
      time: AT,
      datacontenttype: 'application/json',
      data: SAMPLES[subject],
    });
    const parsed: CloudEvent = parseEvent(subject, JSON.parse(JSON.stringify(event)));
    expect(parsed).toEqual(event);
  });

  it('leaves out subject when none is given and stamps the current time by default', () => {
    const before = Date.now();
    const event = buildEvent(SUBJECTS.alertResolved, SAMPLES[SUBJECTS.alertResolved], {
      id: 'alert-1:resolved',
      source: '/services/alerting',
    });
    expect(event).not.toHaveProperty('subject');
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before);
    expect(parseEvent(SUBJECTS.alertResolved, JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('refuses to build an event whose data breaks the contract', () => {
    const bad = { ...SAMPLES[SUBJECTS.imported], importedAt: 'yesterday' };
    const error = violation(() => buildEvent(SUBJECTS.imported, bad, options));
    expect(error.subject).toBe(SUBJECTS.imported);
    expect(error.issues).toEqual([expect.stringMatching(/^importedAt: /)]);
    expect(error.message).toMatch(
      /^event on updates\.v1\.imported breaks its contract: importedAt: /,
    );
    expect(error.name).toBe('ContractViolation');
  });

  it('refuses an event of another subject (wrong type)', () => {
    const raw = wire(SUBJECTS.published);
    const error = violation(() => parseEvent(SUBJECTS.imported, raw));
    expect(error.issues).toEqual([
      'type: expected io.signed-update-pipeline.updates.v1.imported, got io.signed-update-pipeline.updates.v1.published',
    ]);
  });

  it('refuses a foreign type even with a matching payload', () => {
    const raw = { ...wire(SUBJECTS.imported), type: 'com.example.imported' };
    expect(violation(() => parseEvent(SUBJECTS.imported, raw)).issues[0]).toMatch(
      /^type: expected/,
    );
  });

  it('refuses a missing data field', () => {
    const raw = wire(SUBJECTS.imported);
    delete raw.data;
    expect(violation(() => parseEvent(SUBJECTS.imported, raw)).issues).toEqual([
      '(root): Required',
    ]);
  });

  it('refuses data missing a required field, naming the field', () => {
    const raw = wire(SUBJECTS.checksumVerified);
    delete (raw.data as Record<string, unknown>).computedSha256;
    expect(violation(() => parseEvent(SUBJECTS.checksumVerified, raw)).issues).toEqual([
      'computedSha256: Required',
    ]);
  });

  it('refuses data of the wrong shape deep down', () => {
    const raw = wire(SUBJECTS.imported);
    (raw.data as { update: { artifact: { sha256: string } } }).update.artifact.sha256 = 'nope';
    expect(violation(() => parseEvent(SUBJECTS.imported, raw)).issues).toEqual([
      'update.artifact.sha256: must be 64 lower-case hex characters (SHA-256)',
    ]);
  });

  it.each(['0.3', '1', 1, undefined])('refuses specversion %j', (specversion) => {
    const raw = { ...wire(SUBJECTS.imported), specversion };
    expect(violation(() => parseEvent(SUBJECTS.imported, raw)).issues).toEqual([
      expect.stringMatching(/^specversion: /),
    ]);
  });

  it.each([
    ['id', ''],
    ['id', 'x'.repeat(257)],
    ['id', undefined],
    ['source', ''],
    ['time', '2026-03-01 10:00'],
    ['time', undefined],
    ['datacontenttype', 'text/plain'],
    ['subject', 42],
  ])('refuses %s = %j', (field, value) => {
    const raw = { ...wire(SUBJECTS.imported), [field]: value };
    expect(violation(() => parseEvent(SUBJECTS.imported, raw)).issues).toEqual([
      expect.stringMatching(new RegExp(`^${field}: `)),
    ]);
  });

  it.each([null, 'event', 42, []])('refuses a body that is not an object: %j', (raw) => {
    expect(violation(() => parseEvent(SUBJECTS.imported, raw)).issues[0]).toMatch(/^\(root\): /);
  });

  it('accepts a time with an offset', () => {
    const raw = { ...wire(SUBJECTS.imported), time: '2026-03-01T11:00:00+01:00' };
    expect(parseEvent(SUBJECTS.imported, raw).time).toBe('2026-03-01T11:00:00+01:00');
  });

  it('validates data on its own', () => {
    expect(validateEventData(SUBJECTS.syncRequested, SAMPLES[SUBJECTS.syncRequested])).toEqual(
      SAMPLES[SUBJECTS.syncRequested],
    );
    expect(() => validateEventData(SUBJECTS.syncRequested, { syncId: 'sync_1' })).toThrow(
      ContractViolation,
    );
  });
});

describe('event helpers', () => {
  it('names event types after the subject', () => {
    expect(eventType(SUBJECTS.rejected)).toBe('io.signed-update-pipeline.updates.v1.rejected');
  });

  it('makes deterministic event ids', () => {
    expect(eventId(SUBJECTS.imported, UPDATE_ID)).toBe(`${UPDATE_ID}:updates.v1.imported`);
    expect(eventId(SUBJECTS.imported, UPDATE_ID)).toBe(eventId(SUBJECTS.imported, UPDATE_ID));
    expect(eventId(SUBJECTS.published, UPDATE_ID)).not.toBe(eventId(SUBJECTS.imported, UPDATE_ID));
  });

  it('knows its subjects', () => {
    for (const subject of ALL_SUBJECTS) expect(isSubject(subject)).toBe(true);
    expect(isSubject('updates.v1.unknown')).toBe(false);
    expect(isSubject('dlq.v1.checksum.updates.v1.imported')).toBe(false);
  });

  it('has a schema for every subject and a subject for every schema', () => {
    expect(Object.keys(EVENT_SCHEMAS).sort()).toEqual([...ALL_SUBJECTS].sort());
  });
});
