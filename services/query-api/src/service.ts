import type { AnyEvent } from '@dispatch/contracts';
import {
  cassandraHealthCheck,
  createCassandraClient,
  createLogger,
  createTokenVerifier,
  type RunningService,
  type ServiceContext,
  serviceSettings,
  startService,
  withConsumerSpans,
} from '@dispatch/platform';
import { OrderChanges } from './changes';
import { cassandraConnection, type QueryApiConfig, SERVICE_NAME } from './config';
import { CONSUMED_TOPICS, createReadModelHandler, type ReadModelHandler } from './handlers';
import { OrderStreams } from './http/order-streams';
import { mountRoutes } from './http/routes';
import { StreamLeases } from './http/stream-leases';
import { createQueryMetrics, type QueryMetrics } from './metrics';
import { OrderQueries } from './queries';
import { prepareSchema } from './schema';
import { EndToEndClaims } from './store/end-to-end-claims';
import { GenerationStore, GenerationTracker } from './store/generations';
import { ReadModelStore } from './store/read-model-store';

export interface QueryApi {
  service: RunningService;
  port: number;
  generations: GenerationTracker;
  queries: OrderQueries;
  streams: OrderStreams;
  /** The live consumer's batch handler (tests apply events through it directly, in any order). */
  applyEvents: ReadModelHandler;
  /** One event as a batch of one. */
  applyEvent(event: AnyEvent): Promise<void>;
  stop(): Promise<boolean>;
}

/**
 * Starts query-api: the schema (control keyspace, generation row, read-model tables), the
 * generation tracker, then the platform service with the live consumer of all four raw topics,
 * the HTTP routes and the order streams. PostgreSQL is not involved.
 */
export async function startQueryApi(config: QueryApiConfig): Promise<QueryApi> {
  const logger = createLogger(SERVICE_NAME, config.LOG_LEVEL);
  const client = createCassandraClient(cassandraConnection(config));
  let tracker: GenerationTracker | undefined;
  try {
    await client.connect();
    const generationStore = new GenerationStore(client, config.CASSANDRA_KEYSPACE);
    await prepareSchema(config, generationStore, logger);
    const generations = new GenerationTracker(generationStore, config.READ_MODEL_REFRESH_MS, logger);
    tracker = generations;
    await generations.start();

    const store = new ReadModelStore(client);
    const claims = new EndToEndClaims(client, config.CASSANDRA_KEYSPACE);
    const changes = new OrderChanges();
    const queries = new OrderQueries(store, generations);
    const verifyToken = createTokenVerifier(config);
    let metrics: QueryMetrics | undefined;
    const metricsOf = (ctx: ServiceContext) => {
      metrics ??= createQueryMetrics(ctx.metrics.registry);
      return metrics;
    };
    let handler: ReadModelHandler | undefined;
    const handlerOf = (ctx: ServiceContext) => {
      handler ??= createReadModelHandler({
        store,
        generations,
        changes,
        metrics: metricsOf(ctx),
        claims,
        logger: ctx.logger,
        applyConcurrency: config.READ_MODEL_APPLY_CONCURRENCY,
      });
      return handler;
    };
    let streams: OrderStreams | undefined;
    const streamsOf = (ctx: ServiceContext) => {
      streams ??= new OrderStreams({
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
      });
      return streams;
    };

    const service = await startService({
      ...serviceSettings(SERVICE_NAME, config),
      readinessChecks: () => [cassandraHealthCheck(client)],
      routes: (app, ctx) => mountRoutes(app, { queries, streams: streamsOf(ctx), verifyToken }),
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
      onClose: () => client.shutdown(),
    });
    return {
      service,
      port: service.port,
      generations,
      queries,
      streams: streamsOf(service.ctx),
      applyEvents: handlerOf(service.ctx),
      applyEvent: (event) => handlerOf(service.ctx)([event]),
      stop: () => service.stop(),
    };
  } catch (err) {
    tracker?.stop();
    await client.shutdown().catch(() => undefined);
    throw err;
  }
}
