import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVICE_NAMES, stackDir } from '@dispatch/testkit';

/**
 * CPU accounting from /proc (Linux): utime + stime (+ cutime + cstime, the children a process has
 * reaped) of each process of the stack, read at the start and the end of a window. The parsing and
 * the arithmetic are pure; CpuProbe does the reading.
 */

/** One line of /proc/<pid>/stat: what the accounting needs. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
  /** Clock ticks after boot when the process started: with the pid, its identity. */
  startTime: number;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself hold spaces
 * and parentheses, so the fields are counted from the last ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // After ')': field 3 (state) is index 0, so field n is index n - 3.
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(fields[n - 3]);
  const ticks = field(14) + field(15) + field(16) + field(17);
  if (!Number.isInteger(pid) || !Number.isFinite(ticks) || fields.length < 20) return undefined;
  return { pid, comm: text.slice(open + 1, close), ppid: field(4), ticks, startTime: field(22) };
}

/** The first line of /proc/stat: the whole machine's busy and total clock ticks (all CPUs). */
export function parseMachineTicks(text: string): { busy: number; total: number } | undefined {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already in user and nice)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((n) => Number(n));
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) + (steal ?? 0) };
}

/** What one named process (or group of processes, e.g. every postgres) used up to a moment. */
export interface ProcessSample {
  name: string;
  /** `database`: a PostgreSQL backend's, from its command line. */
  processes: { pid: number; startTime: number; ticks: number; database?: string }[];
}

/**
 * The database of a PostgreSQL backend from its command line, which the server sets to
 * `postgres: [cluster: ]user database host(port)|[local] activity`; undefined for the server's own
 * processes (`postgres: 15/main: walwriter`, `… logical replication launcher`).
 */
export function postgresDatabaseOf(cmdline: string): string | undefined {
  const match = /^postgres: (?:\S+: )?\S+ (\S+) (?:\[local\]|\S+\(\d+\))(?: |$)/.exec(cmdline);
  return match?.[1];
}

export interface CpuSnapshot {
  /** performance.now() when taken. */
  atMs: number;
  samples: ProcessSample[];
  machine?: { busy: number; total: number };
}

export interface ProcessCpu {
  name: string;
  /** The pids seen at the end of the window (all of them for a group). */
  pids: number[];
  cpuSeconds: number;
  /** cpuSeconds per second of the window: 1 = one core busy all the time. */
  cores: number;
  /** Not found at the start or the end: cpuSeconds is 0 and means nothing. */
  found: boolean;
  /**
   * The process was replaced during the window (none of the start's pids is there at the end):
   * cpuSeconds is the new process's alone, what the old one spent in the window is lost.
   */
  restarted: boolean;
  /**
   * PostgreSQL's backends by database, most first: the backends there at the end (a backend that
   * ended in the window is in the group's total, through the postmaster, but in no database).
   */
  byDatabase?: { database: string; cpuSeconds: number }[];
}

export interface CpuUsage {
  windowSeconds: number;
  clockTicksPerSecond: number;
  processes: ProcessCpu[];
  /** Sum over the processes found. */
  totalSeconds: number;
  totalCores: number;
  /** The whole machine (/proc/stat), other users' processes included. */
  machine?: { busySeconds: number; cores: number };
}

/**
 * CPU seconds per name between two snapshots. For a group the sum at the end minus the sum at the
 * start is exact even while members come and go: a member that exits is reaped by its parent (the
 * postmaster), whose cutime then holds all of its time, the part before the window included, just
 * as the start's sum did.
 */
export function cpuUsage(start: CpuSnapshot, end: CpuSnapshot, clockTicksPerSecond: number): CpuUsage {
  const windowSeconds = (end.atMs - start.atMs) / 1000;
  const processes = end.samples.map((last): ProcessCpu => {
    const first = start.samples.find((s) => s.name === last.name);
    const before = new Set((first?.processes ?? []).map(identity));
    const found = before.size > 0 && last.processes.length > 0;
    const restarted = found && !last.processes.some((p) => before.has(identity(p)));
    const sum = (sample: ProcessSample | undefined) =>
      (sample?.processes ?? []).reduce((total, p) => total + p.ticks, 0);
    const ticks = !found ? 0 : restarted ? sum(last) : Math.max(0, sum(last) - sum(first));
    const cpuSeconds = ticks / clockTicksPerSecond;
    const byDatabase = found ? ticksByDatabase(first, last) : undefined;
    return {
      name: last.name,
      pids: last.processes.map((p) => p.pid),
      cpuSeconds,
      cores: windowSeconds > 0 ? cpuSeconds / windowSeconds : 0,
      found,
      restarted,
      ...(byDatabase
        ? {
            byDatabase: byDatabase.map(({ database, ticks }) => ({
              database,
              cpuSeconds: ticks / clockTicksPerSecond,
            })),
          }
        : {}),
    };
  });
  const totalSeconds = processes.reduce((total, p) => total + p.cpuSeconds, 0);
  const usage: CpuUsage = {
    windowSeconds,
    clockTicksPerSecond,
    processes,
    totalSeconds,
    totalCores: windowSeconds > 0 ? totalSeconds / windowSeconds : 0,
  };
  if (start.machine && end.machine) {
    const busySeconds = (end.machine.busy - start.machine.busy) / clockTicksPerSecond;
    usage.machine = { busySeconds, cores: windowSeconds > 0 ? busySeconds / windowSeconds : 0 };
  }
  return usage;
}

/** A process's identity across snapshots: its pid alone could have been reused. */
function identity(p: { pid: number; startTime: number }): string {
  return `${p.pid}@${p.startTime}`;
}

