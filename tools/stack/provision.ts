import {
  type CassandraCredentials,
  createCassandraClient,
  ensureDatabase,
  type KafkaConnection,
} from '@dispatch/platform';
import { ConfigResourceTypes, ConfigSource } from 'kafkajs';
import { grantServiceKeyspaces } from './cassandra-auth';
import type { StackConfig } from './config';
import { ProvisioningError } from './errors';
import { withKafkaAdmin } from './kafka-admin';
import { configsToAlter, planTopics, type TopicSpec } from './topics';

/**
 * Creates what the services expect to exist: the PostgreSQL databases, the Cassandra
 * keyspace and the Kafka topics. Everything is "create if missing", so `up` can run any
 * number of times; a contradiction (topic with another partition count) fails loudly.
 */

/** Lower-case CQL identifiers: the keyspace name is put into a CREATE statement. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Creates each missing service database with the platform's `ensureDatabase` (the services do the same at start). */
export async function ensureDatabases(config: StackConfig['postgres']): Promise<string[]> {
  const admin = {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: 'postgres',
  };
  const created: string[] = [];
  for (const name of config.databases) {
    if (await ensureDatabase(admin, name)) created.push(name);
  }
  return created;
}

/** Replication for the query keyspace: SimpleStrategy RF 1 on the local node, NTS elsewhere. */
export function keyspaceReplication(
  config: StackConfig['cassandra'],
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (config.local) return "{'class': 'SimpleStrategy', 'replication_factor': 1}";
  const rf = Number(env.CASSANDRA_REPLICATION_FACTOR ?? '3');
  if (!Number.isInteger(rf) || rf <= 0) {
    throw new ProvisioningError(`CASSANDRA_REPLICATION_FACTOR must be a positive integer, got ${rf}`);
  }
  return `{'class': 'NetworkTopologyStrategy', '${config.localDc}': ${rf}}`;
}

/**
 * query-api's control keyspace and its first read-model generation, created as the launcher's role
 * (query-api's own role may not create keyspaces); with `grant` (the local Cassandra with
 * authentication) its role is then granted them and every later generation (cassandra-auth.ts).
 * Returns the grants made.
 */
export async function ensureKeyspace(
  config: StackConfig['cassandra'],
  credentials: CassandraCredentials | undefined,
  grant: boolean,
): Promise<string[]> {
  if (!IDENTIFIER.test(config.keyspace))
    throw new ProvisioningError(`bad keyspace name "${config.keyspace}"`);
  const client = createCassandraClient({
    contactPoints: config.contactPoints,
    localDataCenter: config.localDc,
    credentials,
  });
  await client.connect();
  try {
    for (const keyspace of [config.keyspace, `${config.keyspace}_g1`]) {
      await client.execute(
        `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${keyspaceReplication(config)}`,
      );
    }
    return grant ? await grantServiceKeyspaces(client) : [];
  } finally {
    await client.shutdown();
  }
}

export interface TopicsResult {
  created: string[];
  retentionFixed: string[];
}

export async function ensureTopics(
  config: StackConfig['kafka'],
  connection: KafkaConnection,
  wanted: TopicSpec[],
): Promise<TopicsResult> {
  return withKafkaAdmin(connection, async (admin) => {
    const names = new Set(await admin.listTopics());
    const present = wanted.filter((spec) => names.has(spec.name)).map((spec) => spec.name);
    const metadata =
      present.length > 0 ? await admin.fetchTopicMetadata({ topics: present }) : { topics: [] };
    const partitions = new Map(metadata.topics.map((topic) => [topic.name, topic.partitions.length]));
    const plan = planTopics(wanted, partitions);

    if (plan.mismatched.length > 0) {
      const lines = plan.mismatched.map(
        (m) => `  ${m.name}: has ${m.actual} partitions, expected ${m.wanted}`,
      );
      throw new ProvisioningError(
        `topics exist with a different partition count (KAFKA_PARTITIONS):\n${lines.join('\n')}\n` +
          'Repartitioning would break per-order ordering. Either set KAFKA_PARTITIONS to match, ' +
          'or delete the topics (locally: pnpm stack down && rm -rf .stack/data/kafka) and run up again.',
      );
    }

    if (plan.create.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: plan.create.map((spec) => ({
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: config.replicationFactor,
          configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        })),
      });
    }

    // Existing topics keep their data; only fix configs we rely on (e.g. unlimited retention on raw.*).
    const withConfigs = plan.existing.filter((spec) => Object.keys(spec.configs).length > 0);
    const retentionFixed: string[] = [];
    if (withConfigs.length > 0) {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: withConfigs.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.name })),
      });
      for (const spec of withConfigs) {
        const resource = described.resources.find((r) => r.resourceName === spec.name);
        const overrides = Object.fromEntries(
          (resource?.configEntries ?? [])
            .filter((entry) => entry.configSource === ConfigSource.TOPIC_CONFIG)
            .map((entry) => [entry.configName, entry.configValue]),
        );
        const next = configsToAlter(overrides, spec.configs);
        if (next === undefined) continue;
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: spec.name,
              configEntries: Object.entries(next).map(([name, value]) => ({ name, value })),
            },
          ],
        });
        retentionFixed.push(spec.name);
      }
    }
    return { created: plan.create.map((spec) => spec.name), retentionFixed };
  });
}
