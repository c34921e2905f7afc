import { RAW_TOPICS } from '@dispatch/contracts';
import {
  commitGroupAtEnd,
  deleteGroups,
  eventually,
  requireRunningServices,
  restartService,
  restartServiceWithEnv,
  type ServiceName,
  serviceUrl,
  tokenFor,
} from '@dispatch/testkit';
import {
  admin,
  createItem,
  expectStatus,
  FAR_FROM_DEPOT_ADDRESS,
  http,
  orderBody,
  readOrder,
  uniqueId,
} from './support/api';
import {
  type CollectedSpan,
  dbSystemOf,
  describeSpans,
  newTraceContext,
  type OtlpCollector,
  startOtlpCollector,
} from './support/tracing';

/**
 * One order is one trace across all five services (docs/tracing.md): the POST's server span in
 * order-service, then a consumer span (`<topic> process`) per consumed event in every service,
 * the trace context travelling in the Kafka headers the outbox stores, with pg, ioredis and
 * cassandra-driver spans under them.
 *
 * How the stack is traced for the length of the test, and why:
 * - The stack's own instances are restarted with the OTEL_* variables (`pnpm stack restart`), rather
 *   than traced instances started beside them. The saga's topics are fixed (raw.*), so an untraced
 *   instance of a service would handle this order's events as well, and re-emit the next event
 *   WITHOUT a traceparent; a traced instance that met that copy first would start a new trace for
 *   the rest of the saga. With one instance per service, the traced one, there is one chain.
 * - Each restarted service consumes in a fresh consumer group committed at the current end of the
 *   raw topics (KAFKA_GROUP_ID): it handles what is published from now on, not whatever backlog the
 *   stack's group has (a slow or stuck partition there would hold this order up). Same databases:
 *   when the stack's groups come back afterwards and read the same events, the inbox makes them no-ops.
 */
const TRACED: ServiceName[] = [
  'query-api',
  'order-service',
  'payment-service',
  'inventory-service',
  'delivery-service',
];

/** The events whose processing each service must show in the order's trace (the happy path). */
/** (webhook-service is not traced here: it is not a step of the saga.) */
const PROCESSED_IN_TRACE: Partial<Record<ServiceName, string[]>> = {
  'inventory-service': ['order.created'],
  'payment-service': ['order.created', 'inventory.reserved'],
  'delivery-service': ['order.created', 'payment.authorized'],
  'order-service': ['inventory.reserved', 'payment.authorized', 'delivery.assigned'],
  'query-api': ['order.created', 'inventory.reserved', 'payment.authorized', 'delivery.assigned'],
};

const PG_SERVICES: ServiceName[] = [
  'order-service',
  'inventory-service',
  'payment-service',
  'delivery-service',
];

