import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  authenticate,
  createHttpApp,
  createLogger,
  createMetrics,
  createTokenVerifier,
  type HttpApp,
  principalOf,
} from '@dispatch/platform';
import { eventually, REPO_ROOT } from '@dispatch/testkit';
import { ensureTokenKeys, tokenKeyFiles } from '../../stack/secrets';

const run = promisify(execFile);

/**
 * The documented local rotation procedure, with the real `./dispatch token` command (tools/token/cli.ts,
 * as ./dispatch runs it) on a stack folder of its own, against a real HTTP app that verifies with the
 * public JWKS file the way the local services do (AUTH_JWKS_FILE, re-read when it changes).
 */
describe('./dispatch token --rotate / --retire against a verifying HTTP app', () => {
  const stackDir = mkdtempSync(path.join(tmpdir(), 'token-rotation-'));
  let http: HttpApp;
  let base: string;

  /** `./dispatch token <args>` with DISPATCH_STACK_DIR pointing at this test's stack folder. */
  async function token(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/token/cli.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DISPATCH_STACK_DIR: stackDir },
    });
    return stdout.trim();
  }

  async function status(bearer: string): Promise<number> {
    return (await fetch(`${base}/me`, { headers: { authorization: `Bearer ${bearer}` } })).status;
  }

  const kidOf = (jwt: string) =>
    (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

  beforeAll(async () => {
    ensureTokenKeys(stackDir); // what `up` does
    const verify = createTokenVerifier({
      AUTH_JWKS_FILE: tokenKeyFiles(stackDir).jwksFile,
      AUTH_JWT_ISSUER: 'dispatch',
      AUTH_JWT_AUDIENCE: 'dispatch-api',
    });
    http = createHttpApp({
      service: 'token-it',
      logger: createLogger('token-it', 'silent'),
      metrics: createMetrics('token-it'),
      readinessChecks: [],
      routes: (app) => {
        app.get('/me', authenticate(verify), (_req, res) => void res.json(principalOf(res)));
      },
    });
    base = `http://127.0.0.1:${await http.listen(0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    await http?.close();
    rmSync(stackDir, { recursive: true, force: true });
  });

  it('old and new tokens verify after --rotate; only the new after --retire', async () => {
    const before = await token('--sub', 'customer-1');
    expect(await status(before)).toBe(200);

    expect(await token('--rotate')).toMatch(/^added key \S+ \(EdDSA\); it signs new tokens from now on/);
    expect(statSync(tokenKeyFiles(stackDir).privateFile).mode & 0o777).toBe(0o600);
    const after = await token('--sub', 'customer-1', '--role', 'admin');
    expect(kidOf(after)).not.toBe(kidOf(before));
    expect(await status(after)).toBe(200); // a new kid makes the verifier re-read the file at once
    expect(await status(before)).toBe(200); // the old key is still in the JWKS

    const keys = (await token('--keys')).split('\n');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toMatch(new RegExp(`^${kidOf(after)}\\s+EdDSA .*\\(signs\\)$`));

    expect(await token('--retire')).toContain(`retired ${kidOf(before)}`);
    // The verifier notices the changed file within a second.
    await eventually(async () => expect(await status(before)).toBe(401), { timeoutMs: 5_000 });
    expect(await status(after)).toBe(200);
    expect(await token('--retire')).toMatch(/nothing to retire/);
  });
});
