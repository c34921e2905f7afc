import {
  type CpuSnapshot,
  cpuMsPerOrder,
  cpuUsage,
  parseMachineTicks,
  parseProcStat,
  postgresDatabaseOf,
} from './cpu';

// Real lines from this machine (a JVM, a postgres backend), fields 14-17 = utime stime cutime cstime.
const JAVA =
  '5172 (java) S 1 5172 5172 0 -1 4194304 115176 0 2 0 1932 350 0 0 20 0 99 0 15744 6053576704 109795 ' +
  '18446744073709551615 94066139840512 94066139841397 140736981084864 0 0 0 0 0 16800975 0 0 0 17 0 0 0';
const POSTMASTER =
  '2192 (postgres) S 1 2192 2192 0 -1 4194560 9000 40000 0 12 150 80 900 300 20 0 1 0 3000 220000000 5000 ' +
  '18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0';

describe('parseProcStat', () => {
  it('reads pid, comm, parent, utime + stime + cutime + cstime and the start time', () => {
    expect(parseProcStat(JAVA)).toEqual({ pid: 5172, comm: 'java', ppid: 1, ticks: 2282, startTime: 15744 });
    expect(parseProcStat(POSTMASTER)).toMatchObject({ pid: 2192, comm: 'postgres', ticks: 1430 });
  });

  it('counts the fields from the last parenthesis: a command name may hold spaces and parentheses', () => {
    const odd = JAVA.replace('(java)', '(my (odd) name)');
    expect(parseProcStat(odd)).toMatchObject({
      pid: 5172,
      comm: 'my (odd) name',
      ticks: 2282,
      startTime: 15744,
    });
  });

  it('rejects what is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('12 (short) S 1 2 3')).toBeUndefined();
  });
});

describe('parseMachineTicks', () => {
  it('adds user, nice, system, irq and softirq as busy; idle, iowait and steal only to the total', () => {
    const text = 'cpu  19539 10 7479 43797 362 5 325 1237 0 0\ncpu0 9610 0 3455 22579 31 0 109 618 0 0\n';
    expect(parseMachineTicks(text)).toEqual({
      busy: 19539 + 10 + 7479 + 5 + 325,
      total: 19539 + 10 + 7479 + 5 + 325 + 43797 + 362 + 1237,
    });
    expect(parseMachineTicks('intr 1 2 3')).toBeUndefined();
  });
});

const proc = (pid: number, ticks: number, startTime = 100) => ({ pid, startTime, ticks });

function snapshot(atMs: number, samples: CpuSnapshot['samples'], busy?: number): CpuSnapshot {
  return { atMs, samples, ...(busy === undefined ? {} : { machine: { busy, total: busy * 2 } }) };
}

describe('cpuUsage', () => {
  it('is the difference of the ticks over the window, in seconds and in cores', () => {
    const usage = cpuUsage(
      snapshot(1_000, [{ name: 'kafka', processes: [proc(7, 1_000)] }], 50_000),
      snapshot(11_000, [{ name: 'kafka', processes: [proc(7, 1_250)] }], 51_500),
      100,
    );
    expect(usage).toEqual({
      windowSeconds: 10,
      clockTicksPerSecond: 100,
      processes: [{ name: 'kafka', pids: [7], cpuSeconds: 2.5, cores: 0.25, found: true, restarted: false }],
      totalSeconds: 2.5,
      totalCores: 0.25,
      machine: { busySeconds: 15, cores: 1.5 },
    });
  });

  it('sums a group whose members come and go: a finished backend lives on in the parent cutime', () => {
    // Backend 30 had 40 ticks at the start, ran 20 more and exited; the postmaster (its ticks
    // include cutime) took its 60. Backend 31 was born and died in the window (25 ticks, reaped).
    // Backend 32 was born in the window and still runs (10 ticks).
    const start = snapshot(0, [{ name: 'postgres', processes: [proc(2, 500), proc(30, 40)] }]);
    const end = snapshot(10_000, [
      { name: 'postgres', processes: [proc(2, 500 + 60 + 25 + 5), proc(32, 10, 900)] },
    ]);
    const [postgres] = cpuUsage(start, end, 100).processes;
    // 20 (backend 30 in the window) + 25 (backend 31) + 5 (postmaster itself) + 10 (backend 32)
    expect(postgres).toMatchObject({ cpuSeconds: 0.6, pids: [2, 32], restarted: false, found: true });
  });

  it('counts only the new process of a service restarted in the window, and says so', () => {
    const start = snapshot(0, [{ name: 'order-service', processes: [proc(40, 9_000, 100)] }]);
    const end = snapshot(10_000, [{ name: 'order-service', processes: [proc(41, 300, 5_000)] }]);
    expect(cpuUsage(start, end, 100).processes[0]).toMatchObject({ cpuSeconds: 3, restarted: true });
  });

  it('tells a reused pid from the same process by its start time', () => {
    const start = snapshot(0, [{ name: 'redis', processes: [proc(40, 9_000, 100)] }]);
    const end = snapshot(10_000, [{ name: 'redis', processes: [proc(40, 200, 7_000)] }]);
    expect(cpuUsage(start, end, 100).processes[0]).toMatchObject({ cpuSeconds: 2, restarted: true });
  });

  it('reports a process missing at either end as not found, with nothing counted', () => {
    const start = snapshot(0, [
      { name: 'cassandra', processes: [] },
      { name: 'kafka', processes: [proc(7, 10)] },
    ]);
    const end = snapshot(10_000, [
      { name: 'cassandra', processes: [proc(8, 500)] },
      { name: 'kafka', processes: [] },
    ]);
    const usage = cpuUsage(start, end, 100);
    expect(usage.processes.map((p) => [p.name, p.found, p.cpuSeconds])).toEqual([
      ['cassandra', false, 0],
      ['kafka', false, 0],
    ]);
    expect(usage.totalSeconds).toBe(0);
    expect(usage.machine).toBeUndefined();
  });
});

