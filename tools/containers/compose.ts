/** The compose project of one containers test run: podman-compose for the stages, podman for the rest. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CommandTimeoutError, exec, execOk, execSync, LOG_DIR } from './host';
import { composeArgs, VOLUMES } from './plan';

const PROJECT_LABEL = 'io.podman.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';

export interface ContainerState {
  status: string;
  exitCode: number;
}

export class ComposeProject {
  private readonly names = new Map<string, string>();

  constructor(
    readonly project: string,
    private readonly files: string[],
    private readonly env: Record<string, string>,
  ) {}

  /** `podman-compose up -d [--no-deps] <services>`; its output in .stack/containers/logs/compose.log. */
  async up(services: readonly string[], timeoutMs: number, noDeps: boolean): Promise<void> {
    await execOk(
      'podman-compose',
      [...composeArgs(this.project, this.files), 'up', '-d', ...(noDeps ? ['--no-deps'] : []), ...services],
      {
        what: `podman-compose up ${services.join(' ')}`,
        timeoutMs,
        env: { ...process.env, ...this.env },
        logFile: path.join(LOG_DIR, 'compose.log'),
      },
    );
  }

  /** The container podman-compose made for a service (by its labels; 1.0.x names it <project>_<service>_1). */
  async container(service: string): Promise<string> {
    const known = this.names.get(service);
    if (known) return known;
    const { stdout } = await exec(
      'podman',
      [
        'ps',
        '--all',
        '--filter',
        `label=${PROJECT_LABEL}=${this.project}`,
        '--filter',
        `label=${SERVICE_LABEL}=${service}`,
        '--format',
        '{{.Names}}',
      ],
      { what: `finding the container of ${service}`, timeoutMs: 30_000 },
    );
    const found = stdout.trim().split('\n')[0]?.trim();
    if (found) this.names.set(service, found);
    return found || `${this.project}_${service}_1`;
  }

  /**
   * The compose healthcheck, run once (podman runs none by itself without systemd timers). One that
   * hangs past a minute (a JVM start such as nodetool's, on a busy machine) counts as not healthy
   * yet: the caller polls again, within its own bound.
   */
  async healthy(service: string): Promise<boolean> {
    try {
      const result = await exec('podman', ['healthcheck', 'run', await this.container(service)], {
        what: `the healthcheck of ${service}`,
        timeoutMs: 60_000,
      });
      return result.status === 0;
    } catch (err) {
      if (err instanceof CommandTimeoutError) return false;
      throw err;
    }
  }

  /** The container's state; `unknown` when podman inspect hung past a minute (asked again by the caller). */
  async state(service: string): Promise<ContainerState> {
    let result: { status: number | null; stdout: string };
    try {
      result = await exec(
        'podman',
        ['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', await this.container(service)],
        { what: `podman inspect of ${service}`, timeoutMs: 60_000 },
      );
    } catch (err) {
      if (err instanceof CommandTimeoutError) return { status: 'unknown', exitCode: -1 };
      throw err;
    }
    if (result.status !== 0) return { status: 'missing', exitCode: -1 };
    const [state, code] = result.stdout.trim().split(' ');
    return { status: state ?? 'unknown', exitCode: Number(code) };
  }

  async logsTail(service: string, lines = 30): Promise<string> {
    const name = await this.container(service);
    const result = await exec('podman', ['logs', '--tail', String(lines), name], {
      what: `podman logs ${name}`,
      timeoutMs: 30_000,
      logFile: path.join(LOG_DIR, `${service}.log`),
    });
    return result.stdout;
  }

  /** Saves every container's whole log under .stack/containers/logs/ (kept after the teardown). */
  saveLogs(services: readonly string[], prefix = 'container'): string[] {
    return services.map((service) => {
      const name = this.names.get(service) ?? `${this.project}_${service}_1`;
      const file = path.join(LOG_DIR, `${prefix}-${service}.log`);
      writeFileSync(file, execSync('podman', ['logs', name]).output);
      return file;
    });
  }

  async exec(service: string, command: string[], timeoutMs: number): Promise<string> {
    const name = await this.container(service);
    return execOk('podman', ['exec', name, ...command], {
      what: `podman exec ${name} ${command.join(' ')}`,
      timeoutMs,
      logFile: path.join(LOG_DIR, `exec-${service}.log`),
    });
  }

  /** `podman start` of an exited container: its command runs again (the init jobs are idempotent). */
  async start(service: string): Promise<void> {
    const name = await this.container(service);
    await execOk('podman', ['start', name], {
      what: `podman start ${name}`,
      timeoutMs: 120_000,
      logFile: path.join(LOG_DIR, 'compose.log'),
    });
  }

  /** `podman stop -t <grace>` (SIGTERM, then SIGKILL after the grace period), all at once. */
  async stop(services: readonly string[], graceSeconds: number): Promise<void> {
    const names = await Promise.all(services.map((s) => this.container(s)));
    await execOk('podman', ['stop', '--time', String(graceSeconds), ...names], {
      what: `podman stop ${names.join(' ')}`,
      timeoutMs: (graceSeconds + 60) * 1000,
      logFile: path.join(LOG_DIR, 'stop.log'),
    });
  }

  /**
   * Removes everything of the project: `podman-compose down -v`, then whatever is left by label or
   * by name (containers, the volumes, the network). Synchronous: it also runs from a signal handler.
   * Returns what is still there afterwards (nothing, when it worked).
   */
  teardown(): string[] {
    const base = [...composeArgs(this.project, this.files)];
    const env = { ...process.env, ...this.env };
    // down -t 30: the services' stop_grace_period (1.0.x does not apply it).
    const down = execSync('podman-compose', [...base, 'down', '-v', '-t', '30'], { env, timeoutMs: 300_000 });
    writeFileSync(path.join(LOG_DIR, 'compose-down.log'), down.output);
    const containers = this.leftContainers();
    if (containers.length > 0) execSync('podman', ['rm', '--force', '--time', '10', ...containers]);
    for (const volume of VOLUMES)
      execSync('podman', ['volume', 'rm', '--force', `${this.project}_${volume}`]);
    const labelled = this.leftVolumes();
    if (labelled.length > 0) execSync('podman', ['volume', 'rm', '--force', ...labelled]);
    execSync('podman', ['network', 'rm', '--force', `${this.project}_default`]);
    return [
      ...this.leftContainers().map((c) => `container ${c}`),
      ...this.leftVolumes().map((v) => `volume ${v}`),
      ...(execSync('podman', ['network', 'exists', `${this.project}_default`]).status === 0
        ? [`network ${this.project}_default`]
        : []),
    ];
  }

  private leftContainers(): string[] {
    return lines(
      execSync('podman', [
        'ps',
        '--all',
        '--filter',
        `label=${PROJECT_LABEL}=${this.project}`,
        '--format',
        '{{.Names}}',
      ]).stdout,
    );
  }

  private leftVolumes(): string[] {
    const byLabel = lines(
      execSync('podman', [
        'volume',
        'ls',
        '--filter',
        `label=${PROJECT_LABEL}=${this.project}`,
        '--format',
        '{{.Name}}',
      ]).stdout,
    );
    const byName = lines(execSync('podman', ['volume', 'ls', '--format', '{{.Name}}']).stdout).filter(
      (name) => VOLUMES.some((volume) => name === `${this.project}_${volume}`),
    );
    return [...new Set([...byLabel, ...byName])];
  }
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
