import { parseTokenArgs, TokenUsageError } from './args';

describe('parseTokenArgs', () => {
  it('defaults to a customer token for one hour', () => {
    expect(parseTokenArgs(['--sub', 'customer-1'])).toEqual({
      command: 'sign',
      subject: 'customer-1',
      role: 'customer',
      ttl: '1h',
    });
  });

  it('reads role and ttl, with or without =', () => {
    expect(parseTokenArgs(['--sub=ops', '--role', 'admin', '--ttl=15m'])).toEqual({
      command: 'sign',
      subject: 'ops',
      role: 'admin',
      ttl: '15m',
    });
    expect(parseTokenArgs(['--ttl', '24h', '--sub', 'c'])).toMatchObject({ ttl: '24h' });
  });

  it("caps the ttl at the services' maximum token lifetime (24h by default, or the one given)", () => {
    expect(() => parseTokenArgs(['--sub', 'c', '--ttl', '25h'])).toThrow(/at most 24h/);
    expect(() => parseTokenArgs(['--sub', 'c', '--ttl', '2d'])).toThrow(/AUTH_MAX_TOKEN_LIFETIME/);
    expect(parseTokenArgs(['--sub', 'c', '--ttl', '7d'], 30 * 86_400)).toMatchObject({ ttl: '7d' });
    expect(() => parseTokenArgs(['--sub', 'c', '--ttl', '2h'], 3_600)).toThrow(/at most 1h/);
  });

  it('reads the key rotation commands, alone', () => {
    expect(parseTokenArgs(['--rotate'])).toEqual({ command: 'rotate' });
    expect(parseTokenArgs(['--retire'])).toEqual({ command: 'retire' });
    expect(parseTokenArgs(['--keys'])).toEqual({ command: 'keys' });
    expect(parseTokenArgs(['--rotate', '--help'])).toBeUndefined();
    expect(() => parseTokenArgs(['--rotate', '--sub', 'c'])).toThrow(/--rotate takes no other argument/);
    expect(() => parseTokenArgs(['--rotate', '--retire'])).toThrow(TokenUsageError);
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
    [['--sub', 'c', '--ttl', '31d'], /at most 24h/],
    [['--sub', 'c', '--sub', 'd'], /given twice/],
    [['--sub', 'c', 'extra'], /unknown argument "extra"/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(TokenUsageError);
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});
