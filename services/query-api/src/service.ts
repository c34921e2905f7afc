import {
  builtOnce,
  cassandraHealthCheck,
  createCassandraClient,
  createLogger,
  createTokenVerifier,
  type ServiceContext,
  type ServiceDefinition,
  serviceSettings,
  withConsumerSpans,
} from '@dispatch/platform';
import { OrderChanges } from './changes';
import { cassandraConnection, type QueryApiConfig, SERVICE_NAME } from './config';
import { CONSUMED_TOPICS, createReadModelHandler, type ReadModelHandler } from './handlers';
import { OrderStreams } from './http/order-streams';
import { addQueryApiRoutes } from './http/routes';
import { StreamLeases } from './http/stream-leases';
import { createQueryMetrics, type QueryMetrics } from './metrics';
import { OrderQueries } from './queries';
import { prepareSchema } from './schema';
import { EndToEndClaims } from './store/end-to-end-claims';
import { GenerationStore, GenerationTracker } from './store/generations';
import { ReadModelStore } from './store/read-model-store';

/**
 * query-api's definition: the platform's, plus its read model, which its tests reach in-process
 * (the other services' tests read their databases instead).
 */
export interface QueryApiDefinition extends ServiceDefinition {
  /** This instance's view of the read-model generations, started by `prepare`. */
  generations: GenerationTracker;
  /** The live consumer's batch handler of a service started from this definition (its context). */
  readModelHandler(ctx: ServiceContext): ReadModelHandler;
}

/**
 * query-api as startService runs it: first (`prepare`) the schema (control keyspace, generation
 * row, read-model tables) and the generation tracker, then the live consumer of all four raw topics,
 * the HTTP routes and the order streams. PostgreSQL is not involved.
 */
export function queryApiService(config: QueryApiConfig): QueryApiDefinition {
  const logger = createLogger(SERVICE_NAME, config.LOG_LEVEL);
  const client = createCassandraClient(cassandraConnection(config));
  const generationStore = new GenerationStore(client, config.CASSANDRA_KEYSPACE);
  const generations = new GenerationTracker(generationStore, config.READ_MODEL_REFRESH_MS, logger);
  const store = new ReadModelStore(client);
  const claims = new EndToEndClaims(client, config.CASSANDRA_KEYSPACE);
  const changes = new OrderChanges();
  const queries = new OrderQueries(store, generations);
  const verifyToken = createTokenVerifier(config);

  const metricsOf = builtOnce((ctx): QueryMetrics => createQueryMetrics(ctx.metrics.registry));
  const handlerOf = builtOnce(
    (ctx): ReadModelHandler =>
      createReadModelHandler({
        store,
        generations,
        changes,
        metrics: metricsOf(ctx),
        claims,
        logger: ctx.logger,
        applyConcurrency: config.READ_MODEL_APPLY_CONCURRENCY,
      }),
  );
  const streamsOf = builtOnce(
    (ctx) =>
      new OrderStreams({
        maxStreams: config.SSE_MAX_STREAMS,
        ...(ctx.redis
          ? {
              leases: new StreamLeases({
                redis: ctx.redis,
                max: config.SSE_MAX_STREAMS_PER_CUSTOMER,
                logger: ctx.logger,
              }),
            }
          : {}),
        heartbeatMs: config.SSE_HEARTBEAT_MS,
        pollMs: config.SSE_POLL_MS,
        changes,
        load: (orderId) => queries.find(orderId),
        openGauge: metricsOf(ctx).sseStreamsOpen,
        logger: ctx.logger,
      }),
  );

  return {
    ...serviceSettings(SERVICE_NAME, config),
    prepare: async () => {
      await client.connect();
      await prepareSchema(config, generationStore, logger);
      await generations.start();
    },
    readinessChecks: () => [cassandraHealthCheck(client)],
    routes: (app, ctx) => addQueryApiRoutes(app, { queries, streams: streamsOf(ctx), verifyToken }),
    consumers: (ctx) => [
      {
        groupId: config.KAFKA_GROUP_ID,
        topics: CONSUMED_TOPICS,
        batchHandler: (consumed) =>
          withConsumerSpans(consumed, () => handlerOf(ctx)(consumed.map((c) => c.event))),
        retry: { maxAttempts: config.CONSUMER_MAX_ATTEMPTS },
      },
    ],
    // Stopped after the consumers and before HTTP closes: open streams would hold the server open.
    tasks: (ctx) => [
      { name: 'order streams', stop: async () => streamsOf(ctx).closeAll() },
      { name: 'generation tracker', stop: async () => generations.stop() },
    ],
    // Also after a failed start: the tracker may have started and the client connected.
    onClose: async () => {
      generations.stop();
      await client.shutdown();
    },
    generations,
    readModelHandler: handlerOf,
  };
}
