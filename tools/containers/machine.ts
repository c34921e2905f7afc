/** The containers test's view of this machine: can podman run here, which images are missing, free ports. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { localServerImages, SERVER_NAMES } from '../images/servers';
import { ContainersError, execOk, execSync, LOG_DIR, log } from './host';
import { parsePodmanComposeVersion, type Version } from './plan';

function onPath(command: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin'];
  return dirs.some((dir) => dir !== '' && existsSync(path.join(dir, command)));
}

/**
 * Whether the test can run here: Linux, root (the images are in rootful podman's storage), podman and
 * podman-compose (installed with apt-get when missing, as `./dispatch images` installs podman), and
 * `podman info` answering. Returns podman-compose's version, or why the test cannot run.
 */
export function preflight(): { version: Version } | { notRun: string } {
  if (process.platform !== 'linux')
    return { notRun: `podman-compose needs Linux; this is ${process.platform}` };
  if (process.getuid?.() !== 0) {
    return { notRun: 'needs root: the images are in rootful podman (./dispatch images builds them as root)' };
  }
  process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
  const missing = ['podman', 'podman-compose', 'runc'].filter((command) => !onPath(command));
  if (missing.length > 0) {
    if (!onPath('apt-get')) {
      return {
        notRun: `${missing.join(', ')} not found and no apt-get to install them (Debian: podman podman-compose runc)`,
      };
    }
    log(`installing Debian packages ${missing.join(', ')} (apt-get)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execSync('apt-get', ['update'], { env, timeoutMs: 300_000 });
    const install = execSync('apt-get', ['install', '-y', ...missing], { env, timeoutMs: 600_000 });
    const still = missing.filter((command) => !onPath(command));
    if (install.status !== 0 || still.length > 0) {
      return {
        notRun: `apt-get install ${missing.join(' ')} failed: ${install.output.trim().split('\n').slice(-3).join(' / ')}`,
      };
    }
  }
  const info = execSync('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}']);
  if (info.status !== 0) {
    return {
      notRun: `podman cannot run here (podman info: ${info.output.trim().split('\n').slice(-2).join(' / ')})`,
    };
  }
  const versionText = execSync('podman-compose', ['--version']).output;
  const version = parsePodmanComposeVersion(versionText);
  if (!version) return { notRun: `could not read podman-compose's version from: ${versionText.trim()}` };
  return { version };
}

/** The `--only` names of the images `./dispatch images` would have to build (those not in podman). */
export function missingImages(services: readonly string[], tag: string): string[] {
  const exists = (image: string) => execSync('podman', ['image', 'exists', image]).status === 0;
  const servers = localServerImages('').filter((spec) => spec.key !== 'jre');
  return [
    ...services.filter((service) => !exists(`localhost/dispatch/${service}:${tag}`)),
    ...SERVER_NAMES.filter((name) => {
      const spec = servers.find((s) => s.key === name);
      return spec !== undefined && !exists(spec.image);
    }),
  ];
}

/** `./dispatch images --only <names>` (its own log: .stack/containers/logs/images.log). */
export async function buildImages(names: string[], timeoutMs: number): Promise<void> {
  const logFile = path.join(LOG_DIR, 'images.log');
  log(
    `building ${names.join(', ')} with ./dispatch images (about 1-2 min each, the base 1-3 min; log: .stack/containers/logs/images.log)`,
  );
  try {
    await execOk('pnpm', ['--silent', 'exec', 'tsx', 'tools/images/cli.ts', '--only', names.join(',')], {
      what: `./dispatch images --only ${names.join(',')}`,
      timeoutMs,
      logFile,
      echo: true,
    });
  } catch (err) {
    const tail = execSync('tail', ['-n', '30', logFile]).stdout;
    throw new ContainersError(`${(err as Error).message}\n${tail}`);
  }
}

/** The ports of `ports` something on 127.0.0.1 already listens on. */
export async function portsInUse(ports: number[]): Promise<number[]> {
  const busy = await Promise.all(
    ports.map(
      (port) =>
        new Promise<boolean>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.setTimeout(2_000);
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('timeout', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
    ),
  );
  return ports.filter((_, i) => busy[i]);
}

/** A fresh secret for one compose variable (URL- and shell-safe). */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}
