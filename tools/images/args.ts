import { APP_SERVICES } from '../stack/services';
import { SERVER_NAMES, type ServerName } from './servers';

/** `./dispatch images [--only a,b] [--tag T] [--rebuild-base] [--rebuild-servers] [--smoke [--smoke-service S] [--smoke-port P]]` */
export interface ImagesArgs {
  /** The services to build, in APP_SERVICES order (all of them unless --only). */
  services: string[];
  /** The server images to build when missing, in SERVER_NAMES order (all of them unless --only). */
  servers: ServerName[];
  /** Build the server images again even when they exist. */
  rebuildServers: boolean;
  /** Tag of the service images (`dispatch/<service>:<tag>`); compose's DISPATCH_VERSION default. */
  tag: string;
  /** Make the base image again even when one for this Node version exists. */
  rebuildBase: boolean;
  /** After the build, run one image against the running local stack (host network, --read-only). */
  smoke: boolean;
  smokeService: string;
  /** The smoke container's PORT: never one of the stack's own. */
  smokePort: number;
}

export class ImagesUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImagesUsageError';
  }
}

/** Ports the running local stack binds: the six services, Kafka, Cassandra, PostgreSQL, Redis. */
export const STACK_PORTS: readonly number[] = [...APP_SERVICES.map((s) => s.port), 9092, 9042, 5432, 6379];

export const DEFAULT_SMOKE_SERVICE = 'order-service';
export const DEFAULT_SMOKE_PORT = 18081;

export const IMAGES_USAGE = `Usage: ./dispatch images [--only <name>,...] [--tag <tag>] [--rebuild-base] [--rebuild-servers]
                       [--smoke [--smoke-service <service>] [--smoke-port <port>]]

Builds the service and server images with podman, without pulling anything from a container registry:
  1. a base image from Debian (debootstrap, minbase) plus Node's own binary and npm from the npm
     registry (localhost/dispatch/node-base:<node version>-bookworm), unless it exists already;
  2. each service's image from the Dockerfile (build argument NODE_IMAGE = that base), one after the
     other, as dispatch/<service>:<tag>, and a check of each (non-root, read-only root filesystem);
  3. the server images docker-compose.yml needs (${SERVER_NAMES.join(', ')}; Kafka and Cassandra on a
     JRE image) from tools/images/servers/ on the same base, those that are missing;
  4. a report of their sizes.
Needs root (rootful podman). Installs podman, runc and debootstrap with apt-get when they are
missing and sets what podman needs on this kind of machine in /etc/containers/containers.conf.
Build artifacts and logs: .stack/images/.

  --only             build only these (comma-separated service or server names; default: all)
  --tag              service image tag (default: dev, as docker-compose.yml's DISPATCH_VERSION)
  --rebuild-base     make the base image again (a new debootstrap)
  --rebuild-servers  build the server images again even when they exist
  --smoke            then run one image against the running local stack (./dispatch up): host
                     network, --read-only, its own PORT; checks /health/ready, the image's
                     HEALTHCHECK and a clean stop on SIGTERM
  --smoke-service    the service to run (default: ${DEFAULT_SMOKE_SERVICE})
  --smoke-port       its port (default: ${DEFAULT_SMOKE_PORT}; never one of the stack's)
`;

const VALUE_FLAGS = ['--only', '--tag', '--smoke-service', '--smoke-port'] as const;
const BOOLEAN_FLAGS = ['--rebuild-base', '--rebuild-servers', '--smoke'] as const;
const SERVICE_NAMES = APP_SERVICES.map((s) => s.name);

function serviceName(name: string, flag: string): string {
  if (!SERVICE_NAMES.includes(name)) {
    throw new ImagesUsageError(`${flag}: no service named "${name}" (one of ${SERVICE_NAMES.join(', ')})`);
  }
  return name;
}

/** Returns undefined for -h/--help. Pure. */
export function parseImagesArgs(argv: string[]): ImagesArgs | undefined {
  const values = new Map<string, string>();
  const booleans = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return undefined;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    if ((BOOLEAN_FLAGS as readonly string[]).includes(flag!)) {
      if (inline !== undefined) throw new ImagesUsageError(`${flag} takes no value`);
      if (booleans.has(flag!)) throw new ImagesUsageError(`${flag} given twice`);
      booleans.add(flag!);
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(flag!))
      throw new ImagesUsageError(`unknown argument "${arg}"`);
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      i += 1;
      if (value === undefined || value.startsWith('--')) throw new ImagesUsageError(`${flag} needs a value`);
    }
    if (values.has(flag!)) throw new ImagesUsageError(`${flag} given twice`);
    values.set(flag!, value);
  }

  let services = SERVICE_NAMES;
  let servers: ServerName[] = [...SERVER_NAMES];
  const only = values.get('--only');
  if (only !== undefined) {
    const wanted = only
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (wanted.length === 0) throw new ImagesUsageError('--only needs at least one image');
    for (const name of wanted) {
      if (!SERVICE_NAMES.includes(name) && !(SERVER_NAMES as readonly string[]).includes(name)) {
        throw new ImagesUsageError(
          `--only: no service or server named "${name}" (one of ${[...SERVICE_NAMES, ...SERVER_NAMES].join(', ')})`,
        );
      }
    }
    services = SERVICE_NAMES.filter((name) => wanted.includes(name));
    servers = SERVER_NAMES.filter((name) => wanted.includes(name));
  }

  const tag = values.get('--tag') ?? 'dev';
  // Docker's tag grammar: a word character first, then up to 127 of [A-Za-z0-9_.-].
  if (!/^\w[\w.-]{0,127}$/.test(tag)) throw new ImagesUsageError(`--tag "${tag}" is not a valid image tag`);

  const smoke = booleans.has('--smoke');
  if (!smoke && (values.has('--smoke-service') || values.has('--smoke-port'))) {
    throw new ImagesUsageError('--smoke-service and --smoke-port go with --smoke');
  }
  const smokeService = serviceName(values.get('--smoke-service') ?? DEFAULT_SMOKE_SERVICE, '--smoke-service');
  if (smoke && !services.includes(smokeService)) {
    throw new ImagesUsageError(`--smoke-service ${smokeService} is not among the images built (--only)`);
  }
  const portText = values.get('--smoke-port') ?? String(DEFAULT_SMOKE_PORT);
  if (!/^\d+$/.test(portText) || Number(portText) < 1024 || Number(portText) > 65_535) {
    throw new ImagesUsageError(`--smoke-port must be a whole number from 1024 to 65535, got "${portText}"`);
  }
  const smokePort = Number(portText);
  if (STACK_PORTS.includes(smokePort)) {
    throw new ImagesUsageError(
      `--smoke-port ${smokePort} is one of the local stack's own ports; pick another`,
    );
  }

  return {
    services,
    servers,
    rebuildServers: booleans.has('--rebuild-servers'),
    tag,
    rebuildBase: booleans.has('--rebuild-base'),
    smoke,
    smokeService,
    smokePort,
  };
}
