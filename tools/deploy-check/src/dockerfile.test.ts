// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose/Dockerfile variable syntax, not templates
import { readFileSync } from 'node:fs';
import { APP_SERVICES } from '../../stack/services';
import { argDefaults, execForm, finalInstruction, parseDockerfile, readDockerfile } from './dockerfile';
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
