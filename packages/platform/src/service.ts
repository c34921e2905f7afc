import type { Express } from 'express';
import type { Pool } from 'pg';
import { pgConnection } from './config';
import type { HealthCheck } from './health';
import { pgHealthCheck } from './health';
import { createHttpApp, type HttpAppOptions } from './http';
import {
  type BatchHandler,
  type ConsumerLagTarget,
  createEventProducer,
  createKafka,
  DLQ_REASONS,
  type EventHandler,
  type EventProducer,
  type KafkaClient,
  type KafkaConnection,
  type KafkaEnvConfig,
  kafkaConnection,
  kafkaHealthCheck,
  type RunConsumerOptions,
  runConsumer,
  startConsumerLagCollector,
} from './kafka';
import { createLogger, type Logger } from './logger';
import { createMetrics, type PlatformMetrics } from './metrics';
import { OutboxRelay } from './outbox-relay';
import { createPool, ensureDatabase, type PgConfig, runMigrations } from './pg';
import { installSubjectRateLimits, type SubjectRateLimitSettings, SubjectRateLimits } from './rate-limit';
import { createRedis, type Redis, redisReady } from './redis';
import { createShutdown, type Shutdown } from './shutdown';

/** How long a starting service waits for Redis (its rate limits) before it serves without them. */
const REDIS_START_WAIT_MS = 3_000;

/** What a service's wiring code gets to build its routes, handlers and background tasks. */
export interface ServiceContext {
  name: string;
  logger: Logger;
  metrics: PlatformMetrics;
  kafka: KafkaClient;
  /** Connected; the outbox relay and the DLQ publish through it. */
  producer: EventProducer;
  /** Present when the service owns a PostgreSQL database. */
  pool?: Pool;
  /** Present when the service has rate limits: the Redis client they count in (fails fast while down). */
  redis?: Redis;
  shutdown: Shutdown;
}

export interface ConsumerDefinition {
  /** Default: the service name (one group per service, so instances share the partitions). */
  groupId?: string;
  topics: string[];
  /** Exactly one of handler and batchHandler (see pgBatchHandler for the usual database one). */
  handler?: EventHandler;
  batchHandler?: BatchHandler;
  /** The event types the handler acts on; others are acknowledged untouched. Default: all. */
  eventTypes?: readonly string[];
  retry?: RunConsumerOptions['retry'];
  partitionsConsumedConcurrently?: number;
}

/** A long-running task (scheduler, sweeper): started after the consumers, stopped before them. */
export interface BackgroundTask {
  name: string;
  stop(): Promise<void>;
}

export interface ServiceDefinition {
  name: string;
  port: number;
  host?: string;
  logLevel?: string;
  shutdownTimeoutMs?: number;
  bodyLimit?: string;
  /** Admission control of the HTTP routes (createHttpApp's defaults unless given; false turns it off). */
  admission?: HttpAppOptions['admission'];
  /**
   * The per-subject read and write limits of every authenticated route (applied by `authenticate`),
   * counted in Redis at `redisUrl`. Absent: no subject limits (and no Redis client).
   */
  rateLimits?: SubjectRateLimitSettings & { redisUrl: string };
  /** The cluster and the service's own principal (kafkaConnection(config)). */
  kafka: KafkaConnection;
  /** Partitions each consumer handles at once, unless its definition says otherwise (default 3). */
  consumerConcurrency?: number;
  /** The service's own database: created if missing, platform then service migrations applied at start. */
  postgres?: { connection: Omit<PgConfig, 'database'>; database: string; migrationsDir?: string };
  readinessChecks?: (ctx: ServiceContext) => HealthCheck[];
  routes?: (app: Express, ctx: ServiceContext) => void;
  consumers?: (ctx: ServiceContext) => ConsumerDefinition[];
  tasks?: (ctx: ServiceContext) => BackgroundTask[] | Promise<BackgroundTask[]>;
  /**
   * Runs first, before the database, Kafka and HTTP: what must be in place before the service serves or
   * consumes (query-api: its Cassandra schema and read-model generation). When the start fails after
   * prepare began, onClose runs before the error is thrown, so what prepare opened is closed.
   */
  prepare?: () => Promise<void>;
  /** Closes the service's own clients (Redis, Cassandra) last. */
  onClose?: () => Promise<void>;
  /** How often kafka_consumer_lag_messages is refreshed for the service's consumer groups. Default 15 s. */
  consumerLagIntervalMs?: number;
}

