/**
 * Checks that kafkajs (2.2.4, the client every service uses) works against the running broker,
 * covering exactly the protocol calls our code makes. This is the evidence behind the Kafka
 * version pinned in infra/local/pom.xml (see docs/local-stack.md).
 *
 *   pnpm exec tsx tools/stack/kafkajs-compat.ts            # against KAFKA_BROKERS or 127.0.0.1:9092
 */
import { randomUUID } from 'node:crypto';
import { kafkajsConnection } from '@dispatch/testkit';
import { CompressionTypes, ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { withAdmin } from './kafka-admin';

const suffix = randomUUID().slice(0, 8);
// As the local admin principal (or KAFKA_SASL_* when set): the checks create topics and groups.
const kafka = new Kafka({
  clientId: `kafkajs-compat-${suffix}`,
  ...kafkajsConnection(),
  logLevel: logLevel.NOTHING,
});

type Check = { name: string; run: () => Promise<string> };

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const topic = `compat.${suffix}`;
const groupId = `compat-group-${suffix}`;

const checks: Check[] = [
  {
    name: 'ApiVersions + Metadata (admin.describeCluster)',
    run: () =>
      withAdmin(kafka, async (admin) => {
        const cluster = await admin.describeCluster();
        return `clusterId=${cluster.clusterId} brokers=${cluster.brokers.length} controller=${cluster.controller}`;
      }),
  },
  {
    name: 'CreateTopics with configs + DescribeConfigs',
    run: () =>
      withAdmin(kafka, async (admin) => {
        const created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic,
              numPartitions: 6,
              replicationFactor: 1,
              configEntries: [
                { name: 'retention.ms', value: '-1' },
                { name: 'cleanup.policy', value: 'delete' },
              ],
            },
          ],
        });
        assert(created, 'createTopics returned false (topic already existed?)');
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
        });
        const retention = described.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms');
        assert(retention?.configValue === '-1', `retention.ms is ${retention?.configValue}, expected -1`);
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = meta.topics[0]?.partitions.length;
        assert(partitions === 6, `topic has ${partitions} partitions, expected 6`);
        return 'topic created with 6 partitions, retention.ms=-1 read back';
      }),
  },
  {
    name: 'Idempotent producer, acks=all (Produce + InitProducerId), gzip batch',
    run: async () => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const messages = Array.from({ length: 60 }, (_, i) => ({
          key: `order-${i % 12}`,
          value: JSON.stringify({ i }),
          headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
        }));
        const results = await producer.send({ topic, acks: -1, messages });
        await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.GZIP,
          messages: [{ key: 'gz', value: 'compressed' }],
        });
        const usedPartitions = new Set(results.map((r) => r.partition));
        return `61 messages acked by ${usedPartitions.size} partitions`;
      } finally {
        await producer.disconnect();
      }
    },
  },
  {
    name: 'Consumer group join/sync/heartbeat, Fetch, OffsetCommit, OffsetFetch',
    run: async () => {
      const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen: string[] = [];
      let headerOk = false;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${seen.length}/61 messages within 30 s`)),
          30_000,
        );
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ topic: t, partition, message }) => {
            seen.push(message.value?.toString() ?? '');
            if (message.headers?.traceparent?.toString().startsWith('00-')) headerOk = true;
            await consumer.commitOffsets([
              { topic: t, partition, offset: (Number(message.offset) + 1).toString() },
            ]);
            if (seen.length === 61) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      try {
        await done;
      } finally {
        await consumer.disconnect();
      }
      assert(seen.includes('compressed'), 'gzip message not read back');
      assert(headerOk, 'headers not read back');
      return withAdmin(kafka, async (admin) => {
        const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
        const total = committed[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
        const latest = await admin.fetchTopicOffsets(topic);
        const end = latest.reduce((sum, p) => sum + Number(p.high), 0);
        assert(total === end, `committed offsets sum ${total}, log end sum ${end}`);
        const groups = await admin.describeGroups([groupId]);
        return `61 messages consumed, committed offsets = log end (${end}), group state ${groups.groups[0]?.state}`;
      });
    },
  },
  {
    name: 'Transactional producer (InitProducerId/AddPartitions/EndTxn)',
    run: async () => {
      const producer = kafka.producer({
        transactionalId: `compat-tx-${suffix}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      await producer.connect();
      try {
        const tx = await producer.transaction();
        await tx.send({ topic, messages: [{ key: 'tx', value: 'in-transaction' }] });
        await tx.commit();
        return 'transaction committed';
      } finally {
        await producer.disconnect();
      }
    },
  },
  {
    name: 'DeleteGroups + DeleteTopics',
    run: () =>
      withAdmin(kafka, async (admin) => {
        await admin.deleteGroups([groupId]);
        await admin.deleteTopics({ topics: [topic] });
        return 'scratch group and topic removed';
      }),
  },
];

async function main(): Promise<void> {
  console.log(`kafkajs compatibility check against ${kafkajsConnection().brokers.join(',')}`);
  let failed = 0;
  for (const check of checks) {
    try {
      const detail = await check.run();
      console.log(`PASS  ${check.name}: ${detail}`);
    } catch (err) {
      failed += 1;
      console.log(`FAIL  ${check.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failed > 0) {
    console.log(`${failed} check(s) failed`);
    process.exitCode = 1;
  } else {
    console.log('all checks passed');
  }
}

void main();
