/**
 * The README's test command: lint (biome, knip, file lengths), type-check, unit tests, then the real local
 * stack: the servers for the integration suite (the stack's services stopped
 * meanwhile), then the servers and the services for the end-to-end suite.
 * Every step runs even when an earlier one failed, so one run shows everything;
 * the last line is `N passed, N failed` summed over all suites (lint and the
 * type-check count as one check each).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const reports = path.join(root, '.stack', 'reports');
mkdirSync(reports, { recursive: true });

interface Tally {
  passed: number;
  failed: number;
  problems: string[];
}
const tally: Tally = { passed: 0, failed: 0, problems: [] };

function run(title: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const started = Date.now();
  console.log(`\n▶ ${title}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  console.log(`${ok ? '✔' : '✘'} ${title} (${seconds} s)`);
  return ok;
}

function check(title: string, command: string, args: string[]): void {
  if (run(title, command, args)) tally.passed += 1;
  else {
    tally.failed += 1;
    tally.problems.push(title);
  }
}

function jestSuite(project: string, extraArgs: string[], env?: NodeJS.ProcessEnv, label = project): void {
  const out = path.join(reports, `${label}.json`);
  const ok = run(
    `${label} tests`,
    'pnpm',
    ['exec', 'jest', '--selectProjects', project, '--json', `--outputFile=${out}`, ...extraArgs],
    env,
  );
  if (!existsSync(out)) {
    tally.failed += 1;
    tally.problems.push(`${label} tests (jest wrote no report)`);
    return;
  }
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTests: number;
    numRuntimeErrorTestSuites: number;
  };
  tally.passed += report.numPassedTests;
  tally.failed += report.numFailedTests + report.numRuntimeErrorTestSuites;
  if (!ok) tally.problems.push(`${label} tests`);
  if (report.numTotalTests === 0) {
    tally.failed += 1;
    tally.problems.push(`${label} tests ran no test`);
  }
}

/** Reads the KEY=value lines `tools/stack up` writes, so suites use the launcher's addresses. */
function stackEnv(): NodeJS.ProcessEnv {
  const file = path.join(root, '.stack', 'env');
  const env = { ...process.env };
  if (!existsSync(file)) return env;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2].replace(/^['"]|['"]$/g, '');
  }
  return env;
}

check('lint (biome)', 'pnpm', ['exec', 'biome', 'ci', '--colors=off', '.']);
// knip (knip.json): a file nothing imports, or an export nothing outside its module uses, fails the run.
check('lint (unused files and exports: knip)', 'pnpm', ['--silent', 'lint:exports', '--no-progress']);
// tools/file-length: a hand-written .ts file over 400 lines fails the run (generated files listed there).
check('lint (file length: tools/file-length)', 'pnpm', ['--silent', 'lint:lengths']);
// Also compiles the packages and services to dist/ (the stack below runs those).
check('type-check and build (tsc -b)', 'pnpm', ['exec', 'tsc', '-b']);
jestSuite('unit', []);

// Integration tests that work against the stack's RUNNING services (their /metrics scraped by a real
// Prometheus; the load benchmark; query_api's grants on the read model query-api migrated): run after
// `up` below, not with the servers-only stack.
const RUNNING_STACK_TESTS =
  '(tools/observability/test/(prometheus|metrics-lint)|tools/bench/test/bench|services/query-api/test/cassandra-role)\\.int\\.test\\.ts$';
// The chaos runner kills and restarts the stack's services (fresh metrics), so it runs after the rest.
const CHAOS_TEST = 'tools/chaos/test/chaos\\.int\\.test\\.ts$';

// Integration tests start their own service instances in-process: they get the servers only.
// The stack's services are stopped for them (they would consume and answer the tests' events).
if (
  run('local stack up (servers only)', 'pnpm', ['--silent', 'stack', 'up', '--infra-only']) &&
  run('stop the stack services during integration tests', 'pnpm', ['--silent', 'stack', 'down', '--services'])
) {
  jestSuite(
    'integration',
    ['--runInBand', '--testPathIgnorePatterns', '/node_modules/', RUNNING_STACK_TESTS, CHAOS_TEST],
    stackEnv(),
  );
} else {
  tally.failed += 1;
  tally.problems.push('local stack up --infra-only (integration suite not run)');
}

// End-to-end tests drive the running services; `up` starts them (and leaves them running).
if (run('local stack up (servers and services)', 'pnpm', ['--silent', 'stack', 'up'])) {
  if (readdirSync(path.join(root, 'tests', 'e2e')).some((f) => f.endsWith('.test.ts'))) {
    jestSuite('e2e', ['--runInBand'], stackEnv());
  }
  jestSuite(
    'integration',
    ['--runInBand', '--testPathPatterns', RUNNING_STACK_TESTS],
    stackEnv(),
    'integration (running stack)',
  );
  jestSuite(
    'integration',
    ['--runInBand', '--testPathPatterns', CHAOS_TEST],
    stackEnv(),
    'chaos (running stack)',
  );
} else {
  tally.failed += 1;
  tally.problems.push('local stack up (e2e suite not run)');
}

console.log('');
if (tally.problems.length > 0) console.log(`Failed steps: ${tally.problems.join('; ')}`);
const summary = `${tally.passed} passed, ${tally.failed} failed`;
writeFileSync(path.join(reports, 'summary.txt'), `${summary}\n`);
console.log(summary);
process.exit(tally.failed === 0 ? 0 : 1);
