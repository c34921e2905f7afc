import { type AnyEvent, TRACEPARENT_HEADER } from '@dispatch/contracts';
import { sampleEvents } from '@dispatch/contracts/testing';
import { eventually } from '@dispatch/testkit';
import { ensureTopics, type HandlerContext, TopicMismatchError } from '../src/kafka';
import { metricValue, TRACEPARENT, toMessage, useKafkaClients } from './helpers/consumer-scenario';
import { suffix } from './helpers/kafka';

interface Seen {
  event: AnyEvent;
  ctx: Omit<HandlerContext, 'logger'>;
}

/** Producing and consuming envelopes, and topic provisioning. */
describe('Kafka module against a real broker', () => {
  const k = useKafkaClients();
  const { consume, scenario } = k;
  const counterValue = metricValue;

  it('round-trips envelopes: what the consumer parses equals what was produced, in per-key order', async () => {
    const s = await scenario(3);
    const orders = [sampleEvents('happy'), sampleEvents('paymentFailed'), sampleEvents('deliveryFailed')];
    const published = orders.flat();
    const seen: Seen[] = [];
    const consumer = consume(s, async (event, { logger: _logger, ...ctx }) => {
      seen.push({ event, ctx });
    });
    await consumer.ready;

    await k.producer.publish(published.map((e) => toMessage(s.topic, e)));

    await eventually(() => expect(seen).toHaveLength(published.length));
    for (const original of published) {
      const received = seen.find((x) => x.event.eventId === original.eventId);
      expect(received?.event).toEqual(original);
      expect(received?.ctx.headers[TRACEPARENT_HEADER]).toBe(TRACEPARENT);
      expect(received?.ctx.topic).toBe(s.topic);
      expect(received?.ctx.attempt).toBe(1);
    }
    for (const events of orders) {
      const mine = seen.filter((x) => x.event.orderId === events[0]?.orderId);
      // Same key → same partition → handled in publish order.
      expect(mine.map((x) => x.event.eventId)).toEqual(events.map((e) => e.eventId));
      expect(new Set(mine.map((x) => x.ctx.partition)).size).toBe(1);
    }
    expect(await counterValue(s.metrics.eventsConsumed, { outcome: 'processed' })).toBe(published.length);
  });

  it('ensureTopics creates missing topics, is idempotent, and rejects a partition-count mismatch', async () => {
    const topic = `test.kafka.ensure.${suffix()}`;
    expect(await ensureTopics(k.kafka, [{ topic, numPartitions: 2 }])).toEqual([topic]);
    expect(await ensureTopics(k.kafka, [{ topic, numPartitions: 2 }])).toEqual([]);
    const mismatch = ensureTopics(k.kafka, [{ topic, numPartitions: 4 }]);
    await expect(mismatch).rejects.toBeInstanceOf(TopicMismatchError);
    await expect(mismatch).rejects.toThrow(`${topic}: has 2 partitions, expected 4`);
  });
});