describe('postgresDatabaseOf', () => {
  it("reads a backend's database from its command line, with or without a cluster name", () => {
    expect(postgresDatabaseOf('postgres: 15/main: delivery_service delivery_db 127.0.0.1(36692) idle')).toBe(
      'delivery_db',
    );
    expect(postgresDatabaseOf('postgres: order_service order_db [local] COMMIT')).toBe('order_db');
    expect(postgresDatabaseOf('postgres: 15/main: app webhook_db ::1(5012) idle in transaction')).toBe(
      'webhook_db',
    );
  });

  it("gives none for the server's own processes", () => {
    for (const line of [
      'postgres: 15/main: walwriter',
      'postgres: 15/main: autovacuum launcher',
      'postgres: 15/main: logical replication launcher',
      '/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main',
    ]) {
      expect(postgresDatabaseOf(line)).toBeUndefined();
    }
  });
});

describe('cpuUsage by database', () => {
  it("sums the window's ticks of the backends there at the end by database, a new backend's all of them", () => {
    const db = (pid: number, ticks: number, database: string, startTime = 1) => ({
      ...proc(pid, ticks, startTime),
      database,
    });
    const start = snapshot(0, [
      { name: 'postgres', processes: [proc(2, 500), db(30, 40, 'order_db'), db(31, 10, 'delivery_db')] },
    ]);
    // In the window backend 30 ran 20 ticks and 31 ran 5; 32 was born in it and ran 50.
    const end = snapshot(10_000, [
      {
        name: 'postgres',
        processes: [
          proc(2, 505),
          db(30, 60, 'order_db'),
          db(31, 15, 'delivery_db'),
          db(32, 50, 'delivery_db', 900),
        ],
      },
    ]);
    const [postgres] = cpuUsage(start, end, 100).processes;
    expect(postgres?.byDatabase).toEqual([
      { database: 'delivery_db', cpuSeconds: 0.55 },
      { database: 'order_db', cpuSeconds: 0.2 },
    ]);
    expect(cpuMsPerOrder(cpuUsage(start, end, 100), 10).perDatabase).toEqual({
      delivery_db: 55,
      order_db: 20,
    });
  });

  it('has no breakdown for a process without databases', () => {
    const usage = cpuUsage(
      snapshot(0, [{ name: 'kafka', processes: [proc(7, 1)] }]),
      snapshot(1_000, [{ name: 'kafka', processes: [proc(7, 2)] }]),
      100,
    );
    expect(usage.processes[0]).not.toHaveProperty('byDatabase');
  });
});

describe('cpuMsPerOrder', () => {
  it('divides each process and the total by the accepted orders', () => {
    const usage = cpuUsage(
      snapshot(0, [
        { name: 'a', processes: [proc(1, 0)] },
        { name: 'b', processes: [proc(2, 0)] },
      ]),
      snapshot(10_000, [
        { name: 'a', processes: [proc(1, 300)] },
        { name: 'b', processes: [proc(2, 100)] },
      ]),
      100,
    );
    expect(cpuMsPerOrder(usage, 200)).toEqual({ perProcess: { a: 15, b: 5 }, total: 20, perDatabase: {} });
    expect(cpuMsPerOrder(usage, 0)).toEqual({
      perProcess: { a: null, b: null },
      total: null,
      perDatabase: {},
    });
  });
});
