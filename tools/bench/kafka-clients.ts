import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  missingClients,
  PACKAGE_OF,
  REPO_ROOT,
  requireFor,
  saslOption,
  type WorkerSpec,
} from './kafka-clients/adapters';
import {
  installHint,
  KAFKA_CLIENTS_USAGE,
  type KafkaClientsArgs,
  KafkaClientsUsageError,
  parseKafkaClientsArgs,
} from './kafka-clients/args';
import { renderKafkaClientsReport } from './kafka-clients/report';
import type { KafkaClientsReport, RunResult } from './kafka-clients/results';
import { brokerMs, readBrokerTicks, runWorker } from './kafka-clients/worker';

/**
 * Kafka client comparison: which Node client should packages/platform/src/kafka use?
 *
 *   pnpm exec tsx tools/bench/kafka-clients.ts [--messages 50000] [--size 500] [--clients kafkajs,platformatic,confluent]
 *
 * For each client, against the local broker, on a fresh 6-partition topic, in a process of its own
 * (so process.cpuUsage() is that client's alone, every thread included):
 *  1. produce: `--messages` values of `--size` bytes keyed over `--keys` keys, `--batch` per send, each
 *     send awaited before the next (as the outbox relay publishes), acks=all, idempotent;
 *  2. consume them all as a fresh consumer group, one offset commit per partition batch (as runConsumer);
 *  3. latency: `--latency` single messages, one send each at `--rate`/s, with the consumer running;
 *  4. idle: the consumer subscribed, the producer disconnected, nothing arriving, for `--idle` seconds:
 *     the client's CPU and the Kafka broker's (utime+stime of its JVM from /proc/<pid>/stat).
 *
 * kafkajs comes from the workspace (packages/platform's dependency). The two candidates are kept out
 * of the workspace on purpose (CI must not build librdkafka): they are loaded from
 * .stack/kafka-clients/ (git-ignored), see INSTALL_HINT.
 *
 * This file is the parent (topics, baselines, one worker process per client and round, the report);
 * kafka-clients/ holds the command line (args.ts), the clients behind one interface (adapters.ts),
 * the worker (worker.ts), what is measured (results.ts) and the report's text (report.ts).
 */

function clockTicks(): number {
  // USER_HZ is 100 on every Linux build that matters; read it when getconf is there.
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** The Kafka JVM's pid: .stack/pids/kafka.pid, else the process whose command line names kafka.Kafka. */
export function findBrokerPid(): number | null {
  const isBroker = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka');
    } catch {
      return false;
    }
  };
  const pidFile = path.join(REPO_ROOT, '.stack', 'pids', 'kafka.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && isBroker(pid)) return pid;
  }
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('pgrep', ['-f', 'kafka\\.Kafka'], { encoding: 'utf8' });
    const pid = out
      .split('\n')
      .map(Number)
      .find((p) => Number.isInteger(p) && p > 0 && isBroker(p));
    return pid ?? null;
  } catch {
    return null;
  }
}

function runWorkerProcess(spec: WorkerSpec, ticksPerSecond: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, __filename, '__worker', JSON.stringify(spec), String(ticksPerSecond)],
      // The worker's own output (and any client's logging) goes to stderr: stdout stays the report.
      { stdio: ['ignore', process.stderr, process.stderr] },
    );
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`worker exited with ${signal ?? code}`);
        resolve(JSON.parse(readFileSync(spec.resultFile, 'utf8')) as RunResult);
      } catch (err) {
        reject(err);
      } finally {
        rmSync(spec.resultFile, { force: true });
      }
    });
  });
}

