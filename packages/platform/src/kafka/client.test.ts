import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { kafkajsLogLevel, pinoLogCreator } from './client';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

const entry = (level: logLevel, message: string, extra: Record<string, unknown> = {}) => ({
  namespace: 'Consumer',
  level,
  label: 'X',
  log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message, ...extra },
});

describe('pinoLogCreator', () => {
  it('maps kafkajs levels onto pino, demoting chatty INFO to debug', async () => {
    const { logger, lines } = capture('debug');
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    log(entry(logLevel.ERROR, 'Crash', { groupId: 'g' }));
    log(entry(logLevel.WARN, 'The group is rebalancing'));
    log(entry(logLevel.INFO, 'Pausing fetching from 1 topics'));
    log(entry(logLevel.DEBUG, 'Request Fetch(key: 1, version: 11)'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'Crash'],
      [40, 'The group is rebalancing'],
      [20, 'Pausing fetching from 1 topics'],
      [20, 'Request Fetch(key: 1, version: 11)'],
    ]);
    expect(lines[0]?.kafkajs).toEqual({ namespace: 'Consumer', groupId: 'g' });
  });

  it('logs routine entries (idempotent-retries warning, rebalance heartbeat answers) at debug only', async () => {
    const { logger, lines } = capture('info');
    const log = pinoLogCreator(logger)(logLevel.WARN);
    log(entry(logLevel.WARN, 'Limiting retries for the idempotent producer may invalidate EoS guarantees'));
    log({
      ...entry(logLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)', {
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
      namespace: 'Connection',
    });
    log({
      ...entry(logLevel.ERROR, 'Response Produce(key: 0, version: 7)', { error: 'Broker not available' }),
      namespace: 'Connection',
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.msg)).toEqual(['Response Produce(key: 0, version: 7)']);
  });
});

describe('kafkajsLogLevel', () => {
  it('asks kafkajs for debug entries only when pino would keep them', () => {
    expect(kafkajsLogLevel(pino({ level: 'debug' }))).toBe(logLevel.DEBUG);
    expect(kafkajsLogLevel(pino({ level: 'info' }))).toBe(logLevel.WARN);
  });
});
