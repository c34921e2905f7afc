import { STACK_PORTS } from '../images/args';
import { APP_SERVICES } from '../stack/services';

/** `./dispatch test --containers [--timeout 40m] [--port-base 18080] [--project NAME]` */
export interface ContainersArgs {
  /** The whole run's bound, image builds included; past it the run fails and tears down. */
  timeoutSeconds: number;
  /** The six APIs are published on 127.0.0.1:<portBase>…<portBase + 5>, in APP_SERVICES order. */
  portBase: number;
  /** The compose project: container, network and volume names start with it. */
  project: string;
}

export class ContainersUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainersUsageError';
  }
}

export const DEFAULT_TIMEOUT_SECONDS = 40 * 60;
export const DEFAULT_PORT_BASE = 18080;
export const DEFAULT_PROJECT = 'dispatch-containers';

export const CONTAINERS_USAGE = `Usage: ./dispatch test --containers [--timeout <duration>] [--port-base <port>] [--project <name>]

The containers test (not part of ./dispatch test, nor of CI: the image build alone takes about ten
minutes). On this machine, with podman and podman-compose:
  1. builds the service and server images that are missing (./dispatch images --only …);
  2. starts docker-compose.yml (with infra/compose/podman-compose-1.0.yml for podman-compose 1.0.x)
     in stages: the servers, until their compose healthchecks pass; the init jobs, until each exits 0;
     the six services, until their image HEALTHCHECK passes and /health/ready answers 200 through
     the published ports, which are 127.0.0.1:<port-base>…+5 (the local stack keeps 8080-8085);
  3. places an order through the published order-service port, with a token signed by a key made
     for this run (its public JWKS is mounted into the services), and polls query-api until it
     reads DELIVERED;
  4. stops the six services with SIGTERM and checks that each drains and exits 0;
  5. removes every container, the network and the volumes of the project, also after a failure.
Needs root (rootful podman). Where podman cannot run, it says why and fails: it never passes
without running. The last line is \`containers: N passed, N failed\`. Logs: .stack/containers/logs/.

  --timeout    bound of the whole run, e.g. 40m, 2400s, 1h (default: ${DEFAULT_TIMEOUT_SECONDS / 60}m)
  --port-base  first of the six published API ports (default: ${DEFAULT_PORT_BASE})
  --project    compose project name (default: ${DEFAULT_PROJECT})
`;

/** "40m", "2400s", "2400", "1h" → seconds. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * unit;
}

const VALUE_FLAGS = ['--timeout', '--port-base', '--project'] as const;

/** Returns undefined for -h/--help. Pure. */
export function parseContainersArgs(argv: string[]): ContainersArgs | undefined {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return undefined;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!(VALUE_FLAGS as readonly string[]).includes(flag)) {
      throw new ContainersUsageError(`unknown argument "${arg}"`);
    }
    let value = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = argv[i + 1];
      i += 1;
      if (value === undefined || value.startsWith('--'))
        throw new ContainersUsageError(`${flag} needs a value`);
    }
    if (values.has(flag)) throw new ContainersUsageError(`${flag} given twice`);
    values.set(flag, value);
  }

  const timeoutText = values.get('--timeout');
  const timeoutSeconds = timeoutText === undefined ? DEFAULT_TIMEOUT_SECONDS : parseDuration(timeoutText);
  if (timeoutSeconds === undefined || timeoutSeconds < 60 || timeoutSeconds > 3 * 3600) {
    throw new ContainersUsageError(
      `--timeout must be a duration from 1m to 3h (e.g. 40m, 2400s), got "${timeoutText}"`,
    );
  }

  const portText = values.get('--port-base') ?? String(DEFAULT_PORT_BASE);
  const last = 65_535 - (APP_SERVICES.length - 1);
  if (!/^\d+$/.test(portText) || Number(portText) < 1024 || Number(portText) > last) {
    throw new ContainersUsageError(
      `--port-base must be a whole number from 1024 to ${last}, got "${portText}"`,
    );
  }
  const portBase = Number(portText);
  const taken = publishedPorts(portBase).filter((port) => STACK_PORTS.includes(port));
  if (taken.length > 0) {
    throw new ContainersUsageError(
      `--port-base ${portBase} would publish on ${taken.join(', ')}, the local stack's own port${taken.length === 1 ? '' : 's'}; pick another`,
    );
  }

  const project = values.get('--project') ?? DEFAULT_PROJECT;
  // Compose's project-name grammar: lowercase letters, digits, dashes and underscores.
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(project)) {
    throw new ContainersUsageError(
      `--project "${project}" must be lowercase letters, digits, "-" and "_" (a compose project name)`,
    );
  }
  return { timeoutSeconds, portBase, project };
}

/** The host ports of the six APIs, in APP_SERVICES order. Pure. */
export function publishedPorts(portBase: number): number[] {
  return APP_SERVICES.map((_, i) => portBase + i);
}