async function runComparison(args: KafkaClientsArgs): Promise<KafkaClientsReport> {
  const log = (line: string) => process.stderr.write(`kafka-clients: ${line}\n`);
  const ticksPerSecond = clockTicks();
  const brokerPid = findBrokerPid();
  if (brokerPid === null) log('the Kafka JVM was not found (.stack/pids/kafka.pid, pgrep): no broker CPU');
  // biome-ignore lint/suspicious/noExplicitAny: loaded at run time
  const kjs: any = requireFor('kafkajs')('kafkajs');
  const admin = new kjs.Kafka({
    clientId: 'bench-kafka-clients-admin',
    brokers: args.brokers,
    ...saslOption(),
    logLevel: kjs.logLevel.ERROR,
  }).admin();
  const runId = `${Date.now().toString(36)}`;
  const plan: WorkerSpec[] = [];
  for (let round = 1; round <= args.rounds; round += 1) {
    for (const client of args.clients) {
      const name = `${runId}.${client}.${round}`;
      plan.push({
        client,
        round,
        topic: `bench.kafka-clients.${name}`,
        groupId: `bench-kafka-clients.${name}`,
        brokers: args.brokers,
        messages: args.messages,
        size: args.size,
        batch: args.batch,
        keys: args.keys,
        latency: args.latency,
        rate: args.rate,
        idleS: args.idleS,
        brokerPid,
        resultFile: path.join(tmpdir(), `kafka-clients-${process.pid}-${name}.json`),
      });
    }
  }
  const { messages: _m, json: _json, ...rest } = args;
  const report: KafkaClientsReport = {
    startedAt: new Date().toISOString(),
    node: process.version,
    loadavg: loadavg(),
    args: { messages: args.messages, ...rest },
    brokerPid,
    runs: [],
    baselines: [],
    failures: [],
  };
  await admin.connect();
  try {
    await admin.createTopics({
      topics: plan.map((s) => ({ topic: s.topic, numPartitions: args.partitions, replicationFactor: 1 })),
      waitForLeaders: true,
    });
    await admin.disconnect();
    for (let round = 1; round <= args.rounds; round += 1) {
      if (args.idleS > 0 && brokerPid !== null) {
        const ticks = readBrokerTicks(brokerPid);
        const t0 = performance.now();
        log(`round ${round}: broker baseline, ${args.idleS} s with no benchmark client connected`);
        await sleep(args.idleS * 1000);
        const seconds = (performance.now() - t0) / 1000;
        const ms = brokerMs(ticks, readBrokerTicks(brokerPid), ticksPerSecond);
        report.baselines.push({ round, seconds, brokerCpuMsPerS: ms === null ? null : ms / seconds });
      }
      for (const spec of plan.filter((s) => s.round === round)) {
        log(`round ${round}: ${spec.client} on ${spec.topic}`);
        try {
          report.runs.push(await runWorkerProcess(spec, ticksPerSecond));
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          log(`round ${round}: ${spec.client} failed: ${error}`);
          report.failures.push({ client: spec.client, round, error });
        }
      }
    }
  } finally {
    // Leave the broker as it was: the topics and groups are the benchmark's own.
    try {
      await admin.connect();
      await admin.deleteTopics({ topics: plan.map((s) => s.topic) }).catch(() => {});
      await admin.deleteGroups(plan.map((s) => s.groupId)).catch(() => {});
      await admin.disconnect();
    } catch (err) {
      log(`cleaning up the benchmark topics failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return report;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === '__worker') {
    const spec = JSON.parse(argv[1]!) as WorkerSpec;
    const result = await runWorker(spec, Number(argv[2]) || 100);
    writeFileSync(spec.resultFile, JSON.stringify(result));
    return 0;
  }
  let args: KafkaClientsArgs | undefined;
  try {
    args = parseKafkaClientsArgs(argv);
  } catch (err) {
    if (!(err instanceof KafkaClientsUsageError)) throw err;
    process.stderr.write(`kafka-clients: ${err.message}\n\n${KAFKA_CLIENTS_USAGE}`);
    return 2;
  }
  if (args === undefined) {
    process.stdout.write(KAFKA_CLIENTS_USAGE);
    return 0;
  }
  const missing = missingClients(args.clients);
  if (missing.length > 0) {
    process.stderr.write(
      `kafka-clients: cannot load ${missing.map((m) => m.client).join(', ')}:\n${missing
        .map((m) => `  ${PACKAGE_OF[m.client]}: ${m.why}\n`)
        .join('')}` +
        `The candidate clients live outside the workspace, in .stack/kafka-clients/ (git-ignored). Install them with:\n${installHint('  ')}` +
        `or leave them out with --clients.\n`,
    );
    return 1;
  }
  const report = await runComparison(args);
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderKafkaClientsReport(report));
  return report.failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(
        `kafka-clients: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
