import { checkResolvedAddresses, checkTargetUrl, isBlockedAddress } from './target-url';

const strict = { allowPrivate: false, allowHttp: false };
const dev = { allowPrivate: true, allowHttp: true };

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::10.0.0.1',
    'not-an-ip',
  ])('blocks %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (a) => {
      expect(isBlockedAddress(a)).toBe(false);
    },
  );
});

describe('checkTargetUrl', () => {
  it('accepts a public https URL', () => {
    const check = checkTargetUrl('https://hooks.example.com/dispatch?x=1', strict);
    expect(check).toMatchObject({ ok: true, host: 'hooks.example.com', literal: false });
  });

  it.each([
    ['http://hooks.example.com/', 'plain http'],
    ['ftp://hooks.example.com/', 'https URL expected'],
    ['/relative', 'not an absolute URL'],
    ['https://user:pw@hooks.example.com/', 'credentials'],
    ['https://hooks.example.com/#frag', 'fragment'],
    ['https://127.0.0.1/', 'not a public address'],
    ['https://[::1]:8443/', 'not a public address'],
    ['https://169.254.169.254/latest/meta-data', 'not a public address'],
    ['https://2130706433/', 'not a public address'],
    ['https://0x7f.1/', 'not a public address'],
    ['https://localhost/', 'not a public host name'],
    ['https://api.localhost/', 'not a public host name'],
    ['https://intranet/', 'not a public host name'],
    [`https://example.com/${'a'.repeat(2100)}`, 'at most'],
  ])('refuses %s', (url, problem) => {
    const check = checkTargetUrl(url, strict);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problem).toContain(problem);
  });

  it('lets loopback and plain http through only with the local-development settings', () => {
    expect(checkTargetUrl('http://127.0.0.1:9999/hook', dev)).toMatchObject({
      ok: true,
      host: '127.0.0.1',
      literal: true,
    });
    expect(checkTargetUrl('http://localhost:9999/hook', dev).ok).toBe(true);
    expect(checkTargetUrl('https://127.0.0.1:9999/hook', { allowPrivate: false, allowHttp: true }).ok).toBe(
      false,
    );
    expect(checkTargetUrl('http://127.0.0.1:9999/hook', { allowPrivate: true, allowHttp: false }).ok).toBe(
      false,
    );
  });
});

describe('checkResolvedAddresses', () => {
  it('refuses a name with any non-public address (DNS rebinding, split answers)', () => {
    expect(checkResolvedAddresses('h.example', ['93.184.215.14'], strict)).toEqual({ ok: true });
    expect(checkResolvedAddresses('h.example', ['93.184.215.14', '10.0.0.5'], strict)).toEqual({
      ok: false,
      problem: 'h.example resolves to 10.0.0.5, not a public address',
    });
    expect(checkResolvedAddresses('h.example', [], strict).ok).toBe(false);
    expect(checkResolvedAddresses('h.example', ['127.0.0.1'], dev)).toEqual({ ok: true });
  });
});
