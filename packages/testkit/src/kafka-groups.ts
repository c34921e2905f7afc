// kafkajs directly, as test helpers may: the platform keeps its client internal.
import { Kafka, logLevel } from 'kafkajs';
import { kafkajsConnection } from './kafka-auth';
import { stackAddresses } from './stack';

function testKafka(): Kafka {
  return new Kafka({
    ...kafkajsConnection(stackAddresses().kafka),
    clientId: 'dispatch-testkit',
    logLevel: logLevel.NOTHING,
  });
}

/**
 * Commits a new consumer group at the current end of `topics`, before any member joins it. A
 * service started with that group (KAFKA_GROUP_ID) then handles only what is published from now
 * on, instead of the topics' whole history (the platform starts a group without offsets at the
 * beginning). One short-lived member joins, seeks every partition to its end offset, which kafkajs
 * commits at once with autoCommit, and leaves before fetching anything.
 */
export async function commitGroupAtEnd(groupId: string, topics: readonly string[]): Promise<void> {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, { partition: number; high: string }[]>();
  try {
    for (const topic of topics) ends.set(topic, await admin.fetchTopicOffsets(topic));
    const { groups } = await admin.describeGroups([groupId]);
    const state = groups[0]?.state;
    if (state !== undefined && state !== 'Dead' && state !== 'Empty') {
      throw new Error(`consumer group ${groupId} is ${state}; commitGroupAtEnd is for a new group`);
    }
  } finally {
    await admin.disconnect();
  }

  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...topics] });
    await new Promise<void>((resolve, reject) => {
      // The seeks are applied (and committed) before the first fetch.
      consumer.on(consumer.events.FETCH, () => resolve());
      consumer.run({ eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
      for (const [topic, partitions] of ends) {
        consumer.pause([{ topic }]);
        for (const { partition, high } of partitions) consumer.seek({ topic, partition, offset: high });
      }
    });
  } finally {
    await consumer.disconnect();
  }

  // Checked, not assumed: a group left at the beginning would replay the topics' whole history.
  const committed = await committedOffsets(groupId, topics);
  for (const [topic, partitions] of ends) {
    for (const { partition, high } of partitions) {
      const offset = committed.get(topic)?.get(partition);
      if (offset === undefined || BigInt(offset) < BigInt(high)) {
        throw new Error(
          `group ${groupId} committed ${offset ?? 'nothing'} on ${topic}[${partition}], not ${high}`,
        );
      }
    }
  }
}

/** The group's committed offset per topic and partition (kafkajs answers -1 where it has none). */
export async function committedOffsets(
  groupId: string,
  topics: readonly string[],
): Promise<Map<string, Map<number, string>>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const result = new Map<string, Map<number, string>>();
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics: [...topics] })) {
      result.set(topic, new Map(partitions.map((p) => [p.partition, p.offset])));
    }
    return result;
  } finally {
    await admin.disconnect();
  }
}

/** Deletes consumer groups that have no members any more; groups that do not exist are fine. */
export async function deleteGroups(groupIds: readonly string[]): Promise<void> {
  if (groupIds.length === 0) return;
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const existing = groupIds.filter((id) => groups.some((g) => g.groupId === id));
    if (existing.length > 0) await admin.deleteGroups(existing);
  } finally {
    await admin.disconnect();
  }
}

/** A consumer group's state as the broker reports it ('Stable', 'PreparingRebalance', …) and its members. */
export async function groupState(groupId: string): Promise<{ state: string; members: number }> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const group = groups[0];
    return { state: group?.state ?? 'Dead', members: group?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

/** The consumer groups the broker knows whose id starts with `prefix`. */
export async function groupsStartingWith(prefix: string): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}
