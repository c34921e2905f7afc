import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { foldOrder, RAW_TOPICS } from '@dispatch/contracts';
import { SAGA_PATHS, sampleEvents } from '@dispatch/contracts/testing';
import { committedOffsets, eventually, groupsStartingWith, http } from '@dispatch/testkit';
import type { OrderResponse } from '../src/domain/order-response';
import { rebuildReadModel } from '../src/rebuild/rebuild';
import { GenerationStore } from '../src/store/generations';
import { cassandraClient, expectMatchesFold, testConfig, testLogger, useLiveQueryApi } from './helpers';

const run = promisify(execFile);
const SERVICE_DIR = join(__dirname, '..');

/** A group's committed offsets by `topic|partition` (-1 where it has none). */
async function offsetsOf(groupId: string): Promise<Map<string, bigint>> {
  const offsets = new Map<string, bigint>();
  for (const [topic, partitions] of await committedOffsets(groupId, RAW_TOPICS)) {
    for (const [partition, offset] of partitions) offsets.set(`${topic}|${partition}`, BigInt(offset));
  }
  return offsets;
}

describe('rebuild (real Kafka and Cassandra)', () => {
  const config = testConfig();
  const live = useLiveQueryApi(config);

  const getOrder = (orderId: string) =>
    http<OrderResponse>('GET', `${live.api.base}/api/orders/${orderId}`, { token: live.admin });

  /** GET shows the fold of every event the log holds for the order (the stack's services may add some). */
  const expectConverged = (orderIds: string[]) =>
    eventually(
      async () => {
        for (const orderId of orderIds) {
          const onLog = live.tap.eventsOf(orderId);
          const response = await getOrder(orderId);
          expect(response.status).toBe(200);
          expectMatchesFold(response.body, foldOrder(onLog), onLog);
        }
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

  it('replays raw.* into a fresh generation, keeps events published meanwhile, and switches atomically', async () => {
    const before = SAGA_PATHS.map((path) => sampleEvents(path));
    const beforeIds = before.map((events) => events[0]?.orderId as string);
    live.tap.watch(beforeIds);
    await live.producer.send(before.flat());
    await expectConverged(beforeIds);
    expect(live.api.generations.readKeyspace()).toBe(`${config.CASSANDRA_KEYSPACE}_g1`);
    const liveOffsetsBefore = await offsetsOf(config.KAFKA_GROUP_ID);

    // Published after the end offsets were captured: the replay never sees them, so only the live
    // consumer's writes to the generation being built can bring them into it.
    const during = [sampleEvents('happy'), sampleEvents('cancelledBeforePayment')];
    const duringIds = during.map((events) => events[0]?.orderId as string);
    const report = await rebuildReadModel({
      config,
      logger: testLogger,
      afterEndOffsets: async () => {
        live.tap.watch(duringIds);
        await live.producer.send(during.flat());
        await expectConverged(duringIds);
      },
    });

    expect(report).toMatchObject({
      generation: 2,
      keyspace: `${config.CASSANDRA_KEYSPACE}_g2`,
      previousGeneration: 1,
      previousKeyspace: `${config.CASSANDRA_KEYSPACE}_g1`,
    });
    expect(report.applied).toBeGreaterThanOrEqual(before.flat().length);
    // The live instance reads the new generation after its next refresh.
    await eventually(() =>
      expect(live.api.generations.readKeyspace()).toBe(`${config.CASSANDRA_KEYSPACE}_g2`),
    );
    await expectConverged([...beforeIds, ...duringIds]);

    // And the new generation really holds them (not just the old one): read it directly.
    const client = cassandraClient();
    try {
      const rows = await Promise.all(
        [...beforeIds, ...duringIds].map((id) =>
          client.execute(`SELECT order_event_id FROM ${report.keyspace}.orders WHERE order_id = ?`, [id], {
            prepare: true,
          }),
        ),
      );
      expect(rows.map((r) => r.first()?.get('order_event_id'))).toEqual(
        [...before, ...during].map((events) => events[0]?.eventId),
      );
    } finally {
      await client.shutdown();
    }

    // The live group's committed offsets only moved forward; the replay's throwaway group is gone.
    const liveOffsetsAfter = await offsetsOf(config.KAFKA_GROUP_ID);
    for (const [partition, offset] of liveOffsetsBefore) {
      expect(liveOffsetsAfter.get(partition) ?? -1n).toBeGreaterThanOrEqual(offset);
    }
    expect(await groupsStartingWith('query-api-rebuild')).toEqual([]);

    // New events keep flowing into the new generation.
    const after = sampleEvents('paymentFailed');
    live.tap.watch([after[0]?.orderId as string]);
    await live.producer.send(after);
    await expectConverged([after[0]?.orderId as string]);
  });

  it('refuses to start while another rebuild is building, naming --force', async () => {
    const client = cassandraClient();
    try {
      const store = new GenerationStore(client, config.CASSANDRA_KEYSPACE);
      // Stop the live instance first, so it does not try to write to the keyspace-less generation.
      await live.api.stop();
      const { generation, replacing } = await store.reserveGeneration();
      await store.startBuilding(generation, replacing);
      const attempt = rebuildReadModel({ config, logger: testLogger });
      await expect(attempt).rejects.toThrow(/already being built.*--force/);
      expect(await store.abandon(generation)).toBe(true);
      expect((await store.read()).building).toBeNull();
    } finally {
      await client.shutdown();
    }
  });

  it('the command prints the generation state and refuses unknown arguments', async () => {
    const env = {
      ...process.env,
      CASSANDRA_KEYSPACE: config.CASSANDRA_KEYSPACE,
      ...(config.CASSANDRA_USERNAME && config.CASSANDRA_PASSWORD
        ? { CASSANDRA_USERNAME: config.CASSANDRA_USERNAME, CASSANDRA_PASSWORD: config.CASSANDRA_PASSWORD }
        : {}),
      LOG_LEVEL: 'silent',
    };
    const status = await run('pnpm', ['exec', 'tsx', 'src/cli/rebuild.ts', '--status'], {
      cwd: SERVICE_DIR,
      env,
    });
    expect(status.stdout).toMatch(new RegExp(`active\\s+2 \\(keyspace ${config.CASSANDRA_KEYSPACE}_g2\\)`));
    expect(status.stdout).toMatch(/building\s+-/);
    const bad = run('pnpm', ['exec', 'tsx', 'src/cli/rebuild.ts', '--bogus'], { cwd: SERVICE_DIR, env });
    await expect(bad).rejects.toMatchObject({
      code: 64,
      stderr: expect.stringContaining('unknown argument(s): --bogus'),
    });
  });
});
