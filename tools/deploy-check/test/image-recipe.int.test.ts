/**
 * The Dockerfile's recipe, run without Docker (our machines have no engine): the build context
 * as .dockerignore leaves it, the build stage's `pnpm deploy` command, tsx linked in as the
 * runtime stage does, the image's CMD started against the real stack, its HEALTHCHECK command,
 * and its STOPSIGNAL. It proves that what the image ships is enough to migrate, serve and drain.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestIssuer, eventually, stackAddresses } from '@dispatch/testkit';
import pg from 'pg';
import { argDefaults, execForm, finalInstruction, readDockerfile } from '../src/dockerfile';
import { isIgnored, parseDockerignore } from '../src/dockerignore';
import { REPO_ROOT, repoPath } from '../src/paths';

const SERVICE = 'order-service';
const instructions = readDockerfile();
const addresses = stackAddresses();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Files git knows (tracked or new, not ignored), minus what .dockerignore leaves out. */
function copyBuildContext(target: string): void {
  const rules = parseDockerignore(readFileSync(repoPath('.dockerignore'), 'utf8'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file !== '' && !isIgnored(rules, file));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    try {
      cpSync(path.join(REPO_ROOT, file), path.join(target, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // deleted in the work tree
    }
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe(`the Dockerfile recipe for ${SERVICE}, without Docker`, () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'dispatch-image-'));
  const context = path.join(work, 'context');
  const app = path.join(work, 'app');
  const database = `image_recipe_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  let service: ChildProcess | undefined;
  let log = '';
  const issuer = createTestIssuer();

  afterAll(async () => {
    service?.kill('SIGKILL');
    const client = new pg.Client({ ...addresses.pg, database: 'postgres' });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await client.end();
    rmSync(work, { recursive: true, force: true });
    issuer.cleanup();
  });

  test('builds, starts, answers its health check and drains on the stop signal', async () => {
    copyBuildContext(context);

    // Build stage: the RUN line with `deploy`, SERVICE substituted, /out → our folder.
    const deploy = instructions.find((i) => i.keyword === 'RUN' && i.args.includes(' deploy '))!;
    const command = deploy.args
      .replace(/^--mount=\S+\s+/, '')
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own variable syntax
      .replaceAll('${SERVICE}', SERVICE)
      .replace(/\/out$/, app);
    execFileSync('bash', ['-ec', command], {
      cwd: context,
      env: { ...process.env, CI: 'true' },
      stdio: 'pipe',
    });

    // Runtime stage: tsx at TSX_VERSION linked into node_modules.
    const tsx = realpathSync(repoPath('node_modules', 'tsx'));
    const tsxVersion = (
      JSON.parse(readFileSync(path.join(tsx, 'package.json'), 'utf8')) as { version: string }
    ).version;
    expect(tsxVersion).toBe(argDefaults(instructions).get('TSX_VERSION'));
    symlinkSync(tsx, path.join(app, 'node_modules', 'tsx'));

    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      TMPDIR: os.tmpdir(),
      NODE_ENV: 'production',
      SERVICE,
      PORT: String(port),
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: addresses.kafkaBrokers.join(','),
      KAFKA_GROUP_ID: `image-recipe-${randomUUID()}`,
      PGHOST: addresses.pg.host,
      PGPORT: String(addresses.pg.port),
      PGUSER: addresses.pg.user,
      PGPASSWORD: addresses.pg.password,
      PGDATABASE: database,
      REDIS_URL: addresses.redisUrl,
      // Public keys only, as the image gets them in a cluster (a mounted JWKS file).
      AUTH_JWKS_FILE: issuer.jwksFile,
    };
    const [cmd, ...args] = execForm(finalInstruction(instructions, 'CMD')!.args);
    service = spawn(cmd!, args, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    service.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    service.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = exitOf(service);

    // The image's HEALTHCHECK command, as Docker would run it inside the container.
    const healthcheck = finalInstruction(instructions, 'HEALTHCHECK')!.args;
    const [hcCmd, ...hcArgs] = execForm(healthcheck.slice(healthcheck.indexOf('CMD')));
    await eventually(
      () => {
        if (service!.exitCode !== null) throw new Error(`the service exited (${service!.exitCode}):\n${log}`);
        execFileSync(hcCmd!, hcArgs, { env, stdio: 'pipe' });
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);

    // STOPSIGNAL: a clean drain, exit code 0.
    expect(finalInstruction(instructions, 'STOPSIGNAL')!.args).toBe('SIGTERM');
    service.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toContain('migrations applied');
  }, 180_000);
});
