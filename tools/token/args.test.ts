import { parseTokenArgs, TokenUsageError } from './args';

describe('parseTokenArgs', () => {
  it('defaults to a customer token for one hour', () => {
    expect(parseTokenArgs(['--sub', 'customer-1'])).toEqual({
      subject: 'customer-1',
      role: 'customer',
      ttl: '1h',
    });
  });

  it('reads role and ttl, with or without =', () => {
    expect(parseTokenArgs(['--sub=ops', '--role', 'admin', '--ttl=15m'])).toEqual({
      subject: 'ops',
      role: 'admin',
      ttl: '15m',
    });
    expect(parseTokenArgs(['--ttl', '7d', '--sub', 'c'])).toMatchObject({ ttl: '7d' });
  });

  it('returns undefined for --help', () => {
    expect(parseTokenArgs(['--help'])).toBeUndefined();
    expect(parseTokenArgs(['--sub', 'x', '-h'])).toBeUndefined();
  });

  it.each([
    [[], /--sub is required/],
    [['--sub'], /--sub needs a value/],
    [['--sub', '--role', 'admin'], /--sub needs a value/],
    [['--sub', ''], /1-128 characters/],
    [['--sub', 'a b'], /without spaces/],
    [['--sub', 'x'.repeat(129)], /1-128 characters/],
    [['--sub', 'c', '--role', 'root'], /--role must be one of customer, admin/],
    [['--sub', 'c', '--ttl', '1 hour'], /--ttl must be a number/],
    [['--sub', 'c', '--ttl', '0h'], /--ttl must be a number/],
    [['--sub', 'c', '--ttl', '31d'], /at most 30d/],
    [['--sub', 'c', '--sub', 'd'], /given twice/],
    [['--sub', 'c', 'extra'], /unknown argument "extra"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(TokenUsageError);
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});