export interface RunningService {
  ctx: ServiceContext;
  /** The bound HTTP port (useful with port 0 in tests). */
  port: number;
  /** The graceful shutdown a SIGTERM runs. */
  stop(): Promise<boolean>;
}

/**
 * The one way a Dispatch service starts: its own preparation (prepare), database and migrations, Kafka producer and outbox
 * relay, HTTP (health, metrics, the service's routes), then consumers and tasks. Shutdown runs
 * in the reverse direction: readiness off, consumers stop and commit, tasks stop, HTTP closes,
 * the relay flushes what is committed, then producer and pool close.
 */
export async function startService(def: ServiceDefinition): Promise<RunningService> {
  if (!def.prepare) return start(def);
  try {
    await def.prepare();
    return await start(def);
  } catch (err) {
    await def.onClose?.().catch(() => undefined);
    throw err;
  }
}

async function start(def: ServiceDefinition): Promise<RunningService> {
  const logger = createLogger(def.name, def.logLevel);
  const metrics = createMetrics(def.name);
  const shutdown = createShutdown(logger, def.shutdownTimeoutMs ?? 20_000);
  // Connects while the database and Kafka start, so the first requests are already counted.
  const redis = def.rateLimits ? createRedis(def.rateLimits.redisUrl, logger, def.name) : undefined;

  let pool: Pool | undefined;
  if (def.postgres) {
    const { connection, database, migrationsDir } = def.postgres;
    await ensureDatabase({ ...connection, database: 'postgres' }, database);
    pool = createPool({ ...connection, database, applicationName: def.name }, logger);
    const applied = await runMigrations({ pool, logger, ...(migrationsDir ? { dir: migrationsDir } : {}) });
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  }

  const kafka = createKafka({ ...def.kafka, clientId: def.name, logger });
  const producer = createEventProducer(kafka, { logger });
  await producer.connect();
  const subjectLimits =
    def.rateLimits && redis
      ? new SubjectRateLimits({
          redis,
          service: def.name,
          settings: def.rateLimits,
          registry: metrics.registry,
        })
      : undefined;
  const ctx: ServiceContext = {
    name: def.name,
    logger,
    metrics,
    kafka,
    producer,
    shutdown,
    ...(pool ? { pool } : {}),
    ...(redis ? { redis } : {}),
  };

  let relay: OutboxRelay | undefined;
  if (pool) {
    relay = new OutboxRelay({
      pool,
      publisher: producer,
      logger,
      metrics,
      applicationName: `${def.name}-outbox`,
    });
    await relay.start();
  }

  const consumerDefs = def.consumers?.(ctx) ?? [];
  // Every dead-letter series exists from the start at 0, so increase() sees the first dead letter
  // (a series that appears already at 1 has no increase to show, and the DLQ alert would miss it).
  for (const c of consumerDefs) {
    for (const topic of c.topics) {
      for (const reason of DLQ_REASONS) metrics.dlqMessages.inc({ topic, reason }, 0);
      metrics.consumerBlockedPartitions.set({ topic }, 0);
    }
  }
  const consumers = consumerDefs.map((c) =>
    runConsumer({
      kafka,
      groupId: c.groupId ?? def.name,
      topics: c.topics,
      service: def.name,
      logger,
      metrics,
      publisher: producer,
      ...(c.handler ? { handler: c.handler } : {}),
      ...(c.batchHandler ? { batchHandler: c.batchHandler } : {}),
      ...(c.eventTypes ? { eventTypes: c.eventTypes } : {}),
      ...(c.retry ? { retry: c.retry } : {}),
      ...((c.partitionsConsumedConcurrently ?? def.consumerConcurrency)
        ? { partitionsConsumedConcurrently: c.partitionsConsumedConcurrently ?? def.consumerConcurrency }
        : {}),
    }),
  );

  const http = createHttpApp({
    service: def.name,
    logger,
    metrics,
    bodyLimit: def.bodyLimit ?? '64kb',
    ...(def.admission !== undefined ? { admission: def.admission } : {}),
    readinessChecks: [
      ...(pool ? [pgHealthCheck(pool)] : []),
      kafkaHealthCheck(kafka),
      ...consumers.map((c) => c.healthCheck),
      ...(def.readinessChecks?.(ctx) ?? []),
    ],
    routes: (app) => {
      if (subjectLimits) installSubjectRateLimits(app, subjectLimits);
      def.routes?.(app, ctx);
    },
  });
  if (redis && !(await redisReady(redis, REDIS_START_WAIT_MS))) {
    logger.warn(
      { waitedMs: REDIS_START_WAIT_MS },
      'redis not reachable at start: requests are not rate-limited until it is',
    );
  }
  const port = await http.listen(def.port, def.host);
  await Promise.all(consumers.map((c) => c.ready));
  const tasks = (await def.tasks?.(ctx)) ?? [];
  const consumerLag = consumerDefs.length
    ? startConsumerLagCollector({
        kafka,
        targets: lagTargets(consumerDefs, def.name),
        registry: metrics.registry,
        logger,
        ...(def.consumerLagIntervalMs ? { intervalMs: def.consumerLagIntervalMs } : {}),
      })
    : undefined;

  shutdown.register('readiness off', async () => http.markShuttingDown());
  if (consumerLag) shutdown.register('stop consumer lag', () => consumerLag.stop());
  shutdown.register('stop consumers', async () => void (await Promise.all(consumers.map((c) => c.stop()))));
  shutdown.register('stop tasks', async () => void (await Promise.all(tasks.map((t) => t.stop()))));
  shutdown.register('close http', () => http.close());
  if (relay) shutdown.register('flush outbox', () => relay.stop());
  shutdown.register('disconnect producer', () => producer.disconnect());
  if (pool) shutdown.register('close pool', () => pool.end());
  if (def.onClose) shutdown.register('close clients', def.onClose);
  if (redis)
    shutdown.register('close redis', async () => void (await redis.quit().catch(() => redis.disconnect())));

  logger.info({ port }, `${def.name} ready`);
  return { ctx, port, stop: () => shutdown.run('stop requested') };
}

