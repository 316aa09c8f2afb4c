import {
  buildEvent,
  eventId,
  SUBJECTS,
  type CloudEvent,
  type EventData,
  type Signer,
  type UpdateDescriptor,
  type UpdateState,
} from '@sup/contracts';
import { sampleDescriptor, SAMPLE_SIGNER } from '@sup/testing';
import { applyUpdateEvent, factsOf, type UpdateEventType, type UpdateView } from './update-view';

const UPDATE_ID = 'upd_0123456789abcdef01234567';
const SHA = 'c'.repeat(64);
const AT = '2026-03-01T10:00:00.000Z';

const descriptor: UpdateDescriptor = sampleDescriptor({ updateId: UPDATE_ID });

const signer: Signer = SAMPLE_SIGNER;

const DATA: { [S in UpdateEventType]: EventData<S> } = {
  [SUBJECTS.imported]: { update: descriptor, importedAt: AT },
  [SUBJECTS.checksumVerified]: {
    update: descriptor,
    computedSha256: SHA,
    computedSize: 10,
    verifiedAt: AT,
  },
  [SUBJECTS.validated]: {
    update: descriptor,
    signer,
    signatureAlgorithm: 'rsa-pkcs1-v1_5',
    digestAlgorithm: 'sha256',
    signedAttributes: true,
    validatedAt: AT,
  },
  [SUBJECTS.published]: { update: descriptor, publishedAt: AT },
  [SUBJECTS.rejected]: {
    updateId: UPDATE_ID,
    stage: 'policy',
    code: 'component-blocked',
    reason: 'agent updates are paused by policy',
    update: descriptor,
    rejectedAt: AT,
  },
};

/** Each event as its stage emits it: the pipeline order is also the order of their times. */
const STAGE: Record<UpdateEventType, { source: string; second: number; state: UpdateState }> = {
  [SUBJECTS.imported]: { source: '/services/ingest', second: 1, state: 'imported' },
  [SUBJECTS.checksumVerified]: {
    source: '/services/checksum',
    second: 2,
    state: 'checksum-verified',
  },
  [SUBJECTS.validated]: { source: '/services/signature', second: 3, state: 'validated' },
  [SUBJECTS.published]: { source: '/services/distribution', second: 4, state: 'published' },
  [SUBJECTS.rejected]: { source: '/services/policy', second: 5, state: 'rejected' },
};

function event<S extends UpdateEventType>(
  type: S,
  data: EventData<S> = DATA[type],
): CloudEvent<UpdateEventType> {
  return buildEvent(type, data, {
    id: eventId(type, UPDATE_ID),
    source: STAGE[type].source,
    subject: UPDATE_ID,
    time: new Date(Date.parse(AT) + STAGE[type].second * 1000),
  });
}

/** Ingest's rejection of an entry that never became a descriptor: only its labels, if any. */
const feedRejection = (entry: EventData<typeof SUBJECTS.rejected>['entry']) =>
  event(SUBJECTS.rejected, {
    updateId: UPDATE_ID,
    stage: 'feed',
    code: 'invalid-entry',
    reason: 'invalid feed entry',
    ...(entry ? { entry } : {}),
    rejectedAt: AT,
  });

const SUCCESS: UpdateEventType[] = [
  SUBJECTS.imported,
  SUBJECTS.checksumVerified,
  SUBJECTS.validated,
  SUBJECTS.published,
];

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

/** Applies events in order, one tick of the clock each; every one of them must change the view. */
function applyAll(types: readonly UpdateEventType[], start?: UpdateView): UpdateView {
  let view = start;
  types.forEach((type, i) => {
    const next = applyUpdateEvent(view, type, event(type), new Date(Date.parse(AT) + 60_000 * i));
    if (!next) throw new Error(`${type} changed nothing after ${types.slice(0, i).join(', ')}`);
    view = next;
  });
  if (!view) throw new Error('no events applied');
  return view;
}

