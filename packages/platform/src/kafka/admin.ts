import type { HealthCheck } from '../health';
import { type KafkaClient, kafkajsOf } from './client';
import { TopicMismatchError } from './errors';

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Only applied when the topic is created, e.g. [{ name: 'retention.ms', value: '-1' }]. */
  configEntries?: { name: string; value: string }[];
}

/**
 * Creates the topics that do not exist yet, then checks every topic has the partition count of
 * its spec. Throws TopicMismatchError listing every mismatch: the partition count decides which
 * partition an orderId lands on, so running against a different count must not go unnoticed.
 * Safe to run concurrently from several processes. Returns the names it created.
 */
export async function ensureTopics(client: KafkaClient, specs: TopicSpec[]): Promise<string[]> {
  const names = specs.map((s) => s.topic);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) throw new Error(`ensureTopics: topic '${duplicate}' is listed twice`);
  for (const spec of specs) {
    if (!Number.isInteger(spec.numPartitions) || spec.numPartitions < 1) {
      throw new RangeError(`ensureTopics: ${spec.topic}: numPartitions must be an integer >= 1`);
    }
  }
  if (specs.length === 0) return [];

  const admin = kafkajsOf(client).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length > 0) {
      // Returns false (no throw) when another process created them first: the check below covers that.
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.numPartitions,
          replicationFactor: s.replicationFactor ?? -1,
          configEntries: s.configEntries ?? [],
        })),
      });
      client.logger.info({ topics: missing.map((s) => s.topic) }, 'kafka topics created');
    }

    const metadata = await admin.fetchTopicMetadata({ topics: names });
    const partitionsByTopic = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
    const problems = specs.flatMap((spec) => {
      const actual = partitionsByTopic.get(spec.topic);
      if (actual === undefined) return [`${spec.topic}: missing after creation`];
      if (actual !== spec.numPartitions) {
        return [`${spec.topic}: has ${actual} partitions, expected ${spec.numPartitions}`];
      }
      return [];
    });
    if (problems.length > 0) throw new TopicMismatchError(problems);
    return missing.map((s) => s.topic);
  } finally {
    await admin.disconnect();
  }
}

/** Ready when the cluster answers a metadata request (one short-lived admin connection per check). */
export function kafkaHealthCheck(client: KafkaClient, name = 'kafka'): HealthCheck {
  return {
    name,
    check: async () => {
      const admin = kafkajsOf(client).admin({ retry: { retries: 0 } });
      await admin.connect();
      try {
        await admin.describeCluster();
      } finally {
        await admin.disconnect();
      }
    },
  };
}