/** The window's ticks of the end's backends per database (a backend born in it: all of its ticks). */
function ticksByDatabase(
  first: ProcessSample | undefined,
  last: ProcessSample,
): { database: string; ticks: number }[] | undefined {
  const before = new Map((first?.processes ?? []).map((p) => [identity(p), p.ticks]));
  const totals = new Map<string, number>();
  for (const p of last.processes) {
    if (p.database === undefined) continue;
    const ticks = Math.max(0, p.ticks - (before.get(identity(p)) ?? 0));
    totals.set(p.database, (totals.get(p.database) ?? 0) + ticks);
  }
  if (totals.size === 0) return undefined;
  return [...totals]
    .map(([database, ticks]) => ({ database, ticks }))
    .sort((a, b) => b.ticks - a.ticks || a.database.localeCompare(b.database));
}

/** CPU milliseconds per order of each process and of all of them; null without orders. */
export function cpuMsPerOrder(
  usage: CpuUsage,
  orders: number,
): {
  perProcess: Record<string, number | null>;
  total: number | null;
  /** PostgreSQL's backends by database (see ProcessCpu.byDatabase). */
  perDatabase: Record<string, number | null>;
} {
  const per = (seconds: number) => (orders > 0 ? (seconds * 1000) / orders : null);
  return {
    perProcess: Object.fromEntries(usage.processes.map((p) => [p.name, per(p.cpuSeconds)])),
    total: per(usage.totalSeconds),
    perDatabase: Object.fromEntries(
      usage.processes.flatMap((p) => p.byDatabase ?? []).map((d) => [d.database, per(d.cpuSeconds)]),
    ),
  };
}

// ---- reading /proc ----------------------------------------------------------------------

/** How each process of the stack is found. */
type Target =
  | { name: string; kind: 'pidFile'; file: string; marker: string; fallbackScan: boolean }
  /** `databases`: PostgreSQL, whose backends name their database in their command line. */
  | { name: string; kind: 'comm'; comm: string; databases?: true }
  | { name: string; kind: 'self' };

/** The processes whose CPU the benchmark reports, in this order. */
export const CPU_PROCESS_NAMES = [
  ...SERVICE_NAMES,
  'kafka',
  'cassandra',
  'postgres',
  'redis',
  'bench client',
] as const;

function targets(): Target[] {
  const pids = path.join(stackDir(), 'pids');
  return [
    // A service by the launcher's pid file only: tests may run extra instances of the same code.
    ...SERVICE_NAMES.map(
      (name): Target => ({
        name,
        kind: 'pidFile',
        file: path.join(pids, `${name}.pid`),
        marker: `services/${name}/`,
        fallbackScan: false,
      }),
    ),
    {
      name: 'kafka',
      kind: 'pidFile',
      file: path.join(pids, 'kafka.pid'),
      marker: 'kafka.Kafka',
      fallbackScan: true,
    },
    {
      name: 'cassandra',
      kind: 'pidFile',
      file: path.join(pids, 'cassandra.pid'),
      marker: 'org.apache.cassandra.service.CassandraDaemon',
      fallbackScan: true,
    },
    { name: 'postgres', kind: 'comm', comm: 'postgres', databases: true },
    { name: 'redis', kind: 'comm', comm: 'redis-server' },
    { name: 'bench client', kind: 'self' },
  ];
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  return (readText(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ');
}

/** The clock ticks per second /proc counts in (getconf CLK_TCK; 100 on every Linux we know). */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    if (Number.isInteger(value) && value > 0) return value;
  } catch {
    // no getconf: fall through
  }
  return 100;
}

export class CpuProbe {
  readonly clockTicks = clockTicksPerSecond();
  private readonly targets = targets();

  /** Whether this machine has /proc at all (Linux). */
  static available(): boolean {
    return existsSync('/proc/self/stat');
  }

  snapshot(): CpuSnapshot {
    const all: ProcStat[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readText(`/proc/${entry}/stat`);
      const parsed = stat === undefined ? undefined : parseProcStat(stat);
      if (parsed) all.push(parsed);
    }
    const byPid = new Map(all.map((p) => [p.pid, p]));
    const samples = this.targets.map((target): ProcessSample => {
      const found = this.find(target, all, byPid);
      return {
        name: target.name,
        processes: found.map((p) => {
          const database =
            target.kind === 'comm' && target.databases ? postgresDatabaseOf(cmdline(p.pid)) : undefined;
          return { pid: p.pid, startTime: p.startTime, ticks: p.ticks, ...(database ? { database } : {}) };
        }),
      };
    });
    const machineText = readText('/proc/stat');
    const machine = machineText === undefined ? undefined : parseMachineTicks(machineText);
    return { atMs: performance.now(), samples, ...(machine ? { machine } : {}) };
  }

  private find(target: Target, all: ProcStat[], byPid: Map<number, ProcStat>): ProcStat[] {
    if (target.kind === 'self') return byPid.has(process.pid) ? [byPid.get(process.pid)!] : [];
    if (target.kind === 'comm') return all.filter((p) => p.comm === target.comm);
    const pid = Number(readText(target.file)?.trim());
    const fromFile = Number.isInteger(pid) ? byPid.get(pid) : undefined;
    if (fromFile && cmdline(fromFile.pid).includes(target.marker)) return [fromFile];
    if (!target.fallbackScan) return [];
    const match = all.find((p) => p.comm === 'java' && cmdline(p.pid).includes(target.marker));
    return match ? [match] : [];
  }
}
