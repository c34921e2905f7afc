import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { hasStaleAuth, startedAuthEnv } from './app-services';

/** A real process with the given environment, to read back through /proc/<pid>/environ. */
async function sleeper(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { env, stdio: 'ignore' });
  await once(child, 'spawn'); // after exec: its environ is its own, not ours
  return child;
}

describe('hasStaleAuth (an upgraded stack restarts services started with the old token settings)', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('reads the token settings a process was started with', async () => {
    const child = await sleeper({ PATH: process.env.PATH, AUTH_JWKS_FILE: '/stack/auth/jwks.json' });
    children.push(child);
    expect(startedAuthEnv(child.pid!)).toEqual({ AUTH_JWKS_FILE: '/stack/auth/jwks.json' });
    expect(hasStaleAuth(child.pid!, '/stack/auth/jwks.json')).toBe(false);
    expect(hasStaleAuth(child.pid!, '/other/jwks.json')).toBe(true);
  });

  it('a process started with the HS256 secret (and no JWKS file) is stale', async () => {
    const child = await sleeper({ PATH: process.env.PATH, AUTH_JWT_SECRET: 's'.repeat(43) });
    children.push(child);
    expect(startedAuthEnv(child.pid!)).toEqual({ AUTH_JWT_SECRET: true });
    expect(hasStaleAuth(child.pid!, '/stack/auth/jwks.json')).toBe(true);
  });

  it('assumes nothing when the environment cannot be read', () => {
    expect(startedAuthEnv(2 ** 22 + 12345)).toBeUndefined();
    expect(hasStaleAuth(2 ** 22 + 12345, '/stack/auth/jwks.json')).toBe(false);
  });
});
