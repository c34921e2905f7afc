import { setTimeout as sleep } from 'node:timers/promises';
import { RAW_TOPICS } from '@dispatch/contracts';
import {
  acceptEvent,
  backoffDelay,
  createCassandraClient,
  createKafka,
  type EndOffsets,
  fetchEndOffsets,
  grantServiceKeyspace,
  kafkaConnection,
  type Logger,
  type LogRecord,
  readTopicsUntil,
} from '@dispatch/platform';
import { forEachConcurrently } from '../concurrency';
import { cassandraConnection, type QueryApiConfig } from '../config';
import { writesFor } from '../handlers';
import { migrateControlKeyspace, migrateGenerationKeyspace } from '../schema';
import { GenerationStore } from '../store/generations';
import { ReadModelStore } from '../store/read-model-store';

/**
 * Rebuilds the read model from the log into a fresh generation and switches to it atomically.
 *
 *  1. reserve generation N (a lightweight transaction on the control row) and create keyspace
 *     `<keyspace>_g<N>` with the current migrations (as an operator role: live instances' role may
 *     not create keyspaces, so it is granted this one, REBUILD_GRANT_ROLE);
 *  2. mark N as building: from their next refresh on, live instances write every event they apply
 *     to N as well as to the active generation;
 *  3. wait three refresh periods, so every live instance has seen step 2 (an instance whose view
 *     is older than two periods refuses to write), then capture the raw topics' end offsets:
 *     every event past them reaches N through the live consumers;
 *  4. replay raw.* from offset 0 to those end offsets into N (platform's readTopicsUntil: a
 *     throwaway consumer group that never commits, so the live group's offsets are never touched);
 *  5. switch: one conditional write makes N active. The old generation's keyspace stays (for
 *     comparison or a manual rollback) until an operator drops it.
 *
 * Writes are idempotent and order-independent, so replay and live writes may interleave freely.
 */

export class RebuildError extends Error {
  override readonly name = 'RebuildError';
}

export interface RebuildOptions {
  config: QueryApiConfig;
  logger: Logger;
  /** Take over a generation whose rebuild died (still marked as building). */
  force?: boolean;
  /** Test seam: runs right after the end offsets were captured. */
  afterEndOffsets?: (ends: EndOffsets) => Promise<void>;
}

export interface RebuildReport {
  generation: number;
  keyspace: string;
  previousGeneration: number;
  previousKeyspace: string;
  /** Events written to the new generation by the replay. */
  applied: number;
  /** Records that are not valid envelopes (the live consumer dead-lettered them); skipped. */
  invalid: number;
  endOffsets: Record<string, Record<string, string>>;
  durationMs: number;
}

const APPLY_ATTEMPTS = 5;

export async function rebuildReadModel(opts: RebuildOptions): Promise<RebuildReport> {
  const { config, logger } = opts;
  const started = Date.now();
  const client = createCassandraClient(cassandraConnection(config));
  try {
    await client.connect();
    await migrateControlKeyspace(config, logger);
    const generations = new GenerationStore(client, config.CASSANDRA_KEYSPACE);
    const before = await generations.ensureInitialized();
    const takeOver = opts.force ? (before.building ?? undefined) : undefined;
    const { generation, replacing } = await generations.reserveGeneration(takeOver);
    const keyspace = generations.keyspaceOf(generation);
    logger.info({ generation, keyspace, active: before.active, replacing }, 'rebuild: generation reserved');

    try {
      await migrateGenerationKeyspace(config, keyspace, logger);
      // Before live instances hear of the generation: they write to it from their next refresh on.
      if (config.REBUILD_GRANT_ROLE !== undefined) {
        await grantServiceKeyspace(client, keyspace, config.REBUILD_GRANT_ROLE);
        logger.info(
          { keyspace, role: config.REBUILD_GRANT_ROLE },
          'rebuild: service role granted the keyspace',
        );
      }
      await generations.startBuilding(generation, replacing);
      const graceMs = 3 * config.READ_MODEL_REFRESH_MS;
      logger.info(
        { graceMs },
        'rebuild: waiting until every live instance also writes to the new generation',
      );
      await sleep(graceMs);

      const kafka = createKafka({ ...kafkaConnection(config), clientId: 'query-api-rebuild', logger });
      const ends = await fetchEndOffsets(kafka, [...RAW_TOPICS]);
      const endOffsets = Object.fromEntries(
        [...ends].map(([topic, partitions]) => [
          topic,
          Object.fromEntries([...partitions].map(([p, end]) => [String(p), end.toString()])),
        ]),
      );
      logger.info({ endOffsets }, 'rebuild: replaying raw topics up to these end offsets');
      await opts.afterEndOffsets?.(ends);

      const store = new ReadModelStore(client);
      let applied = 0;
      let invalid = 0;
      let lastReport = Date.now();
      const applyRecord = async (record: LogRecord) => {
        // The consumers' own rule: what they dead-letter (invalid, misplaced, from the future) is not folded.
        const accepted = acceptEvent(record.topic, record.value ?? Buffer.alloc(0), { nowMs: Date.now() });
        if (!accepted.ok) {
          invalid += 1;
          logger.warn(
            {
              topic: record.topic,
              partition: record.partition,
              offset: record.offset,
              reason: accepted.reason,
              error: accepted.error,
            },
            'rebuild: skipping a record the consumers refuse',
          );
          return;
        }
        const writes = writesFor(accepted.event);
        for (let attempt = 1; ; attempt++) {
          try {
            await store.apply(keyspace, writes);
            break;
          } catch (err) {
            if (attempt >= APPLY_ATTEMPTS) throw err;
            await sleep(backoffDelay(attempt, { initialDelayMs: 200, maxDelayMs: 5_000 }));
          }
        }
        applied += 1;
      };
      await readTopicsUntil(kafka, {
        ends,
        idleTimeoutMs: config.REBUILD_IDLE_TIMEOUT_MS,
        // The runbook names the group by this prefix.
        groupIdPrefix: 'query-api-rebuild',
        handle: async (records) => {
          await forEachConcurrently(records, config.REBUILD_APPLY_CONCURRENCY, applyRecord);
          if (Date.now() - lastReport > 5_000) {
            lastReport = Date.now();
            logger.info({ applied, invalid }, 'rebuild: progress');
          }
        },
      });

      const state = await generations.switchTo(generation);
      const report: RebuildReport = {
        generation,
        keyspace,
        previousGeneration: before.active,
        previousKeyspace: generations.keyspaceOf(state.previous ?? before.active),
        applied,
        invalid,
        endOffsets,
        durationMs: Date.now() - started,
      };
      logger.info(report, 'rebuild: switched to the new generation');
      return report;
    } catch (err) {
      const abandoned = await generations.abandon(generation).catch(() => false);
      const reason = err instanceof Error ? err.message : String(err);
      throw new RebuildError(
        `rebuild of generation ${generation} failed: ${reason}. ` +
          (abandoned ? 'Live instances stop writing to it; ' : '') +
          `generation ${before.active} stays active. Keyspace ${keyspace} is left for inspection ` +
          `(DROP KEYSPACE ${keyspace}; to remove it).`,
        { cause: err },
      );
    }
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}
