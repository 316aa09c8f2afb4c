import type { EventData, FleetReport, SUBJECTS } from '@sup/contracts';
import type { RuleComputer, RuleSyncOutcome, RuleUpdate, RulesSnapshot } from './snapshot';

/** Scheduled sync outcomes kept per feed URL: the newest; a failure streak longer reads as this. */
export const SYNC_OUTCOMES_KEPT = 100;

/** What the rules keep of a computer's latest report. */
export function ruleComputerOf(report: FleetReport): RuleComputer {
  return {
    id: report.id,
    role: report.role,
    platform: report.platform,
    version: report.version,
    relayGroup: report.relayGroup,
    securityUpdates: report.securityUpdates,
    seenAt: new Date(report.seenAt).toISOString(),
    ...(report.relay
      ? { relay: { holds: report.relay.holds, merkleRoot: report.relay.merkleRoot } }
      : {}),
  };
}

/** What the rules keep of a publication. */
export function ruleUpdateOf(data: EventData<typeof SUBJECTS.published>): RuleUpdate {
  return {
    updateId: data.update.updateId,
    kind: data.update.kind,
    component: data.update.component,
    ...(data.update.platform ? { platform: data.update.platform } : {}),
    version: data.update.version,
    sha256: data.update.artifact.sha256,
    publishedAt: data.publishedAt,
  };
}

/**
 * One replica's picture of everything the state rules read, kept in memory and changed as the
 * facts arrive, so an evaluation reads no database. Every change is idempotent and order-free
 * (a computer's value is the one its store holds now; publications, withdrawals and relay results
 * are facts that never change once true), so a fact delivered twice, or by the initial load and
 * the live feed both, leaves the same picture.
 */
export class RulesState {
  private readonly computers = new Map<string, RuleComputer>();
  private readonly updates = new Map<string, RuleUpdate>();
  private readonly withdrawn = new Map<string, string>();
  private readonly relayed = new Set<string>();
  private readonly syncs = new Map<string, Map<string, RuleSyncOutcome>>();

  /** The computer's current winning report, or `undefined` once its key is gone. */
  setComputer(id: string, computer: RuleComputer | undefined): void {
    if (computer) this.computers.set(id, computer);
    else this.computers.delete(id);
  }

  addUpdate(update: RuleUpdate): void {
    if (!this.updates.has(update.updateId)) this.updates.set(update.updateId, update);
  }

  /** The first withdrawal time stands: a redelivered event never moves it. */
  addWithdrawn(updateId: string, withdrawnAt: string): void {
    if (!this.withdrawn.has(updateId)) this.withdrawn.set(updateId, withdrawnAt);
  }

  /** `relayedKey(updateId, relayId)`. */
  addRelayed(key: string): void {
    this.relayed.add(key);
  }

  /** A scheduled sync's outcome; the oldest of a feed's go past SYNC_OUTCOMES_KEPT. */
  addSyncOutcome(outcome: RuleSyncOutcome): void {
    let feed = this.syncs.get(outcome.url);
    if (!feed) {
      feed = new Map<string, RuleSyncOutcome>();
      this.syncs.set(outcome.url, feed);
    }
    feed.set(outcome.syncId, outcome);
    if (feed.size <= SYNC_OUTCOMES_KEPT) return;
    const oldest = [...feed.values()].sort((a, b) => a.finishedAt.localeCompare(b.finishedAt))[0];
    if (oldest) feed.delete(oldest.syncId);
  }

  get counts(): {
    computers: number;
    updates: number;
    withdrawn: number;
    relayed: number;
    syncs: number;
  } {
    let syncs = 0;
    for (const feed of this.syncs.values()) syncs += feed.size;
    return {
      computers: this.computers.size,
      updates: this.updates.size,
      withdrawn: this.withdrawn.size,
      relayed: this.relayed.size,
      syncs,
    };
  }

  /**
   * The picture now. The computers and updates are copied into arrays (an evaluation must not see
   * a change half way); the relayed set is copied too, since the rules hold on to it.
   */
  snapshot(): RulesSnapshot {
    return {
      computers: [...this.computers.values()],
      updates: [...this.updates.values()].map((u) => {
        const at = this.withdrawn.get(u.updateId);
        return at ? { ...u, withdrawnAt: at } : u;
      }),
      relayed: new Set(this.relayed),
      syncs: [...this.syncs.values()].flatMap((feed) => [...feed.values()]),
    };
  }
}
