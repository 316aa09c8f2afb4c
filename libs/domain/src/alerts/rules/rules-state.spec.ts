import { fleetReport } from '../../fleet/report.fixture';
import { RulesState, ruleComputerOf, SYNC_OUTCOMES_KEPT } from './rules-state';
import { agent, software } from './test-fixtures';

describe('RulesState', () => {
  it('keeps each computer at the value its store holds now, and forgets a deleted key', () => {
    const state = new RulesState();
    state.setComputer('a1', agent('a1', '20.0.1-100'));
    state.setComputer('a1', agent('a1', '20.0.1-120'));
    state.setComputer('a2', agent('a2', '20.0.1-100'));
    state.setComputer('a2', undefined);
    expect(state.snapshot().computers).toEqual([agent('a1', '20.0.1-120')]);
  });

  it('applies each fact once, whichever of the load and the live feed brings it first', () => {
    const state = new RulesState();
    const update = software('20.1.0-200');
    state.addUpdate(update);
    state.addUpdate({ ...update, version: 'changed' });
    state.addWithdrawn(update.updateId, '2026-11-29T10:00:00.000Z');
    state.addWithdrawn(update.updateId, '2026-11-29T11:00:00.000Z');
    state.addRelayed(`${update.updateId}:r1`);
    state.addRelayed(`${update.updateId}:r1`);
    const snapshot = state.snapshot();
    expect(snapshot.updates).toEqual([{ ...update, withdrawnAt: '2026-11-29T10:00:00.000Z' }]);
    expect([...snapshot.relayed]).toEqual([`${update.updateId}:r1`]);
    expect(state.counts).toEqual({
      computers: 0,
      updates: 1,
      withdrawn: 1,
      relayed: 1,
      syncs: 0,
    });
  });

  it('keeps the newest scheduled sync outcomes of each feed, each once', () => {
    const state = new RulesState();
    const at = (i: number) => new Date(Date.UTC(2026, 10, 1, 0, i)).toISOString();
    for (let i = 0; i < SYNC_OUTCOMES_KEPT + 5; i++) {
      const outcome = {
        syncId: `sync_${i}`,
        url: 'https://feeds.example/a/',
        state: 'failed' as const,
        finishedAt: at(i),
      };
      state.addSyncOutcome(outcome);
      state.addSyncOutcome(outcome);
    }
    state.addSyncOutcome({
      syncId: 'sync_b',
      url: 'https://feeds.example/b/',
      state: 'completed',
      finishedAt: at(0),
    });
    const syncs = state.snapshot().syncs ?? [];
    expect(syncs).toHaveLength(SYNC_OUTCOMES_KEPT + 1);
    expect(syncs.some((o) => o.syncId === 'sync_4')).toBe(false);
    expect(syncs.some((o) => o.syncId === 'sync_5')).toBe(true);
  });

  it('hands out a snapshot later changes do not touch', () => {
    const state = new RulesState();
    state.setComputer('a1', agent('a1', '20.0.1-100'));
    const before = state.snapshot();
    state.setComputer('a2', agent('a2', '20.0.1-100'));
    state.addRelayed('u:r');
    expect(before.computers).toHaveLength(1);
    expect(before.relayed.size).toBe(0);
  });

  it('keeps what the rules read of a report, with the seen time normalised', () => {
    const report = fleetReport({
      id: 'relay-1',
      role: 'relay',
      seenAt: '2026-11-29T10:00:00+01:00',
      relay: {
        url: 'https://relay-1.example/v1',
        holds: ['a'.repeat(64)],
        merkleRoot: 'b'.repeat(64),
        cacheBytes: 10,
        cacheMaxBytes: 100,
      },
    });
    expect(ruleComputerOf(report)).toEqual({
      id: 'relay-1',
      role: 'relay',
      platform: report.platform,
      version: report.version,
      relayGroup: report.relayGroup,
      securityUpdates: report.securityUpdates,
      seenAt: '2026-11-29T09:00:00.000Z',
      relay: { holds: ['a'.repeat(64)], merkleRoot: 'b'.repeat(64) },
    });
  });
});
