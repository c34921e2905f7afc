import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { type AnyEvent, createEvent } from '@dispatch/contracts';
import { sampleOrderCreatedPayload } from '@dispatch/contracts/testing';
import { stackAddresses } from '@dispatch/testkit';
import { createKafka, type KafkaClient } from '../../src/kafka';
import { createLogger, type Logger } from '../../src/logger';

/** Silent unless TEST_LOG_LEVEL is set (e.g. TEST_LOG_LEVEL=debug to see kafkajs' own logs). */
export function testLogger(name = 'kafka-test'): Logger {
  return createLogger(name, process.env.TEST_LOG_LEVEL ?? 'silent');
}

/** Fails (never skips) with a clear message when the broker is not listening. */
export async function assertKafkaReachable(
  brokers: string[] = stackAddresses().kafka.brokers,
): Promise<void> {
  const [first] = brokers;
  if (!first) throw new Error('KAFKA_BROKERS is empty');
  const [host, port] = splitHostPort(first);
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: 3_000 });
    const fail = (reason: string) => {
      socket.destroy();
      reject(
        new Error(
          `Kafka is not reachable at ${first} (${reason}). Start the local stack with 'pnpm stack up' or set KAFKA_BROKERS.`,
        ),
      );
    };
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => fail('timed out'));
    socket.once('error', (err) => fail(err.message));
  });
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

export function testKafka(logger: Logger = testLogger()): KafkaClient {
  return createKafka({
    ...stackAddresses().kafka,
    clientId: `platform-test-${suffix()}`,
    logger,
  });
}

/** A short random suffix for topic, group and service names, so tests never collide. */
export function suffix(): string {
  return randomUUID().slice(0, 8);
}

/** A promise the test resolves by hand, e.g. to hold a handler until an assertion has been made. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** An order.created for `orderId`, as order-service would publish it. */
export function orderCreated(orderId: string): AnyEvent {
  return createEvent({
    eventType: 'order.created',
    orderId,
    correlationId: orderId,
    producer: 'order-service',
    payload: sampleOrderCreatedPayload(orderId),
  });
}
