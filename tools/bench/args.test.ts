import { parseBenchArgs } from './args';

describe('parseBenchArgs', () => {
  it('has defaults', () => {
    expect(parseBenchArgs([])).toEqual({ orders: 200, concurrency: 20, orderTimeoutMs: 120_000 });
  });

  it('reads every option in both spellings', () => {
    expect(
      parseBenchArgs(['--orders', '50', '--concurrency=5', '--timeout', '30', '--json=out.json']),
    ).toEqual({
      orders: 50,
      concurrency: 5,
      orderTimeoutMs: 30_000,
      jsonFile: 'out.json',
    });
  });

  it('returns undefined for --help', () => {
    expect(parseBenchArgs(['--orders', '5', '--help'])).toBeUndefined();
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
    [['--rate', '5'], 'unknown argument "--rate"'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});
