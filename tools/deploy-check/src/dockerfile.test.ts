// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose/Dockerfile variable syntax, not templates
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { APP_SERVICES } from '../../stack/services';
import {
  argDefaults,
  copyArgs,
  execForm,
  finalInstruction,
  parseDockerfile,
  readDockerfile,
} from './dockerfile';
import { isIgnored, parseDockerignore } from './dockerignore';
import { repoPath } from './paths';

const instructions = readDockerfile();
const args = argDefaults(instructions);

describe('parseDockerfile', () => {
  test('joins continuation lines, drops comments and counts stages', () => {
    const parsed = parseDockerfile('# c\nFROM a AS b\nRUN one \\\n  # inside\n  two\nFROM c\nCMD ["x"]\n');
    expect(parsed).toEqual([
      { keyword: 'FROM', args: 'a AS b', stage: 0 },
      { keyword: 'RUN', args: 'one two', stage: 0 },
      { keyword: 'FROM', args: 'c', stage: 1 },
      { keyword: 'CMD', args: '["x"]', stage: 1 },
    ]);
  });
});

describe('Dockerfile', () => {
  test('is multi-stage on the Node major .node-version pins (24 LTS), every stage from the same base', () => {
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(new Set(froms)).toEqual(new Set(['${NODE_IMAGE}']));
    const major = readFileSync(repoPath('.node-version'), 'utf8').trim().split('.')[0];
    expect(major).toBe('24');
    expect(args.get('NODE_IMAGE')).toMatch(new RegExp(`^node:${major}(\\.|-|$)`));
  });

  test('installs the pnpm version package.json pins, and no tsx in the runtime stage', () => {
    const rootPackage = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as {
      packageManager: string;
    };
    expect(`pnpm@${args.get('PNPM_VERSION')}`).toBe(rootPackage.packageManager);
    const runtime = instructions.filter((i) => i.stage === 1);
    expect(runtime.filter((i) => /tsx/.test(i.args))).toEqual([]);
  });

  test('compiles the service in the build stage (pnpm build, tools/build)', () => {
    const build = instructions.find((i) => i.keyword === 'RUN' && i.args.startsWith('pnpm build '));
    expect(build?.args).toBe('pnpm build "services/${SERVICE}"');
  });

  test('ships production dependencies only (pnpm deploy --prod of the chosen service)', () => {
    const deploy = instructions.find((i) => i.keyword === 'RUN' && i.args.includes(' deploy '));
    expect(deploy?.args).toMatch(/pnpm --filter "@dispatch\/\$\{SERVICE\}" deploy --prod/);
  });

  test('runs as a numeric non-root user, stops on SIGTERM, starts the compiled service with source maps', () => {
    const user = finalInstruction(instructions, 'USER')?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
    expect(finalInstruction(instructions, 'STOPSIGNAL')?.args).toBe('SIGTERM');
    expect(execForm(finalInstruction(instructions, 'CMD')!.args)).toEqual([
      'node',
      '--enable-source-maps',
      'dist/main.js',
    ]);
  });

  test('health check fetches /health/live with node (no curl) on PORT or each service default port', () => {
    const healthcheck = finalInstruction(instructions, 'HEALTHCHECK')!.args;
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD')));
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain('/health/live');
    expect(command[2]).toContain('process.env.PORT');
    expect(healthcheck).not.toMatch(/curl|wget/);
    const defaults = /const d=(\{[^}]*\})/.exec(command[2]!)?.[1]?.replaceAll("'", '"');
    expect(JSON.parse(defaults ?? '{}')).toEqual(
      Object.fromEntries(APP_SERVICES.map((s) => [s.name, s.port])),
    );
  });
});

