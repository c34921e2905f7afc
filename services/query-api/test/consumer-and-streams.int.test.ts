import { setTimeout as sleep } from 'node:timers/promises';
import { type AnyEvent, foldOrder, topicForEventType } from '@dispatch/contracts';
import {
  prng,
  SAGA_FINAL_STATUS,
  SAGA_PATHS,
  sampleEvents,
  shuffledWithDuplicates,
} from '@dispatch/contracts/testing';
import { eventually, http, openSse, shortId } from '@dispatch/testkit';
import { Registry } from 'prom-client';
import { OrderChanges } from '../src/changes';
import type { OrderResponse } from '../src/domain/order-response';
import { createReadModelHandler, writesFor } from '../src/handlers';
import { createQueryMetrics } from '../src/metrics';
import { EndToEndClaims } from '../src/store/end-to-end-claims';
import { StaleGenerationError } from '../src/store/generations';
import { ReadModelStore } from '../src/store/read-model-store';
import {
  cassandraClient,
  expectMatchesFold,
  TEST_ISSUER,
  testConfig,
  testLogger,
  useLiveQueryApi,
} from './helpers';

describe('query-api live consumer and order streams (real Kafka and Cassandra)', () => {
  const config = testConfig({ SSE_HEARTBEAT_MS: '200', SSE_MAX_STREAMS: '3' });
  const live = useLiveQueryApi(config);

  const getOrder = (orderId: string, token = live.admin) =>
    http<OrderResponse>('GET', `${live.api.base}/api/orders/${encodeURIComponent(orderId)}`, { token });

  /** The sample lines of one metric on the service's /metrics. */
  const metric = async (name: string, label = ''): Promise<string> =>
    metricLines(await (await fetch(`${live.api.base}/metrics`)).text(), name, label);

  it('consumes envelopes from the four raw topics into the read model (every saga path)', async () => {
    const orders = SAGA_PATHS.map((path) => sampleEvents(path));
    live.tap.watch(orders.map((events) => events[0]?.orderId as string));
    // Produced in reverse: the read model must not depend on the saga's order.
    await live.producer.send(orders.flatMap((events) => [...events].reverse()));
    for (const events of orders) {
      const orderId = events[0]?.orderId as string;
      await eventually(
        async () => {
          // The running stack's services may add events of their own to a test order (they react to
          // what we publish), so the expectation is the fold of everything on the log for the order.
          const onLog = live.tap.eventsOf(orderId);
          expect(onLog.map((e) => e.eventId)).toEqual(expect.arrayContaining(events.map((e) => e.eventId)));
          const response = await getOrder(orderId);
          expect(response.status).toBe(200);
          expectMatchesFold(response.body, foldOrder(onLog), onLog);
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    }
    expect(await metric('read_model_events_applied_total', 'event_type="order.created"')).toMatch(
      / [1-9]\d*$/,
    );
    expect(await metric('read_model_apply_lag_seconds_count', 'event_type="order.created"')).toMatch(
      / [1-9]\d*$/,
    );
    // Every path ended in its terminal status, so each outcome was observed (at least these orders:
    // the raw topics are shared, other orders may add to the counts). Eventually: GET can see the
    // terminal row a moment before the consumer has claimed and observed it.
    for (const status of new Set(Object.values(SAGA_FINAL_STATUS))) {
      await eventually(async () =>
        expect(
          sampleValue(await metric('order_end_to_end_latency_seconds_count', `status="${status}"`)),
        ).toBeGreaterThanOrEqual(1),
      );
    }
  });

  it('observes order_end_to_end_latency_seconds once per order: when it turns terminal, or when order.created comes last', async () => {
    // The live consumer's handler on the service's keyspaces and claims, but with a registry of its
    // own: the service's counts also move with whatever else is on the shared raw topics, and this
    // test counts exactly. Its events are not published, so the service's consumer never sees them.
    const registry = new Registry();
    const client = cassandraClient();
    const applyBatch = createReadModelHandler({
      store: new ReadModelStore(client),
      generations: live.api.generations,
      changes: new OrderChanges(),
      metrics: createQueryMetrics(registry),
      claims: new EndToEndClaims(client, config.CASSANDRA_KEYSPACE),
      logger: testLogger,
      applyConcurrency: 16,
    });
    // One event per batch here, as the consumer hands over a batch of one.
    const apply = (event: AnyEvent) => applyBatch([event]);
    const rejectedCount = async () =>
      sampleValue(
        metricLines(
          await registry.metrics(),
          'order_end_to_end_latency_seconds_count',
          'status="INVENTORY_REJECTED"',
        ),
      );
    const applyAll = (events: AnyEvent[]) => Promise.all(events.map((e) => apply(e)));
    try {
      // Exposed at 0 before any order of that outcome.
      expect(await rejectedCount()).toBe(0);

      // In saga order: CREATED is not terminal; inventory.rejected makes it INVENTORY_REJECTED.
      const inOrder = sampleEvents('inventoryRejected');
      const [created, rejected] = inOrder as [AnyEvent, AnyEvent];
      await apply(created);
      expect(await rejectedCount()).toBe(0);
      await apply(rejected);
      expect(await rejectedCount()).toBe(1);
      // Redelivered, one by one and all at once: still one observation.
      for (const event of inOrder) await apply(event);
      await applyAll([...inOrder, ...inOrder, ...inOrder]);
      expect(await rejectedCount()).toBe(1);
      // ...and nothing under another status.
      expect(await endToEndCounts(registry)).toEqual({
        INVENTORY_REJECTED: 1,
        PAYMENT_FAILED: 0,
        DELIVERED: 0,
        DELIVERY_FAILED: 0,
        CANCELLED: 0,
      });

      // order.created last: terminal facts alone are not observed; order.created's apply is.
      const createdLast = sampleEvents('inventoryRejected');
      await apply(createdLast[1] as AnyEvent);
      expect(await rejectedCount()).toBe(1);
      await apply(createdLast[0] as AnyEvent);
      expect(await rejectedCount()).toBe(2);

      // Both events and their duplicates applied concurrently (batches of one, on one instance):
      // each apply may see the order decided, one claims it.
      const racing = sampleEvents('inventoryRejected');
      await applyAll([...racing, ...racing, ...racing, ...racing]);
      expect(await rejectedCount()).toBe(3);
      for (const events of [inOrder, createdLast, racing]) {
        const orderId = events[0]?.orderId as string;
        const claims = await client.execute(
          `SELECT status FROM ${config.CASSANDRA_KEYSPACE}.end_to_end_observations WHERE order_id = ?`,
          [orderId],
          { prepare: true },
        );
        expect(claims.rows.map((r) => r.get('status'))).toEqual(['INVENTORY_REJECTED']);
      }
    } finally {
      await client.shutdown();
    }
  });

  it('applies a consumed batch of several orders (with duplicates) as the fold says and observes each decided order once, also when the batch is applied again', async () => {
    // As above: the live consumer's batch handler on the service's keyspaces, a registry of its own,
    // events not published.
    const registry = new Registry();
    const client = cassandraClient();
    const deps = {
      store: new ReadModelStore(client),
      generations: live.api.generations,
      changes: new OrderChanges(),
      metrics: createQueryMetrics(registry),
      claims: new EndToEndClaims(client, config.CASSANDRA_KEYSPACE),
      logger: testLogger,
      applyConcurrency: 4,
    };
    const handler = createReadModelHandler(deps);
    // As the consumer would: a loaded machine can leave the 250 ms generation refresh behind.
    const applyBatch = async (batch: AnyEvent[]): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await handler(batch);
        } catch (err) {
          if (!(err instanceof StaleGenerationError) || attempt >= 20) throw err;
          await sleep(100);
        }
      }
    };
    const woken: string[] = [];
    deps.changes.notify = (orderId: string) => void woken.push(orderId);
    /** Each outcome counted `times` for every path's order. */
    const expected = (times: number) =>
      Object.fromEntries(
        ['INVENTORY_REJECTED', 'PAYMENT_FAILED', 'DELIVERED', 'DELIVERY_FAILED', 'CANCELLED'].map((s) => [
          s,
          times * SAGA_PATHS.filter((path) => SAGA_FINAL_STATUS[path] === s).length,
        ]),
      );
    const expectFolded = async (orders: AnyEvent[][]) => {
      for (const events of orders) {
        const response = await getOrder(events[0]?.orderId as string);
        expect(response.status).toBe(200);
        expectMatchesFold(response.body, foldOrder(events), events);
      }
    };
    try {
      // One batch with every path's order, their events interleaved, some of them twice.
      const orders = SAGA_PATHS.map((path) => sampleEvents(path));
      const batch = shuffledWithDuplicates(orders.flat(), prng(7));
      expect(new Set(batch.map((e) => e.eventId)).size).toBeLessThan(batch.length);
      await applyBatch(batch);
      await expectFolded(orders);
      expect(await endToEndCounts(registry)).toEqual(expected(1));
      // Each changed order's streams woken once.
      expect(woken.sort()).toEqual(orders.map((events) => events[0]?.orderId).sort());

      // The same batch again (a redelivery after a crash before the offset commit): nothing new.
      await applyBatch(batch);
      await expectFolded(orders);
      expect(await endToEndCounts(registry)).toEqual(expected(1));

      // Batches as the consumer hands them over, one per topic, all at once (lanes of one instance),
      // each of them twice: every order still counted once.
      const more = SAGA_PATHS.map((path) => sampleEvents(path));
      const byTopic = new Map<string, AnyEvent[]>();
      for (const event of more.flat()) {
        const topic = topicForEventType(event.eventType);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
      }
      await Promise.all([...byTopic.values(), ...byTopic.values()].map((b) => applyBatch(b)));
      await expectFolded(more);
      expect(await endToEndCounts(registry)).toEqual(expected(2));

      // One claim row per order, with its outcome.
      for (const events of [...orders, ...more]) {
        const claims = await client.execute(
          `SELECT status FROM ${config.CASSANDRA_KEYSPACE}.end_to_end_observations WHERE order_id = ?`,
          [events[0]?.orderId],
          { prepare: true },
        );
        expect(claims.rows.map((r) => r.get('status'))).toEqual([foldOrder(events).status]);
      }
    } finally {
      await client.shutdown();
    }
  });

  describe('GET /api/orders/{id}/events', () => {
    it('sends the view on connect, again on each change, and ends after the terminal status', async () => {
      // Applied through the live consumer's handler rather than published: published events would
      // set the running stack's services off, and their reactions would race the assertions.
      const customerId = `customer-${shortId()}`;
      const events = sampleEvents('happy', { customerId });
      const [created, reserved, ...rest] = events as [AnyEvent, AnyEvent, ...AnyEvent[]];
      await live.api.applyEvent(created);

      const stream = await openSse(
        `${live.api.base}/api/orders/${created.orderId}/events`,
        await TEST_ISSUER.sign(customerId),
      );
      try {
        expect(stream.status).toBe(200);
        expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const first = await stream.next();
        expect(first.event).toBe('order');
        expect(JSON.parse(first.data)).toMatchObject({ orderId: created.orderId, status: 'CREATED' });
        expect((JSON.parse(first.data) as OrderResponse).timeline).toHaveLength(1);
        await eventually(() => expect(stream.comments()).toBeGreaterThanOrEqual(1), { timeoutMs: 5_000 });

        // The handler notices the change in-process and the stream pushes the new view at once
        // (well before the 500 ms re-read).
        const appliedAt = Date.now();
        await live.api.applyEvent(reserved);
        const second = await stream.next(5_000);
        expect(Date.now() - appliedAt).toBeLessThan(450);
        expect(JSON.parse(second.data)).toMatchObject({ status: 'INVENTORY_RESERVED' });
        expect(Number(second.id)).toBeGreaterThan(Number(first.id));

        for (const event of rest) await live.api.applyEvent(event);
        const statuses: string[] = [];
        for (;;) {
          const frame = await stream.next(10_000);
          if (frame.event === 'end') {
            expect(JSON.parse(frame.data)).toEqual({ status: 'DELIVERED' });
            break;
          }
          statuses.push((JSON.parse(frame.data) as OrderResponse).status);
        }
        expect(statuses.at(-1)).toBe('DELIVERED');
        await stream.ended;
        await expect(stream.next(1_000)).rejects.toThrow(/ended/);
      } finally {
        stream.close();
      }
    });

    it('picks up changes applied elsewhere through its periodic re-read', async () => {
      const events = sampleEvents('paymentFailed');
      const [created, ...rest] = events as [AnyEvent, ...AnyEvent[]];
      await live.api.applyEvent(created);
      const stream = await openSse(`${live.api.base}/api/orders/${created.orderId}/events`, live.admin);
      const client = cassandraClient();
      try {
        expect(JSON.parse((await stream.next()).data)).toMatchObject({ status: 'CREATED' });
        // Written straight into Cassandra, as another instance would: no in-process notice.
        const store = new ReadModelStore(client);
        for (const event of rest) await store.apply(live.api.generations.readKeyspace(), writesFor(event));
        const frames = [];
        for (;;) {
          const frame = await stream.next(5_000);
          frames.push(frame);
          if (frame.event === 'end') break;
        }
        const lastView = JSON.parse(frames.at(-2)?.data ?? '{}') as OrderResponse;
        expect(lastView.status).toBe('PAYMENT_FAILED');
        expect(lastView.timeline).toHaveLength(events.length);
        expect(JSON.parse(frames.at(-1)?.data ?? '')).toEqual({ status: 'PAYMENT_FAILED' });
      } finally {
        stream.close();
        await client.shutdown();
      }
    });

    it('404 for an unknown or foreign order, 401 without a token', async () => {
      const events = sampleEvents('happy');
      await live.api.applyEvent(events[0] as AnyEvent);
      const orderId = events[0]?.orderId as string;
      const foreign = await fetch(`${live.api.base}/api/orders/${orderId}/events`, {
        headers: { authorization: `Bearer ${await TEST_ISSUER.sign(`customer-${shortId()}`)}` },
      });
      expect(foreign.status).toBe(404);
      expect(foreign.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const unknown = await fetch(`${live.api.base}/api/orders/order-${shortId()}/events`, {
        headers: { authorization: `Bearer ${live.admin}` },
      });
      expect(unknown.status).toBe(404);
      expect((await fetch(`${live.api.base}/api/orders/${orderId}/events`)).status).toBe(401);
    });

    it('caps concurrent streams and frees a slot when a client disconnects', async () => {
      const events = sampleEvents('happy');
      await live.api.applyEvent(events[0] as AnyEvent);
      const url = `${live.api.base}/api/orders/${events[0]?.orderId}/events`;
      const streams = await Promise.all([
        openSse(url, live.admin),
        openSse(url, live.admin),
        openSse(url, live.admin),
      ]);
      try {
        expect(streams.map((s) => s.status)).toEqual([200, 200, 200]);
        await eventually(async () => expect(await metric('sse_streams_open')).toMatch(/ 3$/m));

        const refused = await fetch(url, { headers: { authorization: `Bearer ${live.admin}` } });
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('5');
        expect(await refused.json()).toMatchObject({ status: 503 });

        streams[0]?.close();
        await eventually(async () => expect(await metric('sse_streams_open')).toMatch(/ 2$/m));
        const again = await openSse(url, live.admin);
        streams.push(again);
        expect(again.status).toBe(200);
      } finally {
        for (const s of streams) s.close();
      }
      await eventually(async () => expect(await metric('sse_streams_open')).toMatch(/ 0$/m));
    });
  });
});

/** The sample lines of one metric in exposition text, optionally only those carrying a label value (e.g. `event_type="x"`). */
function metricLines(text: string, name: string, label = ''): string {
  return text
    .split('\n')
    .filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label))
    .join('\n');
}

/** order_end_to_end_latency_seconds' count by status. */
async function endToEndCounts(registry: Registry): Promise<Record<string, number>> {
  return Object.fromEntries(
    metricLines(await registry.metrics(), 'order_end_to_end_latency_seconds_count')
      .split('\n')
      .map((line) => [/status="(\w+)"/.exec(line)?.[1], Number(line.split(' ').at(-1))]),
  );
}

/** The value of a single sample line; fails on none or several. */
function sampleValue(lines: string): number {
  const all = lines.split('\n').filter(Boolean);
  if (all.length !== 1) throw new Error(`expected one sample line, got ${all.length}: ${lines}`);
  return Number((all[0] as string).split(' ').at(-1));
}
