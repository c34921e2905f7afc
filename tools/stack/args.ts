import { UsageError } from './errors';
import { APP_SERVICES } from './services';

const SERVICE_LIST = APP_SERVICES.map((service) => service.name).join(', ');

export type Command =
  | { name: 'up'; infraOnly: boolean; withPrometheus?: boolean }
  | { name: 'down'; servicesOnly: boolean }
  | { name: 'restart'; service: string }
  | { name: 'instance'; service: string; port: number }
  | { name: 'status' }
  | { name: 'env' }
  | { name: 'logs'; target: string; lines: number; follow: boolean }
  | { name: 'help' };

export const USAGE = `Usage: pnpm stack <command>

  up [--infra-only]  install what is missing, start Kafka, Cassandra (and PostgreSQL/Redis if down),
                     wait until each is really ready, create databases, keyspace and topics; then
                     start every service under services/<name>, wait for its /health/ready, run
                     its seed script (demo catalogue, drivers). --infra-only: the servers only
  up --with-prometheus
                     also run Prometheus on http://127.0.0.1:9090 scraping the services, with the
                     alert rules of dashboards/alerts.yml (installs Debian's prometheus if missing)
  down [--services]  stop what \`up\` started (nothing else); --services: only the services
  restart <service>  stop a service (SIGTERM, SIGKILL after 25 s) and start it again
  instance <service> --port N
                     start one more instance of a service on port N (same environment), wait
                     until ready; stop it with kill $(cat .stack/pids/<service>@N.pid)
  status             show each server and service: who manages it, pid, ready or not
  logs <name> [-n N] [-f]
                     print the last N (default 100) lines of a log; -f follows it
                     names: kafka, cassandra, postgres, redis, or a service (order-service, ...)
  env                print the export lines of the server addresses (also in .stack/env)

  services: ${SERVICE_LIST}
`;

export function parseArgs(argv: string[]): Command {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      return { name: 'help' };
    case 'up':
      return parseUpArgs(rest);
    case 'down':
      return { name: 'down', servicesOnly: flagOnly(command, rest, '--services') };
    case 'restart':
      return { name: 'restart', service: serviceArg(command, rest) };
    case 'instance':
      return parseInstanceArgs(rest);
    case 'status':
    case 'env':
      if (rest.length > 0) throw new UsageError(`"${command}" takes no arguments, got: ${rest.join(' ')}`);
      return { name: command };
    case 'logs':
      return parseLogsArgs(rest);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

function parseLogsArgs(args: string[]): Command {
  let target: string | undefined;
  let lines = 100;
  let follow = false;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '-f' || arg === '--follow') follow = true;
    else if (arg === '-n' || arg === '--lines') {
      const value = args[i + 1];
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n <= 0) {
        throw new UsageError(`${arg} needs a positive number of lines`);
      }
      lines = n;
      i += 1;
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option "${arg}" for logs`);
    else if (target === undefined) target = arg;
    else throw new UsageError(`logs takes one name, got "${target}" and "${arg}"`);
  }
  if (target === undefined) {
    throw new UsageError(
      `logs needs a name: kafka, cassandra, postgres, redis or a service (${SERVICE_LIST})`,
    );
  }
  return { name: 'logs', target, lines, follow };
}

function parseUpArgs(args: string[]): Command {
  const flags = ['--infra-only', '--with-prometheus'];
  const unknown = args.filter((arg) => !flags.includes(arg));
  if (unknown.length > 0)
    throw new UsageError(`"up" takes only ${flags.join(' and ')}, got: ${unknown.join(' ')}`);
  const withPrometheus = args.includes('--with-prometheus');
  return {
    name: 'up',
    infraOnly: args.includes('--infra-only'),
    ...(withPrometheus ? { withPrometheus } : {}),
  };
}

/** A command that takes at most one flag. */
function flagOnly(command: string, args: string[], flag: string): boolean {
  const unknown = args.filter((arg) => arg !== flag);
  if (unknown.length > 0) throw new UsageError(`"${command}" takes only ${flag}, got: ${unknown.join(' ')}`);
  return args.includes(flag);
}

function serviceArg(command: string, args: string[]): string {
  if (args.length !== 1) throw new UsageError(`${command} takes one service name: ${SERVICE_LIST}`);
  const service = args[0]!;
  if (!APP_SERVICES.some((s) => s.name === service)) {
    throw new UsageError(`unknown service "${service}"; services: ${SERVICE_LIST}`);
  }
  return service;
}

function parseInstanceArgs(args: string[]): Command {
  const portAt = args.findIndex((arg) => arg === '--port' || arg === '-p');
  const value = portAt >= 0 ? args[portAt + 1] : undefined;
  const port = Number(value);
  if (portAt < 0 || value === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new UsageError('instance needs --port N (1-65535)');
  }
  const rest = args.filter((_arg, i) => i !== portAt && i !== portAt + 1);
  return { name: 'instance', service: serviceArg('instance', rest), port };
}