describe('Dockerfile layers (./dispatch images builds it with podman from a local base)', () => {
  const build = instructions.filter((i) => i.stage === 0);
  const install = build.findIndex((i) => i.keyword === 'RUN' && i.args.startsWith('pnpm install '));
  const source = build.findIndex((i) => i.keyword === 'COPY' && i.args === '. .');

  /** Every workspace project's folder, from pnpm-workspace.yaml's globs (`dir/*` or a folder). */
  function workspaceProjects(): string[] {
    const workspace = parse(readFileSync(repoPath('pnpm-workspace.yaml'), 'utf8')) as { packages: string[] };
    return workspace.packages
      .flatMap((glob) =>
        glob.endsWith('/*')
          ? readdirSync(repoPath(glob.slice(0, -2))).map((name) => `${glob.slice(0, -2)}/${name}`)
          : [glob],
      )
      .filter((dir) => existsSync(repoPath(`${dir}/package.json`)))
      .sort();
  }

  test('a dependency layer before the source: the manifests, lockfile and patches, then pnpm install', () => {
    expect(install).toBeGreaterThan(0);
    expect(source).toBeGreaterThan(install);
    expect(build[install]!.args).toBe('pnpm install --frozen-lockfile');
    const copied = build
      .slice(0, install)
      .filter((i) => i.keyword === 'COPY')
      .map((i) => copyArgs(i.args));
    const sources = copied.flatMap((c) => c.sources);
    expect(sources.filter((s) => !s.endsWith('package.json'))).toEqual([
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      '.npmrc',
      'patches/',
    ]);
    // Each project's manifest to its own folder: pnpm finds the workspace as the lockfile lists it.
    const manifests = copied.filter((c) => c.sources.length === 1 && c.sources[0]!.endsWith('/package.json'));
    for (const c of manifests) expect(c.destination).toBe(c.sources[0]!.replace(/package\.json$/, ''));
    expect(manifests.map((c) => c.sources[0]!.replace(/\/package\.json$/, '')).sort()).toEqual(
      workspaceProjects(),
    );
    expect(sources).toContain('package.json');
  });

  test('SERVICE is declared after the shared layers and before its first use', () => {
    const declared = build.findIndex((i) => i.keyword === 'ARG' && i.args.trim() === 'SERVICE');
    const used = build.findIndex((i) => i.keyword !== 'ARG' && i.args.includes('SERVICE'));
    expect(declared).toBeGreaterThan(source);
    expect(used).toBeGreaterThan(declared);
  });

  test('no BuildKit-only syntax: docker, buildah and podman build it alike', () => {
    const text = readFileSync(repoPath('Dockerfile'), 'utf8');
    expect(text).not.toMatch(/^#\s*syntax=/m);
    expect(instructions.filter((i) => i.keyword === 'RUN' && i.args.startsWith('--mount'))).toEqual([]);
    expect(
      instructions.filter((i) => i.keyword === 'COPY' && /--(parents|link|exclude)/.test(i.args)),
    ).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const rules = parseDockerignore(readFileSync(repoPath('.dockerignore'), 'utf8'));

  test('keeps what the build and the running service need', () => {
    const needed = [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      '.npmrc',
      '.node-version',
      'tsconfig.base.json',
      'tsconfig.build.json',
      'tools/build/build.ts',
      'tools/build/cli.ts',
      'packages/platform/tsconfig.json',
      'patches/kafkajs@2.2.4.patch',
      'tools/package.json',
      'tests/e2e/package.json',
      'packages/platform/package.json',
      'packages/platform/src/index.ts',
      'packages/platform/migrations/1735689600000_outbox.sql',
      'packages/contracts/src/index.ts',
      ...APP_SERVICES.flatMap((s) => [
        `${s.dir}/package.json`,
        `${s.dir}/tsconfig.json`,
        `${s.dir}/src/main.ts`,
        `${s.dir}/src/migrations/x.sql`,
      ]),
    ];
    expect(needed.filter((file) => isIgnored(rules, file))).toEqual([]);
  });

  test('leaves out dependencies, local state, tests and the other tools', () => {
    const unwanted = [
      'node_modules/x/index.js',
      'services/order-service/node_modules/x',
      '.git/HEAD',
      '.stack/env',
      'services/order-service/test/api.int.test.ts',
      'packages/platform/src/config.test.ts',
      'tools/stack/cli.ts',
      'tools/build/build.test.ts',
      'services/order-service/dist/main.js',
      'tests/e2e/order-saga.test.ts',
      'tests/e2e/support/api.ts',
      'docs/deploy.md',
    ];
    expect(unwanted.filter((file) => !isIgnored(rules, file))).toEqual([]);
  });
});
