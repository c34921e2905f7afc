import { orderConfigSchema } from './config';

const tokenKeys = { AUTH_JWKS_FILE: '/etc/dispatch/jwks.json' };

function issuesFor(env: Record<string, string>): string[] {
  const result = orderConfigSchema.safeParse({ ...tokenKeys, ...env });
  return result.success ? [] : [...new Set(result.error.issues.map((issue) => issue.path.join('.')))];
}

describe('saga deadline configuration', () => {
  it('defaults to a 15-minute deadline swept every 30 seconds', () => {
    const config = orderConfigSchema.parse(tokenKeys);
    expect(config.SAGA_DEADLINE_MS).toBe(900_000);
    expect(config.SAGA_SWEEP_INTERVAL_MS).toBe(30_000);
  });

  it('reads both from the environment', () => {
    const config = orderConfigSchema.parse({
      ...tokenKeys,
      SAGA_DEADLINE_MS: '60000',
      SAGA_SWEEP_INTERVAL_MS: '500',
    });
    expect(config.SAGA_DEADLINE_MS).toBe(60_000);
    expect(config.SAGA_SWEEP_INTERVAL_MS).toBe(500);
  });

  it.each([
    ['SAGA_DEADLINE_MS', 'soon'],
    ['SAGA_DEADLINE_MS', '0'],
    ['SAGA_DEADLINE_MS', '999'],
    ['SAGA_DEADLINE_MS', '1500.5'],
    ['SAGA_SWEEP_INTERVAL_MS', '-1'],
    ['SAGA_SWEEP_INTERVAL_MS', '99'],
    ['SAGA_SWEEP_INTERVAL_MS', '2147483648'],
  ])('refuses %s=%s', (name, value) => {
    expect(issuesFor({ [name]: value })).toEqual([name]);
  });

  it('is reported together with missing token keys, so one start lists every problem', () => {
    const result = orderConfigSchema.safeParse({ SAGA_DEADLINE_MS: '999' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual([
      'AUTH_JWKS_URL',
      'SAGA_DEADLINE_MS',
    ]);
  });
});
