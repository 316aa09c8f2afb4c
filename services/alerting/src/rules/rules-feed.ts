import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { parseEvent, SUBJECTS, type Subject } from '@sup/contracts';
import {
  relayedKey,
  ruleComputerOf,
  RulesState,
  ruleUpdateOf,
  type RulesSnapshot,
} from '@sup/domain';
import {
  followSubject,
  JetStreamConnection,
  nextSequence,
  type StoreWatch,
  type SubjectFollower,
  type VersionedStore,
} from '@sup/jetstream';
import { ROOT_LOGGER } from '@sup/service-kit';
import type { Logger } from 'pino';
import { RULES_STATE_STORE, type RuleComputerEntry } from './rule-computer-winners';
import { RulesRepository } from './rules.repository';

const STREAM = 'UPDATES';
const SYNCS_STREAM = 'SYNCS';
const KEY_PREFIX = 'computer.';
/** Between attempts to start the feed while NATS or the database is away. */
const RETRY_MS = 2_000;

/**
 * This replica's picture of what the state rules read, in memory (libs/domain RulesState), so an
 * evaluation reads no database:
 * - computers: a watch over the KV bucket `alert_rules_state`, where the durable `rules` claims
 *   each computer's latest report by compare-and-set. Every replica sees every key, though the
 *   durable gives each replica only part of the reports.
 * - publications, withdrawals and relay results: this replica's own ordered consumers over
 *   UPDATES, started at the stream's next sequence, and before that, what the rules' projection
 *   in MongoDB holds (UPDATES keeps 30 days; the projection keeps everything). The followers
 *   start first, so a fact stored during the load is seen by one or both (RulesState applies
 *   each once).
 * - scheduled feed syncs' outcomes: an ordered consumer over the whole of SYNCS.
 */
@Injectable()
export class RulesFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly state = new RulesState();
  private readonly listeners: (() => void)[] = [];
  private followers: SubjectFollower[] = [];
  private watch?: StoreWatch;
  private stopping = false;
  private starting?: Promise<void>;
  private markReady!: () => void;
  /** Resolves once the initial picture is complete (the load and every current computer). */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly connection: JetStreamConnection,
    private readonly repository: RulesRepository,
    @Inject(RULES_STATE_STORE) private readonly store: VersionedStore<RuleComputerEntry>,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // In the background: 100,000 computers take seconds, and the service is useful meanwhile.
    this.starting = this.startUntilDone();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starting;
    await Promise.all([...this.followers.map((f) => f.stop()), this.watch?.stop()]);
  }

  /** Called after every change (many times while loading: the listener debounces). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  snapshot(): RulesSnapshot {
    return this.state.snapshot();
  }

  private async startUntilDone(): Promise<void> {
    const t0 = performance.now();
    while (!this.stopping) {
      try {
        await this.start();
        this.logger.info(
          { ...this.state.counts, ms: Math.round(performance.now() - t0) },
          'rules snapshot loaded; following changes',
        );
        this.markReady();
        return;
      } catch (error) {
        this.logger.warn({ err: error, retryInMs: RETRY_MS }, 'rules snapshot: cannot start yet');
        await Promise.all(this.followers.map((f) => f.stop()));
        this.followers = [];
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  private async start(): Promise<void> {
    const from = await nextSequence(this.connection, STREAM);
    this.followers = [
      // Sync outcomes only matter for days (security-updates-stale), and SYNCS keeps 30: the
      // whole stream is the picture, with no database behind it.
      this.follow(SYNCS_STREAM, SUBJECTS.syncFinished, 1, (msg) => {
        const { data } = parseEvent(SUBJECTS.syncFinished, msg.json());
        if (!data.scheduled) return;
        this.state.addSyncOutcome({
          syncId: data.syncId,
          url: data.url,
          state: data.state,
          ...(data.reason ? { reason: data.reason } : {}),
          finishedAt: data.finishedAt,
        });
      }),
      this.follow(STREAM, SUBJECTS.published, from, (msg) => {
        this.state.addUpdate(ruleUpdateOf(parseEvent(SUBJECTS.published, msg.json()).data));
      }),
      this.follow(STREAM, SUBJECTS.withdrawn, from, (msg) => {
        const { data } = parseEvent(SUBJECTS.withdrawn, msg.json());
        this.state.addWithdrawn(data.updateId, data.withdrawnAt);
      }),
      this.follow(STREAM, SUBJECTS.relayed, from, (msg) => {
        const { data } = parseEvent(SUBJECTS.relayed, msg.json());
        this.state.addRelayed(relayedKey(data.updateId, data.relayId));
      }),
    ];
    // The watch and the load run together: the computers are most of the wait.
    this.watch ??= this.store.watch(
      `${KEY_PREFIX}>`,
      (key, entry) => {
        const id = key.slice(KEY_PREFIX.length);
        this.state.setComputer(id, entry && ruleComputerOf(entry.reported.report));
        this.changed();
      },
      (error) => this.logger.warn({ err: error }, 'rules snapshot: computer watch restarting'),
    );
    const catalog = await this.repository.loadCatalog();
    for (const u of catalog.updates) this.state.addUpdate(u);
    for (const w of catalog.withdrawn) this.state.addWithdrawn(w.updateId, w.withdrawnAt);
    for (const key of catalog.relayed) this.state.addRelayed(key);
    this.changed();
    await this.watch.ready;
  }

  private follow(
    stream: string,
    subject: Subject,
    from: number,
    apply: (msg: JsMsg) => void,
  ): SubjectFollower {
    return followSubject(
      this.connection,
      {
        stream,
        subject: `${subject}.>`,
        fromSeq: from,
        onError: (error) =>
          this.logger.warn({ err: error, subject }, 'rules snapshot: follower restarting'),
      },
      (msg) => {
        try {
          apply(msg);
          this.changed();
        } catch (error) {
          // A message that breaks the contract was dead-lettered by the durable; not ours to keep.
          this.logger.warn({ err: error, subject: msg.subject }, 'rules snapshot: message skipped');
        }
      },
    );
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
