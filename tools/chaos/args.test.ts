import { parseChaosArgs } from './args';

describe('parseChaosArgs', () => {
  it('has defaults: a minute of load, a kill every 10 s, every service a victim', () => {
    expect(parseChaosArgs([])).toEqual({
      durationMs: 60_000,
      intervalMs: 10_000,
      concurrency: 10,
      victims: [
        'query-api',
        'order-service',
        'payment-service',
        'inventory-service',
        'delivery-service',
        'webhook-service',
      ],
      faults: [],
      orderTimeoutMs: 300_000,
    });
  });

  it('reads --faults, and --victims none for faults only', () => {
    expect(parseChaosArgs(['--victims', 'none', '--faults', 'kafka, redis,kafka'])).toMatchObject({
      victims: [],
      faults: ['kafka', 'redis'],
    });
    expect(() => parseChaosArgs(['--faults', 'kafka,disk'])).toThrow(
      /--faults takes servers from .*unknown: "disk"/,
    );
    expect(() => parseChaosArgs(['--victims', 'none'])).toThrow(/nothing to break/);
  });

  it('reads every option', () => {
    expect(
      parseChaosArgs([
        '--duration=20',
        '--interval',
        '4',
        '--concurrency',
        '3',
        '--victims',
        'payment-service, order-service,payment-service',
        '--timeout=60',
      ]),
    ).toEqual({
      durationMs: 20_000,
      intervalMs: 4_000,
      concurrency: 3,
      victims: ['payment-service', 'order-service'],
      faults: [],
      orderTimeoutMs: 60_000,
    });
  });

  it.each([
    [['--duration', '4'], '--duration must be a whole number from 5 to 3600, got "4"'],
    [['--interval', '0'], '--interval must be a whole number from 1 to 600, got "0"'],
    [
      ['--victims', 'kafka'],
      '--victims takes services from query-api, order-service, payment-service, inventory-service, delivery-service, webhook-service; unknown: "kafka"',
    ],
    [['--victims', 'order-service,'], 'unknown: ""'],
    [['--kill', 'all'], 'unknown argument "--kill"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseChaosArgs(argv)).toThrow(message);
  });
});