/** One lag target per consumer group, with every topic its consumers read. */
function lagTargets(consumers: ConsumerDefinition[], serviceName: string): ConsumerLagTarget[] {
  const topicsByGroup = new Map<string, Set<string>>();
  for (const c of consumers) {
    const groupId = c.groupId ?? serviceName;
    const topics = topicsByGroup.get(groupId) ?? new Set<string>();
    for (const topic of c.topics) topics.add(topic);
    topicsByGroup.set(groupId, topics);
  }
  return [...topicsByGroup].map(([groupId, topics]) => ({ groupId, topics: [...topics] }));
}

/**
 * The settings every service reads from `baseEnv`, `kafkaEnv`, `kafkaGroupEnv`, `redisEnv` and
 * `rateLimitEnv`, in startService's shape.
 */
export function serviceSettings(
  name: string,
  config: KafkaEnvConfig & {
    PORT: number;
    LOG_LEVEL: string;
    SHUTDOWN_TIMEOUT_MS: number;
    CONSUMER_CONCURRENCY: number;
    REDIS_URL: string;
    RATE_LIMIT_WINDOW_MS: number;
    RATE_LIMIT_READ: number;
    RATE_LIMIT_WRITE: number;
  },
): Pick<
  ServiceDefinition,
  'name' | 'port' | 'logLevel' | 'shutdownTimeoutMs' | 'kafka' | 'consumerConcurrency' | 'rateLimits'
> {
  return {
    name,
    port: config.PORT,
    logLevel: config.LOG_LEVEL,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    kafka: kafkaConnection(config),
    consumerConcurrency: config.CONSUMER_CONCURRENCY,
    rateLimits: {
      redisUrl: config.REDIS_URL,
      windowMs: config.RATE_LIMIT_WINDOW_MS,
      read: config.RATE_LIMIT_READ,
      write: config.RATE_LIMIT_WRITE,
    },
  };
}

/** The service's own database from `pgEnv` + `pgDatabaseEnv`, with its migrations folder. */
export function serviceDatabase(
  config: Parameters<typeof pgConnection>[0] & { PGDATABASE: string },
  migrationsDir: string,
): NonNullable<ServiceDefinition['postgres']> {
  return { connection: pgConnection(config), database: config.PGDATABASE, migrationsDir };
}

/**
 * What a definition builds from the service context once, for whichever of its callbacks asks first:
 * startService calls routes, consumers and tasks with the same context, and they share what this
 * builds (metrics, say: a registry takes each name once).
 */
export function builtOnce<T>(build: (ctx: ServiceContext) => T): (ctx: ServiceContext) => T {
  let built: { value: T } | undefined;
  return (ctx) => {
    built ??= { value: build(ctx) };
    return built.value;
  };
}

/** The pool startService created for a service that owns a database. */
export function poolOf(ctx: ServiceContext): Pool {
  if (!ctx.pool)
    throw new Error(`${ctx.name} has no PostgreSQL pool: give startService a postgres definition`);
  return ctx.pool;
}
