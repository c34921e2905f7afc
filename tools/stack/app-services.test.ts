import { hasStaleAuth } from './app-services';
import { killSleepers, sleeper } from './test/sleeper';

describe('hasStaleAuth (an upgraded stack restarts services started with the old token settings)', () => {
  afterEach(killSleepers);

  it('reads the token settings a process was started with', async () => {
    const child = await sleeper({ AUTH_JWKS_FILE: '/stack/auth/jwks.json' });
    expect(hasStaleAuth(child.pid!, '/stack/auth/jwks.json')).toBe(false);
    expect(hasStaleAuth(child.pid!, '/other/jwks.json')).toBe(true);
  });

  it('a process started with the HS256 secret (and no JWKS file) is stale', async () => {
    const child = await sleeper({ AUTH_JWT_SECRET: 's'.repeat(43) });
    expect(hasStaleAuth(child.pid!, '/stack/auth/jwks.json')).toBe(true);
  });

  it('assumes nothing when the environment cannot be read', () => {
    expect(hasStaleAuth(2 ** 22 + 12345, '/stack/auth/jwks.json')).toBe(false);
  });
});
