import { restartService, startInstance } from '../app-services';
import type { StackConfig } from '../config';
import { UsageError } from '../errors';
import type { StackPaths } from '../paths';
import { withLock } from '../processes';
import { info } from '../progress';
import { type AppService, findAppService, instanceName, serviceUrl } from '../services';

function serviceNamed(name: string): AppService {
  const service = findAppService(name);
  if (!service) throw new UsageError(`unknown service "${name}"`);
  return service;
}

/** `pnpm stack restart <service>`, under the stack lock like `up` and `down`. */
export async function restart(name: string, config: StackConfig, paths: StackPaths): Promise<void> {
  const service = serviceNamed(name);
  await withLock(
    paths.lockFile,
    () => restartService(service, config, paths),
    (holder) => info(`waiting for another pnpm stack run (pid ${holder}) to finish ...`),
  );
  info(`${service.name} ready at ${serviceUrl(service)}`);
}

/** `pnpm stack instance <service> --port N`: an extra instance; its owner stops it (or `down`). */
export async function instance(
  name: string,
  port: number,
  config: StackConfig,
  paths: StackPaths,
): Promise<void> {
  const service = serviceNamed(name);
  const pid = await startInstance(service, port, config, paths);
  const label = instanceName(service, port);
  info(`${label} ready at ${serviceUrl(service, port)} (pid ${pid}; stop it with: kill ${pid})`);
}
