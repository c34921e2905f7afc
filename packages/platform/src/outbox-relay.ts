import { serializeEnvelope, stampProduced } from '@dispatch/contracts';
import pg, { type ClientConfig, type Pool } from 'pg';
import type { EventPublisher, OutgoingMessage } from './kafka/publisher';
import type { Logger } from './logger';
import type { PlatformMetrics } from './metrics';
import {
  claimUnsentBatch,
  deleteSentRows,
  OUTBOX_CHANNEL,
  type OutboxBacklog,
  readOutboxBacklog,
} from './outbox';
import { type PeriodicTask, startPeriodicTask } from './periodic-task';
import { pgErrorCode } from './pg';
import { WakeSignal } from './wake-signal';

/** Notification payload a relay sends when it gives up leadership, so a standby takes over at once. */
const LEADER_RELEASED = 'leader-released';

/**
 * Session-level advisory lock held by the one relay per database that publishes. Advisory locks are
 * scoped to the current database, so every service database has its own leader.
 */
export const OUTBOX_RELAY_LOCK_KEY = 4_242_011_000_002;

/** The publisher rejected a batch; its rows stay unsent and are retried. */
export class OutboxPublishError extends Error {
  constructor(
    readonly rows: number,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`publishing ${rows} outbox rows failed: ${reason}`, { cause });
    this.name = 'OutboxPublishError';
  }
}

export interface OutboxRelayOptions {
  pool: Pool;
  publisher: EventPublisher;
  logger: Logger;
  metrics?: Pick<PlatformMetrics, 'outboxBacklog' | 'outboxOldestAge' | 'outboxPublished'>;
  /** The relay's own session (LISTEN, leadership lock, batches). Default: the pool's settings. */
  connectionConfig?: ClientConfig;
  /** Rows per publish (default 100). */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives; also how often a standby retries leadership (default 1 s). */
  pollIntervalMs?: number;
  /** How long a NOTIFY waits before the pass starts, so commits close behind it share a batch (default 5 ms). */
  lingerMs?: number;
  /** First pause after a failure, doubled per failure (default 250 ms), up to maxBackoffMs (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Sent rows older than this are deleted (default 7 days). */
  retentionMs?: number;
  /** How often the leader deletes expired sent rows (default 10 min). */
  cleanupIntervalMs?: number;
  /** How often the backlog gauges are refreshed (default 5 s). */
  metricsIntervalMs?: number;
  lockKey?: number;
  /** application_name of the relay's session, visible in pg_stat_activity (default `outbox-relay`). */
  applicationName?: string;
}

/** How one pass of the relay loop ended. */
type PassOutcome =
  | { kind: 'drained' } // leader, published until nothing was left
  | { kind: 'standby' } // another instance holds the lock
  | { kind: 'failed'; error: unknown }
  | { kind: 'stopped' };

/**
 * Publishes committed outbox rows to Kafka and marks them sent.
 *
 * Ordering and concurrency, and why:
 * - Each batch is `WHERE sent_at IS NULL ORDER BY id LIMIT n`, never "id > last id". Ids are taken at
 *   insert but rows become visible at commit, so a row with a lower id can commit after a higher one;
 *   a high-water mark would skip it for good. Selecting by sent_at finds it on the next pass.
 * - Only one relay per database publishes: the one whose session holds a session-level advisory lock
 *   (the others are standbys retrying the lock each poll). We do NOT use FOR UPDATE SKIP LOCKED batches
 *   across several publishers: relay A could take rows 1..100 and relay B rows 101..200, and B could
 *   publish a later event of an order before A publishes its earlier one. With one publisher sending
 *   batches strictly one after another in id order, each order's events reach Kafka in id order, which
 *   for one order is its commit order (a service serialises writes per order, e.g. by locking the order
 *   row or through the inbox key, so a later event of an order gets a later id). If the leader dies its
 *   session ends, PostgreSQL frees the lock, and a standby takes over from the unsent rows.
 * - The batch is marked sent, published, then committed, in one transaction. A crash or failed publish
 *   before the commit leaves rows unsent and they are sent again (at least once; consumers dedupe with the inbox).
 *   The batch rows are also locked FOR UPDATE (waiting, not SKIP LOCKED): a second guard that would make
 *   any other publisher wait for this batch to commit and then find its rows sent, instead of sending
 *   them again or overtaking them.
 * - One dedicated session carries LISTEN, the lock and the batches, so "I hold the lock" and "my batch
 *   runs" can never refer to different connections. If it drops it is reopened with backoff.
 */
export class OutboxRelay {
  private readonly pool: Pool;
  private readonly publisher: EventPublisher;
  private readonly logger: Logger;
  private readonly metrics: OutboxRelayOptions['metrics'];
  private readonly connectionConfig: ClientConfig;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lingerMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly retentionMs: number;
  private readonly cleanupIntervalMs: number;
  private readonly metricsIntervalMs: number;
  private readonly lockKey: number;

