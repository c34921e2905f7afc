/**
 * The Dockerfile's recipe, run without Docker: the build context as .dockerignore leaves it, the
 * build stage's pnpm commands (install, build, deploy), the image's CMD started from what was
 * deployed against the real stack, its HEALTHCHECK command, and its STOPSIGNAL. It proves that what
 * the image ships (compiled JavaScript, no sources) is enough to migrate, serve and drain.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { kafkaConnectionEnv } from '@dispatch/platform';
import { createTestIssuer, eventually, stackAddresses } from '@dispatch/testkit';
import pg from 'pg';
import { execForm, finalInstruction, readDockerfile } from '../src/dockerfile';
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

    // Build stage: its pnpm RUN lines in order (install, build, deploy; pnpm itself is installed
    // here), SERVICE substituted, /out → our folder.
    const buildStage = instructions.filter(
      (i) => i.stage === 0 && i.keyword === 'RUN' && /^(--mount=\S+\s+)?pnpm /.test(i.args),
    );
    expect(buildStage.map((i) => i.args.replace(/^--mount=\S+\s+/, '').split(' ')[1])).toEqual([
      'install',
      'build',
      '--filter',
    ]);
    for (const instruction of buildStage) {
      const command = instruction.args
        .replace(/^--mount=\S+\s+/, '')
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own variable syntax
        .replaceAll('${SERVICE}', SERVICE)
        .replace(/\/out$/, app);
      execFileSync('bash', ['-ec', command], {
        cwd: context,
        env: { ...process.env, CI: 'true' },
        stdio: 'pipe',
      });
    }
    // What ships: compiled code with its migrations and source maps, no TypeScript.
    expect(existsSync(path.join(app, 'dist', 'main.js'))).toBe(true);
    expect(existsSync(path.join(app, 'dist', 'main.js.map'))).toBe(true);
    expect(existsSync(path.join(app, 'dist', 'migrations', '1767225600000_orders.sql'))).toBe(true);
    const platform = path.join(app, 'node_modules', '@dispatch', 'platform');
    expect(existsSync(path.join(platform, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(path.join(platform, 'migrations'))).toBe(true);
    expect(existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(path.join(app, 'src'))).toBe(false);
    expect(existsSync(path.join(platform, 'src'))).toBe(false);

    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      NODE_ENV: 'production',
      SERVICE,
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...kafkaConnectionEnv(addresses.kafka),
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
  }, 300_000);
});
