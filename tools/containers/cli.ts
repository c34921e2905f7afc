/**
 * `./dispatch test --containers`: docker-compose.yml run under podman-compose on this machine, from
 * the images `./dispatch images` builds, to an order DELIVERED and a clean SIGTERM drain, then torn
 * down. Not in the README test command or CI (too slow); see CONTAINERS_USAGE and docs/deploy.md.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { localServerImages, serverImageEnv } from '../images/servers';
import { REPO_ROOT } from '../stack/paths';
import { CONTAINERS_USAGE, ContainersUsageError, parseContainersArgs, publishedPorts } from './args';
import { ComposeProject } from './compose';
import { ContainersError, Deadline, LOG_DIR, log } from './host';
import { buildImages, missingImages, portsInUse, preflight, randomPassword } from './machine';
import { newIssuer, placeOrder, token, waitDelivered } from './order';
import { COMPOSE_FILE, composeEnv, composeFiles, INIT_JOBS, SERVERS, SERVICES } from './plan';
import { type Check, formatReport } from './report';
import { drainServices, runInitJobs, startServers, startServices } from './stages';

const REPORT_FILE = path.join(REPO_ROOT, '.stack', 'reports', 'containers.txt');
const TAG = 'dev';
const MINUTE = 60_000;
/** The services' stop_grace_period in docker-compose.yml (1.0.x does not apply it: podman stop gets it). */
const GRACE_SECONDS = 30;

function finish(checks: Check[], started: number, notRun?: string): number {
  const report = formatReport(checks, (performance.now() - started) / 1000, notRun);
  process.stdout.write(`\n${report}`);
  try {
    mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
    writeFileSync(REPORT_FILE, report);
  } catch (err) {
    log(`could not write ${path.relative(REPO_ROOT, REPORT_FILE)}: ${(err as Error).message}`);
  }
  return notRun === undefined && checks.every((check) => check.ok) ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const args = parseContainersArgs(argv);
  if (!args) {
    process.stdout.write(CONTAINERS_USAGE);
    return 0;
  }
  const started = performance.now();
  const deadline = new Deadline(args.timeoutSeconds);
  const checks: Check[] = [];
  const machine = preflight();
  if ('notRun' in machine) return finish(checks, started, machine.notRun);
  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });
  const files = composeFiles(machine.version);
  const v = machine.version;
  log(
    `podman-compose ${v.major}.${v.minor}.${v.patch}: ${files.join(' + ')}; project ${args.project}; bound ${args.timeoutSeconds / 60} min`,
  );

  let current = 'starting';
  const step = async (name: string, body: () => Promise<string>): Promise<void> => {
    current = name;
    const t0 = performance.now();
    log(`${name} …`);
    try {
      const detail = await body();
      checks.push({ name, ok: true, seconds: (performance.now() - t0) / 1000, detail });
      log(`  ✔ ${detail}`);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      checks.push({ name, ok: false, seconds: (performance.now() - t0) / 1000, detail });
      log(`  ✘ ${detail}`);
      throw err;
    }
  };

  const ports = publishedPorts(args.portBase);
  const jwksPath = newIssuer();
  const env = composeEnv({
    composeText: readFileSync(path.join(REPO_ROOT, COMPOSE_FILE), 'utf8'),
    portBase: args.portBase,
    jwksPath,
    serverImages: serverImageEnv(localServerImages('')),
    tag: TAG,
    password: randomPassword,
  });
  const project = new ComposeProject(args.project, files, env);

  // Ctrl-C or a kill: the teardown still runs, then the report.
  let tornDown = false;
  const teardown = (): void => {
    if (tornDown) return;
    tornDown = true;
    const t0 = performance.now();
    log('teardown: podman-compose down -v, then whatever of the project is left …');
    project.saveLogs([...SERVERS, ...INIT_JOBS, ...SERVICES]);
    const left = project.teardown();
    const seconds = (performance.now() - t0) / 1000;
    checks.push({
      name: 'teardown',
      ok: left.length === 0,
      seconds,
      detail:
        left.length === 0
          ? `containers, network and volumes of ${args.project} removed (logs kept in .stack/containers/logs/)`
          : `still there: ${left.join(', ')}`,
    });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping, tearing down`);
      checks.push({
        name: `interrupted (${signal})`,
        ok: false,
        seconds: 0,
        detail: 'the run was interrupted',
      });
      teardown();
      process.exit(finish(checks, started));
    });
  }
  const timer = setTimeout(() => {
    log(`timed out: the run took longer than --timeout ${args.timeoutSeconds / 60} min; tearing down`);
    checks.push({
      name: 'time bound',
      ok: false,
      seconds: args.timeoutSeconds,
      detail: `timed out after ${args.timeoutSeconds / 60} min (--timeout), during "${current}"`,
    });
    teardown();
    process.exit(finish(checks, started));
  }, deadline.remainingMs());

  try {
    await step('images', async () => {
      const missing = missingImages(SERVICES, TAG);
      if (missing.length === 0) return 'all six service and four server images present';
      await buildImages(missing, deadline.remainingMs());
      const still = missingImages(SERVICES, TAG);
      if (still.length > 0) throw new ContainersError(`./dispatch images did not make ${still.join(', ')}`);
      return `built what was missing: ${missing.join(', ')}`;
    });
    await step('leftovers and ports', async () => {
      const left = project.teardown();
      if (left.length > 0)
        throw new ContainersError(`a previous run left ${left.join(', ')} and it could not be removed`);
      const busy = await portsInUse(ports);
      if (busy.length > 0) {
        throw new ContainersError(
          `127.0.0.1:${busy.join(', ')} already in use; pick other ports with --port-base`,
        );
      }
      return `nothing left of ${args.project}; 127.0.0.1:${ports[0]}-${ports.at(-1)} free`;
    });
    const t0 = performance.now();
    await step('servers up and healthy', () => startServers(project, deadline.capMs(10 * MINUTE), t0));
    await step('init jobs exit 0', () => runInitJobs(project, deadline.capMs(15 * MINUTE), t0));
    await step('services ready', () => startServices(project, ports, deadline.capMs(10 * MINUTE), t0));
    await step('demo data', async () => {
      const items = (
        await project.exec('inventory-service', ['node', 'dist/cli/seed.js'], deadline.capMs(2 * MINUTE))
      ).trim();
      const drivers = (
        await project.exec('delivery-service', ['node', 'dist/cli/seed.js'], deadline.capMs(2 * MINUTE))
      ).trim();
      return `inventory: ${items.split('\n').at(-1)}; delivery: ${drivers.split('\n').at(-1)}`;
    });
    await step('order DELIVERED', async () => {
      const customer = await token('customer-1', 'customer');
      const placed = performance.now();
      const orderId = await placeOrder(ports[SERVICES.indexOf('order-service')]!, customer);
      const seen = await waitDelivered(
        ports[SERVICES.indexOf('query-api')]!,
        orderId,
        customer,
        deadline.capMs(3 * MINUTE),
      );
      const seconds = ((performance.now() - placed) / 1000).toFixed(1);
      return `order ${orderId} placed on :${ports[1]}, read on :${ports[0]}: ${seen.join(' → ')} in ${seconds} s`;
    });
    await step('SIGTERM drain', () => drainServices(project, GRACE_SECONDS));
  } catch (err) {
    if (!(err instanceof ContainersError))
      log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    clearTimeout(timer);
    teardown();
  }
  return finish(checks, started);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ContainersUsageError) {
      process.stderr.write(`containers: ${err.message}\n\n${CONTAINERS_USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`containers: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.stdout.write('containers: 0 passed, 1 failed\n');
    process.exit(1);
  },
);