  private session: pg.Client | undefined;
  private leader = false;
  private running = false;
  private stopRequested = false;
  /** Set when stop() ran out of time: end the drain after the batch in flight. */
  private aborted = false;
  private loopDone: Promise<void> | undefined;
  private consecutiveFailures = 0;

  private readonly wakeup = new WakeSignal();

  private housekeeping: PeriodicTask[] = [];

  constructor(opts: OutboxRelayOptions) {
    this.pool = opts.pool;
    this.publisher = opts.publisher;
    this.logger = opts.logger.child({ component: 'outbox-relay' });
    this.metrics = opts.metrics;
    this.connectionConfig = {
      ...(opts.connectionConfig ?? opts.pool.options),
      application_name: opts.applicationName ?? 'outbox-relay',
    };
    this.batchSize = opts.batchSize ?? 100;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1_000;
    this.lingerMs = opts.lingerMs ?? 5;
    this.initialBackoffMs = opts.initialBackoffMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.retentionMs = opts.retentionMs ?? 7 * 24 * 3600 * 1000;
    this.cleanupIntervalMs = opts.cleanupIntervalMs ?? 10 * 60 * 1000;
    this.metricsIntervalMs = opts.metricsIntervalMs ?? 5_000;
    this.lockKey = opts.lockKey ?? OUTBOX_RELAY_LOCK_KEY;
  }

  /** True while this instance holds the lock and is the one publishing. */
  get isLeader(): boolean {
    return this.leader;
  }