const factsOfDescriptor = {
  id: UPDATE_ID,
  kind: 'software',
  component: 'agent',
  platform: 'linux-x86_64',
  version: '20.0.1-12345',
  sha256: SHA,
  size: 10,
};

describe('factsOf', () => {
  it.each(SUCCESS.filter((t) => t !== SUBJECTS.validated))(
    '%s tells what the descriptor says',
    (type) => {
      const { id, ...facts } = factsOfDescriptor;
      expect(factsOf(type, event(type))).toEqual({ updateId: id, facts });
    },
  );

  it('validated also tells the signer', () => {
    expect(factsOf(SUBJECTS.validated, event(SUBJECTS.validated)).facts.signer).toEqual(signer);
  });

  it('a rejection with a descriptor tells its facts and the rejection', () => {
    const { id, ...facts } = factsOfDescriptor;
    expect(factsOf(SUBJECTS.rejected, event(SUBJECTS.rejected))).toEqual({
      updateId: id,
      facts: {
        ...facts,
        rejection: {
          stage: 'policy',
          code: 'component-blocked',
          reason: 'agent updates are paused by policy',
        },
      },
    });
  });

  it('has no undefined fields: a security update has no platform key at all', () => {
    const security: UpdateDescriptor = {
      ...descriptor,
      kind: 'security',
      component: 'firewall-rules',
      version: '26-058',
    };
    delete security.platform;
    const { facts } = factsOf(
      SUBJECTS.imported,
      event(SUBJECTS.imported, { update: security, importedAt: AT }),
    );
    expect(facts).not.toHaveProperty('platform');
    expect(Object.values(facts)).not.toContain(undefined);
  });
});

