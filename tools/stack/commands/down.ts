import { rmSync } from 'node:fs';
import { SERVICE_STOP_GRACE_MS, stopInstances } from '../app-services';
import { describeError } from '../errors';
import { runCommand } from '../install';
import type { StackPaths } from '../paths';
import {
  readStarted,
  runningPid,
  type StartedEntry,
  stopProcess,
  withLock,
  writeStarted,
} from '../processes';
import { info, step } from '../progress';
import { JVM_SERVERS } from '../servers';
import { findAppService } from '../services';

function isService(name: string): boolean {
  return findAppService(name) !== undefined;
}

/** How long each thing gets to shut down cleanly before SIGKILL. */
const GRACE_MS: Record<string, number> = { kafka: 30_000, cassandra: 30_000, redis: 10_000 };

/** Services first (they use the servers), then the servers in reverse start order. */
export function stopOrder(names: string[]): string[] {
  // Unknown names (the services) rank -1, so they come first.
  const serverOrder = ['cassandra', 'kafka', 'redis', 'postgres'];
  return [...names].sort((a, b) => serverOrder.indexOf(a) - serverOrder.indexOf(b));
}

export interface DownOptions {
  /** Stop only the services (and extra instances), leave the servers running. */
  servicesOnly: boolean;
}

export async function down(paths: StackPaths, options: DownOptions): Promise<void> {
  await withLock(
    paths.lockFile,
    async () => {
      await stopInstances(paths);
      const record = readStarted(paths.startedFile);
      const names = stopOrder(Object.keys(record)).filter((name) => !options.servicesOnly || isService(name));
      if (names.length === 0) {
        info(
          `no ${options.servicesOnly ? 'service' : 'process'} was started by pnpm stack up; nothing to stop`,
        );
      }
      let failures = 0;
      const stopOne = async (name: string) => {
        const entry = record[name]!;
        try {
          await step(`stopping ${name}`, () => stopEntry(name, entry));
          if (entry.kind === 'process') rmSync(paths.pidFile(name), { force: true });
          delete record[name];
          writeStarted(paths.startedFile, record);
        } catch (err) {
          failures += 1;
          info(`  could not stop ${name}: ${describeError(err)}`);
        }
      };
      // The services shut down independently of each other, so in parallel; then the servers in order.
      await Promise.all(names.filter(isService).map(stopOne));
      for (const name of names.filter((n) => !isService(n))) await stopOne(name);
      if (!options.servicesOnly) reportLeftRunning(paths);
      if (failures > 0) process.exitCode = 1;
    },
    (holder) => info(`waiting for another pnpm stack run (pid ${holder}) to finish ...`),
  );
}

async function stopEntry(name: string, entry: StartedEntry): Promise<void> {
  if (entry.kind === 'command') {
    await runCommand(entry.stop[0]!, entry.stop.slice(1), process.cwd());
    return;
  }
  const outcome = await stopProcess(
    entry.pid,
    entry.marker,
    isService(name) ? SERVICE_STOP_GRACE_MS : (GRACE_MS[name] ?? 15_000),
  );
  if (outcome === 'killed') info(`  ${name} did not exit in time and was killed (SIGKILL)`);
  if (outcome === 'not-running') info(`  ${name} (pid ${entry.pid}) was no longer running`);
}

/** Our servers that are running although `up` did not start them (e.g. started by hand). */
function reportLeftRunning(paths: StackPaths): void {
  for (const server of JVM_SERVERS) {
    const pid = runningPid(paths.pidFile(server.name), server.marker(paths));
    if (pid !== undefined) {
      info(
        `${server.title} (pid ${pid}) was not started by pnpm stack up and is left running; stop it with: kill ${pid}`,
      );
    }
  }
}