function tracingEnv(collectorUrl: string, groupId: string): Record<string, string> {
  return {
    KAFKA_GROUP_ID: groupId,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
    // The collector reads JSON; exporter-trace-otlp-http sends nothing else, this keeps it explicit.
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    // Export within 200 ms instead of 5 s, so the spans arrive soon after the saga moved on.
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
}

/** The consumer spans of `service` in `spans`, as "<event type>" strings. */
function processedEvents(spans: CollectedSpan[], service: ServiceName): string[] {
  return spans
    .filter((s) => s.service === service && s.kind === 'CONSUMER' && s.name.endsWith(' process'))
    .map((s) => String(s.attributes['dispatch.event_type']));
}

/**
 * Throws, naming what is missing, until the trace holds everything the test asserts: the saga's
 * consumer spans in every service, the database spans, and every parent of every span.
 */
function requireCompleteTrace(spans: CollectedSpan[], rootParentId: string): void {
  const missing: string[] = [];
  for (const [service, eventTypes] of Object.entries(PROCESSED_IN_TRACE)) {
    const processed = processedEvents(spans, service as ServiceName);
    for (const eventType of eventTypes) {
      if (!processed.includes(eventType)) missing.push(`${service} processing ${eventType}`);
    }
  }
  for (const service of PG_SERVICES) {
    if (!spans.some((s) => s.service === service && dbSystemOf(s) === 'postgresql'))
      missing.push(`a pg span of ${service}`);
  }
  if (!spans.some((s) => s.service === 'query-api' && dbSystemOf(s) === 'cassandra'))
    missing.push('a cassandra span of query-api');
  if (!spans.some((s) => s.service === 'payment-service' && dbSystemOf(s) === 'redis'))
    missing.push('an ioredis span of payment-service');
  const ids = new Set(spans.map((s) => s.spanId));
  for (const span of spans) {
    if (
      span.parentSpanId !== rootParentId &&
      (span.parentSpanId === undefined || !ids.has(span.parentSpanId))
    )
      missing.push(`the parent ${span.parentSpanId ?? '(none)'} of ${span.service} "${span.name}"`);
  }
  if (missing.length > 0) {
    throw new Error(
      `trace incomplete, missing:\n  ${missing.join('\n  ')}\nspans so far:\n${describeSpans(spans)}`,
    );
  }
}

describe('distributed tracing', () => {
  let collector: OtlpCollector | undefined;
  /** Services restarted (or being restarted) with tracing: afterAll puts each of them back. */
  const restarted: ServiceName[] = [];
  /** The fresh consumer groups the traced services use, deleted afterwards. */
  const groups: string[] = [];
  const runId = uniqueId('run').slice(4);
  let orderId: string | undefined;
  let driverId: string | undefined;

  beforeAll(async () => {
    await requireRunningServices(TRACED);
    collector = await startOtlpCollector();
    // One at a time: the launcher takes the stack lock for each restart anyway.
    for (const name of TRACED) {
      const groupId = `${name}-trace-${runId}`;
      groups.push(groupId);
      await commitGroupAtEnd(groupId, RAW_TOPICS);
      restarted.push(name);
      await restartServiceWithEnv(name, tracingEnv(collector.url, groupId));
    }
  }, 240_000);

  afterAll(async () => {
    const problems: string[] = [];
    const attempt = async (what: string, step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (err) {
        problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    // Leave no driver busy or extra driver available for later tests.
    if (orderId) {
      const id = orderId;
      await attempt(`complete the delivery of ${id}`, async () => {
        const answer = await http('POST', `${serviceUrl('delivery-service')}/api/deliveries/${id}/complete`, {
          token: await admin(),
        });
        if (answer.status !== 200 && answer.status !== 404 && answer.status !== 409)
          throw new Error(`HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
      });
    }
    if (driverId) {
      const id = driverId;
      await attempt(`take driver ${id} off duty`, () => putDriver(id, 'OFF_DUTY'));
    }
    // Back to the stack's own environment: tracing off.
    for (const name of restarted)
      await attempt(`restart ${name} without tracing`, () => restartService(name));
    await attempt('delete the test consumer groups', () => deleteGroups(groups));
    await collector?.close();
    if (problems.length > 0) throw new Error(`tracing test clean-up failed:\n${problems.join('\n')}`);
  }, 240_000);

  it('follows one order through all five services in one trace', async () => {
    if (!collector) throw new Error('the collector did not start');
    const item = await createItem({ available: 5, unitPrice: '9.90' });
    driverId = uniqueId('e2e-trace-driver');
    await putDriver(driverId, 'AVAILABLE');

    // The request carries a trace context of the test's own, so the test knows the trace id.
    const context = newTraceContext();
    const customerId = uniqueId('e2e-trace-customer');
    const created = await http<{ orderId: string }>('POST', `${serviceUrl('order-service')}/api/orders`, {
      token: await tokenFor(customerId),
      // Far away: the local stack's simulated fleet is still driving while the test waits for
      // DELIVERY_ASSIGNED and reads the trace; afterAll completes the delivery.
      body: orderBody(
        customerId,
        [{ itemId: item.itemId, quantity: 1, unitPrice: '9.90' }],
        'EUR',
        FAR_FROM_DEPOT_ADDRESS,
      ),
      headers: { traceparent: context.header },
    });
    expectStatus(created, 201, 'POST /api/orders');
    orderId = created.body.orderId;
    const id = orderId;

    await eventually(
      async () => {
        const view = await readOrder(id);
        if (view?.status !== 'DELIVERY_ASSIGNED')
          throw new Error(
            `order ${id} is ${view?.status ?? 'unknown to query-api'}, not DELIVERY_ASSIGNED yet`,
          );
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );

    const spans = await eventually(
      () => {
        const trace = collector?.trace(context.traceId) ?? [];
        requireCompleteTrace(trace, context.parentSpanId);
        return trace;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    // The POST's server span continues the caller's context and is the root of everything else.
    const server = spans.filter((s) => s.parentSpanId === context.parentSpanId);
    expect(server).toHaveLength(1);
    expect(server[0]).toMatchObject({ service: 'order-service', kind: 'SERVER' });
    expect(server[0]?.attributes['http.method'] ?? server[0]?.attributes['http.request.method']).toBe('POST');

    // All five services are in this one trace...
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(TRACED));
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([context.traceId]));

    // ...each with a Kafka consumer span per event of the saga it handled...
    for (const service of TRACED) {
      const consumerSpans = spans.filter((s) => s.service === service && s.kind === 'CONSUMER');
      expect(consumerSpans.every((s) => /^raw\.[a-z]+-events process$/.test(s.name))).toBe(true);
      expect(processedEvents(spans, service)).toEqual(
        expect.arrayContaining(PROCESSED_IN_TRACE[service] ?? []),
      );
    }

    // ...and the stores' client spans under them.
    for (const service of PG_SERVICES) {
      expect(spans.some((s) => s.service === service && dbSystemOf(s) === 'postgresql')).toBe(true);
    }
    expect(spans.some((s) => s.service === 'query-api' && dbSystemOf(s) === 'cassandra')).toBe(true);
    expect(spans.some((s) => s.service === 'payment-service' && dbSystemOf(s) === 'redis')).toBe(true);

    // Every span's parent is in the trace, except the root's, which is the test's own span.
    const ids = new Set(spans.map((s) => s.spanId));
    const orphans = spans.filter(
      (s) => s.parentSpanId !== context.parentSpanId && !(s.parentSpanId && ids.has(s.parentSpanId)),
    );
    expect(describeSpans(orphans)).toBe('');

    // Nothing the services sent was refused (e.g. protobuf instead of JSON).
    expect(collector.rejected()).toEqual([]);
  });
});

async function putDriver(driverId: string, status: 'AVAILABLE' | 'OFF_DUTY'): Promise<void> {
  const answer = await http('PUT', `${serviceUrl('delivery-service')}/api/drivers/${driverId}`, {
    token: await admin(),
    body: { name: `Trace test driver ${driverId}`, status },
  });
  if (answer.status !== 200 && answer.status !== 201) {
    throw new Error(`PUT driver ${driverId}: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
  }
}