  /** Opens the relay's session (so a bad connection fails start) and starts the loop in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.stopRequested = false;
    this.aborted = false;
    await this.ensureSession();
    this.running = true;
    this.loopDone = this.loop();
    const { logger } = this;
    this.housekeeping = [
      startPeriodicTask({
        name: 'outbox relay metrics',
        intervalMs: this.metricsIntervalMs,
        logger,
        run: () => this.refreshMetrics(),
      }),
      startPeriodicTask({
        name: 'outbox relay cleanup',
        intervalMs: this.cleanupIntervalMs,
        logger,
        run: async () => {
          if (this.leader) await this.cleanup();
        },
      }),
    ];
  }

  /**
   * Finishes the batch in flight, publishes what is already committed, then gives up leadership and
   * closes the session. Bounded: after `timeoutMs` the drain stops after the current batch and the
   * session is closed regardless (anything unsent is left for the next leader).
   */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.running || !this.loopDone) return;
    const timeoutMs = opts.timeoutMs ?? 10_000;
    this.stopRequested = true;
    const housekeepingStopped = Promise.all(this.housekeeping.map((task) => task.stop()));
    this.wakeup.interrupt();
    const finished = await settlesWithin(this.loopDone, timeoutMs);
    if (!finished) {
      this.aborted = true;
      this.logger.warn({ timeoutMs }, 'outbox relay stop timed out; leaving the rest to the next leader');
    }
    await housekeepingStopped;
    await this.closeSession();
    this.running = false;
  }

  /** Updates the backlog gauges now (also done on a timer). */
  async refreshMetrics(): Promise<OutboxBacklog> {
    const backlog = await readOutboxBacklog(this.pool);
    this.metrics?.outboxBacklog.set(backlog.rows);
    this.metrics?.outboxOldestAge.set(backlog.oldestAgeSeconds);
    return backlog;
  }

  /** Deletes sent rows older than the retention, in chunks; returns how many. (Leader does it on a timer.) */
  async cleanup(): Promise<number> {
    const chunk = 5_000;
    let deleted = 0;
    for (;;) {
      const count = await deleteSentRows(this.pool, this.retentionMs, chunk);
      deleted += count;
      if (count < chunk || this.stopRequested) break;
    }
    if (deleted > 0) this.logger.info({ deleted }, 'deleted sent outbox rows past retention');
    return deleted;
  }

  private async loop(): Promise<void> {
    for (;;) {
      // A pass that starts after stop() was called is the final flush of what is already committed.
      const finalPass = this.stopRequested;
      const outcome = await this.pass();
      if (finalPass || this.aborted) break;
      if (this.stopRequested) continue;
      if (outcome.kind === 'failed') {
        await this.waitForWake(this.backoffMs(), false);
      } else if (await this.waitForWake(this.pollIntervalMs, true)) {
        // Woken by a commit: let the commits right behind it join the same batch (fewer, larger
        // publishes and relay transactions when busy, at the price of lingerMs per hop).
        if (this.lingerMs > 0) await this.waitForWake(this.lingerMs, false);
      }
    }
    await this.releaseLeadership();
  }

  /** Becomes leader if possible and, as leader, publishes until nothing is left. Never throws. */
  private async pass(): Promise<PassOutcome> {
    if (this.aborted) {
      // stop() gave up waiting and closed the session; do not open another.
      return { kind: 'stopped' };
    }
    // Anything committed before this point will be seen by the batches below.
    this.wakeup.clear();
    let outcome: PassOutcome;
    try {
      const session = await this.ensureSession();
      if (!this.leader) await this.tryLead(session);
      if (this.leader) {
        await this.drain(session);
        outcome = { kind: 'drained' };
      } else {
        outcome = { kind: 'standby' };
      }
      this.consecutiveFailures = 0;
    } catch (error) {
      this.consecutiveFailures += 1;
      this.logger.warn(
        { err: error, failures: this.consecutiveFailures },
        'outbox relay pass failed; will retry',
      );
      // A database error without SQLSTATE is a broken connection: start over with a fresh session.
      if (!(error instanceof OutboxPublishError) && pgErrorCode(error) === undefined)
        await this.closeSession();
      outcome = { kind: 'failed', error };
    }
    if (this.aborted && outcome.kind === 'drained') outcome = { kind: 'stopped' };
    return outcome;
  }

  private async drain(session: pg.Client): Promise<void> {
    for (;;) {
      const published = await this.publishBatch(session);
      if (published < this.batchSize || this.aborted) return;
    }
  }

  private async publishBatch(session: pg.Client): Promise<number> {
    await session.query('BEGIN');
    try {
      const rows = await claimUnsentBatch(session, this.batchSize);
      if (rows.length > 0) {
        const producedAt = new Date().toISOString();
        const messages: OutgoingMessage[] = rows.map((row) => ({
          topic: row.topic,
          key: row.message_key,
          // The payload column holds exactly what enqueue() wrote from a typed AnyEvent.
          value: serializeEnvelope(stampProduced(row.payload, producedAt)),
          headers: row.headers,
        }));
        try {
          await this.publisher.publish(messages);
        } catch (err) {
          throw new OutboxPublishError(rows.length, err);
        }
      }
      await session.query('COMMIT');
      if (rows.length > 0) this.metrics?.outboxPublished.inc(rows.length);
      return rows.length;
    } catch (err) {
      await session.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async tryLead(session: pg.Client): Promise<void> {
    const result = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      this.lockKey,
    ]);
    this.leader = result.rows[0]?.locked === true;
    if (this.leader) this.logger.info('outbox relay is the leader for this database');
  }

  /** Frees the lock and tells standbys, so one takes over without waiting for its next poll. */
  private async releaseLeadership(): Promise<void> {
    const session = this.session;
    if (!session || !this.leader) return;
    this.leader = false;
    try {
      await session.query('SELECT pg_advisory_unlock($1)', [this.lockKey]);
      await session.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, LEADER_RELEASED]);
      this.logger.info('outbox relay released leadership');
    } catch (err) {
      // Closing the session frees the lock anyway.
      this.logger.warn({ err }, 'could not release outbox relay lock cleanly');
    }
  }

  private async ensureSession(): Promise<pg.Client> {
    if (this.session) return this.session;
    const client = new pg.Client(this.connectionConfig);
    // Without an 'error' listener a dropped idle connection would crash the process.
    client.on('error', (err) => {
      this.logger.warn({ err }, 'outbox relay session failed');
      this.forgetSession(client);
    });
    client.on('end', () => this.forgetSession(client));
    client.on('notification', (msg) => {
      // Standbys ignore ordinary notifications (only the leader publishes); they retry on their poll.
      if (this.leader || msg.payload === LEADER_RELEASED) this.wakeup.wake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(OUTBOX_CHANNEL)}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.session = client;
    this.leader = false;
    return client;
  }

  /** The session is gone (and with it the lock); the next pass opens a new one. */
  private forgetSession(client: pg.Client): void {
    if (this.session !== client) return;
    if (this.leader) this.logger.warn('outbox relay lost its session and leadership');
    this.session = undefined;
    this.leader = false;
    this.wakeup.wake();
  }

  private async closeSession(): Promise<void> {
    const client = this.session;
    if (!client) return;
    this.forgetSession(client);
    await client.end().catch(() => undefined);
  }

  /** Waits `ms`; a NOTIFY (when `wakeable`) or stop() ends the wait early. True when a NOTIFY did. */
  private waitForWake(ms: number, wakeable: boolean): Promise<boolean> {
    if (this.stopRequested) return Promise.resolve(false);
    return this.wakeup.wait(ms, wakeable);
  }

  private backoffMs(): number {
    const exp = this.initialBackoffMs * 2 ** Math.min(this.consecutiveFailures - 1, 16);
    return Math.min(this.maxBackoffMs, exp) * (0.75 + Math.random() * 0.5);
  }
}

/** True if `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