describe('applyUpdateEvent', () => {
  it('builds the view from the first event, with its creation time', () => {
    const now = new Date('2026-03-01T12:00:00.000Z');
    expect(applyUpdateEvent(undefined, SUBJECTS.imported, event(SUBJECTS.imported), now)).toEqual({
      ...factsOfDescriptor,
      state: 'imported',
      rank: 1,
      history: [
        {
          eventId: eventId(SUBJECTS.imported, UPDATE_ID),
          type: 'io.signed-update-pipeline.updates.v1.imported',
          state: 'imported',
          time: '2026-03-01T10:00:01.000Z',
          source: '/services/ingest',
        },
      ],
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
  });

  it.each([...SUCCESS, SUBJECTS.rejected])('changes nothing when %s is applied again', (type) => {
    const view = applyAll(SUCCESS.includes(type) ? SUCCESS : [SUBJECTS.imported, type]);
    expect(applyUpdateEvent(view, type, event(type), new Date('2030-01-01'))).toBeUndefined();
  });

  it('moves the state forward only: an earlier stage arriving late adds history, not state', () => {
    const view = applyAll([SUBJECTS.published, SUBJECTS.imported]);
    expect(view.state).toBe('published');
    expect(view.rank).toBe(4);
    expect(view.history.map((h) => h.state)).toEqual(['imported', 'published']);
  });

  it('keeps createdAt from the first event and updatedAt from the last', () => {
    const view = applyAll([SUBJECTS.validated, SUBJECTS.imported]);
    expect(view.createdAt).toBe(AT);
    expect(view.updatedAt).toBe('2026-03-01T10:01:00.000Z');
  });

  it('orders history by time, then by event id for events of the same instant', () => {
    const same = new Date('2026-03-01T10:00:09.000Z');
    const at = (type: UpdateEventType, id: string) =>
      buildEvent<UpdateEventType>(type, DATA[type], { id, source: '/s', time: same });
    let view = applyUpdateEvent(undefined, SUBJECTS.published, at(SUBJECTS.published, 'b'), same)!;
    view = applyUpdateEvent(view, SUBJECTS.imported, at(SUBJECTS.imported, 'c'), same)!;
    view = applyUpdateEvent(view, SUBJECTS.validated, at(SUBJECTS.validated, 'a'), same)!;
    expect(view.history.map((h) => h.eventId)).toEqual(['a', 'b', 'c']);
  });

  it('does not change the view it was given', () => {
    const view = applyAll([SUBJECTS.imported]);
    const copy = structuredClone(view);
    applyUpdateEvent(view, SUBJECTS.validated, event(SUBJECTS.validated), new Date());
    expect(view).toEqual(copy);
  });

  it('names a feed-stage rejection without descriptor by the entry labels', () => {
    const rejected = feedRejection({
      kind: 'software',
      component: 'relay',
      platform: 'win-x86_64',
      version: 'v?',
    });
    const view = applyUpdateEvent(undefined, SUBJECTS.rejected, rejected, new Date(AT))!;
    expect(view).toMatchObject({
      id: UPDATE_ID,
      kind: 'software',
      component: 'relay',
      platform: 'win-x86_64',
      version: 'v?',
      state: 'rejected',
      rejection: { stage: 'feed', code: 'invalid-entry' },
    });
    expect(view).not.toHaveProperty('sha256');
    expect(view).not.toHaveProperty('size');
  });

  it("calls what a rejection without descriptor or labels does not tell 'unknown'", () => {
    const rejected = feedRejection(undefined);
    const view = applyUpdateEvent(undefined, SUBJECTS.rejected, rejected, new Date(AT))!;
    expect(view).toMatchObject({ kind: 'unknown', component: 'unknown', version: 'unknown' });
    expect(view).not.toHaveProperty('platform');
  });
});

describe('events in any order end in the same view', () => {
  // Each view is built with the same clock ticks, so even createdAt/updatedAt must agree.
  const expectedHistory = (types: readonly UpdateEventType[]) =>
    [...types]
      .sort((a, b) => STAGE[a].second - STAGE[b].second)
      .map((type): unknown =>
        expect.objectContaining({ eventId: eventId(type, UPDATE_ID), type: event(type).type }),
      );

  it('all 24 orders of the four success events: published, with the signer', () => {
    const orders = permutations(SUCCESS);
    expect(orders).toHaveLength(24);
    const views = orders.map((order) => applyAll(order));
    for (const view of views) expect(view).toEqual(views[0]);
    expect(views[0]).toMatchObject({ ...factsOfDescriptor, state: 'published', rank: 4, signer });
    expect(views[0]).not.toHaveProperty('rejection');
    expect(views[0].history).toEqual(expectedHistory(SUCCESS));
  });

  it('all 120 orders of the four and a rejection: rejected, terminal, with every fact merged', () => {
    const all = [...SUCCESS, SUBJECTS.rejected];
    const orders = permutations(all);
    expect(orders).toHaveLength(120);
    const views = orders.map((order) => applyAll(order));
    for (const view of views) expect(view).toEqual(views[0]);
    expect(views[0]).toMatchObject({
      ...factsOfDescriptor,
      state: 'rejected',
      rank: 9,
      signer,
      rejection: { stage: 'policy', code: 'component-blocked' },
    });
    expect(views[0].history).toEqual(expectedHistory(all));
    expect(views[0].history.map((h) => h.state)).toEqual(all.map((t) => STAGE[t].state));
  });

  it('every prefix of every order is already what those events say, and repeats change nothing', () => {
    for (const order of permutations([...SUCCESS, SUBJECTS.rejected])) {
      let view: UpdateView | undefined;
      for (const [i, type] of order.entries()) {
        view = applyAll([type], view);
        const seen = order.slice(0, i + 1);
        // The pipeline order is the rank order, and the rejection comes last in it.
        const top = seen.reduce((a, b) => (STAGE[a].second > STAGE[b].second ? a : b));
        expect(view.state).toBe(STAGE[top].state);
        for (const again of seen) {
          expect(applyUpdateEvent(view, again, event(again), new Date())).toBeUndefined();
        }
      }
    }
  });
});
