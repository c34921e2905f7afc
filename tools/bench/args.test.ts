import { BenchUsageError, parseBenchArgs } from './args';

describe('parseBenchArgs', () => {
  it('has defaults: the closed loop', () => {
    expect(parseBenchArgs([])).toEqual({
      mode: 'closed',
      orders: 200,
      concurrency: 20,
      orderTimeoutMs: 120_000,
    });
  });

  it('reads every option in both spellings', () => {
    expect(
      parseBenchArgs(['--orders', '50', '--concurrency=5', '--timeout', '30', '--json=out.json']),
    ).toEqual({
      mode: 'closed',
      orders: 50,
      concurrency: 5,
      orderTimeoutMs: 30_000,
      jsonFile: 'out.json',
    });
  });

  it('returns undefined for --help', () => {
    expect(parseBenchArgs(['--orders', '5', '--help'])).toBeUndefined();
    expect(parseBenchArgs(['--rate', '5', '-h'])).toBeUndefined();
  });

  it('reads the open loop with its defaults', () => {
    expect(parseBenchArgs(['--rate', '50', '--duration', '30'])).toEqual({
      mode: 'open',
      rates: [50],
      durationS: 30,
      complete: false,
      drainTimeoutMs: 60_000,
      customers: 500,
      items: 8,
    });
  });

  it('reads a sweep and every open-loop option', () => {
    expect(
      parseBenchArgs([
        '--rates=50,100, 200',
        '--duration',
        '10',
        '--sample',
        '0.25',
        '--complete',
        '--drain=120',
        '--customers',
        '1000',
        '--items',
        '4',
        '--warmup',
        '30',
        '--json',
        'sweep.json',
      ]),
    ).toEqual({
      mode: 'open',
      rates: [50, 100, 200],
      durationS: 10,
      sampleFraction: 0.25,
      complete: true,
      drainTimeoutMs: 120_000,
      customers: 1000,
      items: 4,
      warmupS: 30,
      jsonFile: 'sweep.json',
    });
  });

  it('refuses a warm-up outside 1-600 s, and a warm-up without an open loop', () => {
    expect(() => parseBenchArgs(['--rate', '10', '--duration', '5', '--warmup', '0'])).toThrow(
      BenchUsageError,
    );
    expect(() => parseBenchArgs(['--rate', '10', '--duration', '5', '--warmup', '601'])).toThrow(
      BenchUsageError,
    );
    expect(() => parseBenchArgs(['--warmup', '30'])).toThrow('--warmup needs --rate or --rates');
    expect(() => parseBenchArgs(['--idle', '5', '--warmup', '30'])).toThrow(BenchUsageError);
  });

  it('reads the idle measurement', () => {
    expect(parseBenchArgs(['--idle', '30'])).toEqual({ mode: 'idle', durationS: 30 });
    expect(parseBenchArgs(['--idle=5', '--json', 'idle.json'])).toEqual({
      mode: 'idle',
      durationS: 5,
      jsonFile: 'idle.json',
    });
  });

  it.each([
    [['--orders', '0'], '--orders must be a whole number from 1 to 100000, got "0"'],
    [['--orders', '2.5'], '--orders must be a whole number from 1 to 100000, got "2.5"'],
    [['--concurrency', '501'], '--concurrency must be a whole number from 1 to 500, got "501"'],
    [['--timeout', 'soon'], '--timeout must be a whole number from 1 to 3600, got "soon"'],
    [['--orders'], '--orders needs a value'],
    [['--orders', '--concurrency', '2'], '--orders needs a value'],
    [['--orders', '1', '--orders', '2'], '--orders given twice'],
    [['--json='], '--json needs a file name'],
    [['--speed', '5'], 'unknown argument "--speed"'],
    [['--rate', '5'], '--rate and --rates need --duration'],
    [['--duration', '5'], '--duration needs --rate or --rates'],
    [['--complete'], '--complete needs --rate or --rates'],
    [['--rate', '0', '--duration', '5'], '--rate must be a whole number from 1 to 2000, got "0"'],
    [['--rate', '5', '--duration', '0'], '--duration must be a whole number from 1 to 3600, got "0"'],
    [['--rate', '5', '--rates', '5,10', '--duration', '5'], 'give either --rate or --rates, not both'],
    [
      ['--rates', '5,,10', '--duration', '5'],
      '--rates must be 1 to 20 comma-separated whole numbers from 1 to 2000, got "5,,10"',
    ],
    [
      ['--rates', '5,2001', '--duration', '5'],
      '--rates must be 1 to 20 comma-separated whole numbers from 1 to 2000, got "5,2001"',
    ],
    [
      ['--rate', '2000', '--duration', '60'],
      '--rate x --duration must be at most 100000 orders per step, got 2000 x 60',
    ],
    [
      ['--rate', '5', '--duration', '5', '--sample', '0'],
      '--sample must be a fraction above 0 and at most 1, got "0"',
    ],
    [
      ['--rate', '5', '--duration', '5', '--sample', '1.5'],
      '--sample must be a fraction above 0 and at most 1, got "1.5"',
    ],
    [
      ['--rate', '5', '--duration', '5', '--sample', '10%'],
      '--sample must be a fraction above 0 and at most 1, got "10%"',
    ],
    [['--rate', '5', '--duration', '5', '--complete=yes'], '--complete takes no value, got "--complete=yes"'],
    [['--rate', '5', '--duration', '5', '--complete', '--complete'], '--complete given twice'],
    [
      ['--rate', '5', '--duration', '5', '--orders', '10'],
      '--orders is for the closed loop; the open loop (--rate, --rates) does not take it',
    ],
    [
      ['--rate', '5', '--duration', '5', '--items', '101'],
      '--items must be a whole number from 1 to 100, got "101"',
    ],
    [['--idle', '10', '--rate', '5'], '--idle measures the idle stack: it takes no --rate'],
    [['--idle', '10', '--concurrency', '5'], '--idle measures the idle stack: it takes no --concurrency'],
    [['--idle', '0'], '--idle must be a whole number from 1 to 3600, got "0"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});
