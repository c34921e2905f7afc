import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'cassandra-driver';
import { readFlags, wholeNumberFlag } from '../cli/flags';
import { CASSANDRA_ADMIN_ROLE, cassandraPasswordFile } from '../stack/cassandra-auth';
import { stackPaths } from '../stack/paths';
import { cassandraServer } from '../stack/servers';
import { clockTicksPerSecond, parseProcStat } from './cpu';
import { summarize } from './stats';

/**
 * What the local Cassandra's timer slack costs and saves (docs/benchmarks.md, "Cassandra's timer slack"):
 *
 *   pnpm exec tsx tools/bench/cassandra-timer-slack.ts [--rate 50] [--duration 10] [--slacks 50000,1000000]
 *
 * For each slack (ns), in turn: writes it to /proc/<tid>/timerslack_ns of every thread of the
 * launcher's Cassandra (root, or the user that started it), then sends single-row SELECTs of a
 * scratch table at `--rate`/s for `--duration` s, one at a time, and reports Cassandra's CPU
 * (utime+stime of its JVM) and the request latency. At the end the launcher's slack is put back and
 * the scratch keyspace dropped. Run it on an otherwise quiet stack: Cassandra's CPU is all it reads.
 */

const KEYSPACE = 'bench_timer_slack';

const usageError = (message: string) => new Error(message);

function slacksOf(text: string): number[] {
  return text
    .split(',')
    .map((part) => wholeNumberFlag('slacks', part.trim(), { min: 1, max: 100_000_000 }, usageError));
}

/** CPU time of the whole process so far, in ms. */
function cpuMs(pid: number, ticksPerSecond: number): number {
  const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (!stat) throw new Error(`cannot read /proc/${pid}/stat`);
  return (stat.ticks * 1000) / ticksPerSecond;
}

function setTimerSlack(pid: number, ns: number): void {
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      writeFileSync(`/proc/${tid}/timerslack_ns`, String(ns));
    } catch {
      // The thread ended meanwhile.
    }
  }
}

async function main(): Promise<void> {
  const values = readFlags(process.argv.slice(2), ['rate', 'duration', 'slacks'], usageError);
  if (values === undefined) {
    console.log(
      'Usage: pnpm exec tsx tools/bench/cassandra-timer-slack.ts [--rate 50] [--duration 10] [--slacks 50000,1000000]',
    );
    return;
  }
  const rate = wholeNumberFlag('rate', values.rate ?? '50', { min: 1, max: 1_000 }, usageError);
  const duration = wholeNumberFlag('duration', values.duration ?? '10', { min: 1, max: 600 }, usageError);
  const slacks = slacksOf(values.slacks ?? '50000,1000000');
  const ticksPerSecond = clockTicksPerSecond();
  const paths = stackPaths();
  const pid = Number(readFileSync(paths.pidFile('cassandra'), 'utf8').trim());
  const password = readFileSync(
    cassandraPasswordFile(path.join(paths.stackDir, 'secrets', 'cassandra'), 'admin'),
    'utf8',
  ).trim();
  const client = new Client({
    contactPoints: ['127.0.0.1:9042'],
    localDataCenter: 'datacenter1',
    credentials: { username: CASSANDRA_ADMIN_ROLE, password },
  });
  await client.connect();
  try {
    await client.execute(
      `CREATE KEYSPACE IF NOT EXISTS ${KEYSPACE} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(`CREATE TABLE IF NOT EXISTS ${KEYSPACE}.t (k text PRIMARY KEY, v text)`);
    console.log(`| timer slack | requests | Cassandra CPU ms/s | CPU ms/request | p50 | p99 |`);
    console.log('|---:|---:|---:|---:|---:|---:|');
    for (const slack of slacks) {
      setTimerSlack(pid, slack);
      await sleep(1_000);
      const latencies: number[] = [];
      const start = Date.now();
      const cpuStart = cpuMs(pid, ticksPerSecond);
      while (Date.now() - start < duration * 1000) {
        const sent = performance.now();
        await client.execute(`SELECT v FROM ${KEYSPACE}.t WHERE k = ?`, [`k${latencies.length}`], {
          prepare: true,
        });
        latencies.push(performance.now() - sent);
        await sleep(1000 / rate);
      }
      const seconds = (Date.now() - start) / 1000;
      const cpu = cpuMs(pid, ticksPerSecond) - cpuStart;
      const s = summarize(latencies)!;
      console.log(
        `| ${slack / 1000} µs | ${s.count} | ${(cpu / seconds).toFixed(1)} | ${(cpu / s.count).toFixed(2)} | ` +
          `${s.p50.toFixed(2)} ms | ${s.p99.toFixed(2)} ms |`,
      );
    }
  } finally {
    setTimerSlack(pid, cassandraServer.timerSlackNs ?? 50_000);
    await client.execute(`DROP KEYSPACE IF EXISTS ${KEYSPACE}`).catch(() => undefined);
    await client.shutdown();
  }
}

main().catch((err: unknown) => {
  console.error(`cassandra-timer-slack: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
