import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { tailSummary } from '../stats';

import {
  type BenchMessage,
  type ConsumerHooks,
  confluentAdapter,
  kafkajsAdapter,
  platformaticAdapter,
  versionOf,
  type WorkerSpec,
} from './adapters';
import {
  cpuPer1k,
  decodeValue,
  encodeValue,
  median,
  type PhaseResult,
  parseSsSegments,
  parseUtimeStime,
  type RunResult,
} from './results';

/** The kafka-clients benchmark: the worker, one client and one round in a process of its own. */

export function readBrokerTicks(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    return parseUtimeStime(readFileSync(`/proc/${pid}/stat`, 'utf8')) ?? null;
  } catch {
    return null;
  }
}

/** This process's connections to the broker, from `ss` (child process CPU is not in cpuUsage()). */
function ownSegments(ports: readonly number[]): ReturnType<typeof parseSsSegments> | null {
  try {
    const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
    const out = execFileSync('ss', ['-tinpH', 'state', 'established'], { encoding: 'utf8' });
    return parseSsSegments(out, process.pid, ports);
  } catch {
    return null;
  }
}

/** The broker's CPU milliseconds between two readings of its clock ticks. */
export function brokerMs(
  ticksStart: number | null,
  ticksEnd: number | null,
  ticksPerSecond: number,
): number | null {
  return ticksStart === null || ticksEnd === null ? null : ((ticksEnd - ticksStart) * 1000) / ticksPerSecond;
}

const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

export async function runWorker(spec: WorkerSpec, ticksPerSecond: number): Promise<RunResult> {
  const log = (line: string) =>
    process.stderr.write(`kafka-clients: [${spec.client} #${spec.round}] ${line}\n`);
  const adapter =
    spec.client === 'kafkajs'
      ? kafkajsAdapter(spec)
      : spec.client === 'platformatic'
        ? await platformaticAdapter(spec)
        : confluentAdapter(spec);

  const keys = Array.from({ length: spec.keys }, (_, i) => Buffer.from(`key-${i}`));
  const bulk: BenchMessage[] = Array.from({ length: spec.messages }, (_, i) => ({
    key: keys[i % keys.length]!,
    value: encodeValue('bulk', i, spec.size),
  }));

  // 1. produce
  await adapter.connectProducer();
  let sends = 0;
  let cpu = process.cpuUsage();
  let ticks = readBrokerTicks(spec.brokerPid);
  let t0 = performance.now();
  for (let i = 0; i < bulk.length; i += spec.batch) {
    await adapter.send(bulk.slice(i, i + spec.batch));
    sends += 1;
  }
  const produceWall = performance.now() - t0;
  const produceCpu = cpuMsSince(cpu);
  const produceBroker = brokerMs(ticks, readBrokerTicks(spec.brokerPid), ticksPerSecond);
  log(`produced ${spec.messages} in ${(produceWall / 1000).toFixed(2)} s`);

  // 2. consume the backlog, then 3. latency probes, with the same consumer
  const sentAt = new Float64Array(spec.latency).fill(Number.NaN);
  const latencies: number[] = [];
  let bulkSeen = 0;
  let probesSeen = 0;
  let committed = 0;
  let commits = 0;
  let firstMessageAt = Number.NaN;
  let consumerError: unknown;
  let wake: (() => void) | undefined;
  const poke = () => wake?.();
  const until = async (done: () => boolean, timeoutMs: number, what: string) => {
    const deadline = performance.now() + timeoutMs;
    while (!done()) {
      if (consumerError) throw consumerError;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 250));
      });
      wake = undefined;
    }
  };
  const hooks: ConsumerHooks = {
    onBatch(_partition, values) {
      const now = performance.now();
      if (Number.isNaN(firstMessageAt)) firstMessageAt = now;
      for (const value of values) {
        const decoded = decodeValue(value);
        if (!decoded) continue;
        if (decoded.kind === 'bulk') {
          bulkSeen += 1;
        } else if (decoded.id < sentAt.length && !Number.isNaN(sentAt[decoded.id]!)) {
          latencies.push(now - sentAt[decoded.id]!);
          sentAt[decoded.id] = Number.NaN;
          probesSeen += 1;
        }
      }
    },
    onCommitted(count) {
      committed += count;
      commits += 1;
      poke();
    },
    onError(err) {
      consumerError ??= err;
      poke();
    },
  };
  cpu = process.cpuUsage();
  ticks = readBrokerTicks(spec.brokerPid);
  const consumeStart = performance.now();
  await adapter.startConsumer(hooks);
  await until(() => committed >= spec.messages, 300_000, `${spec.messages} messages consumed and committed`);
  const consumeWall = performance.now() - consumeStart;
  const consumeCpu = cpuMsSince(cpu);
  const consumeBroker = brokerMs(ticks, readBrokerTicks(spec.brokerPid), ticksPerSecond);
  const consumeCommits = commits;
  log(`consumed ${bulkSeen} in ${(consumeWall / 1000).toFixed(2)} s, ${consumeCommits} commits`);

  let latency: RunResult['latency'] = null;
  if (spec.latency > 0) {
    await sleep(1_000);
    const interval = 1000 / spec.rate;
    let sendErrors = 0;
    const acks: number[] = [];
    // One send at a time, as the outbox relay publishes: a probe is sent when it is due, or when the
    // previous send is acknowledged if that is later (so a client whose round trip exceeds the
    // interval sends fewer than --rate per second; the achieved rate is reported). Its latency runs
    // from its send() call to the consumer's handler. (Concurrent sends would also break the
    // idempotent producer of @platformatic/kafka 1.x: out-of-order sequence numbers.)
    const start = performance.now();
    let lastSendAt = start;
    for (let i = 0; i < spec.latency; i += 1) {
      const wait = start + i * interval - performance.now();
      if (wait > 0) await sleep(wait);
      const probe = { key: keys[i % keys.length]!, value: encodeValue('probe', i, spec.size) };
      lastSendAt = performance.now();
      sentAt[i] = lastSendAt;
      try {
        await adapter.send([probe]);
        acks.push(performance.now() - lastSendAt);
      } catch (err) {
        sendErrors += 1;
        if (sendErrors <= 3) log(`probe ${i} not sent: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const sendSeconds = (lastSendAt - start) / 1000;
    await until(() => probesSeen + sendErrors >= spec.latency, 10_000, 'the latency probes').catch(
      (err: unknown) => log(err instanceof Error ? err.message : String(err)),
    );
    latency = {
      ...tailSummary(latencies, spec.latency - latencies.length),
      sent: spec.latency,
      rate: spec.rate,
      achievedRate: sendSeconds > 0 ? (spec.latency - 1) / sendSeconds : Number.NaN,
      ackP50: tailSummary(acks).p50,
      sendErrors,
    };
    log(`latency p50 ${latency.p50?.toFixed(1)} ms, p99 ${latency.p99?.toFixed(1)} ms`);
  }
  await adapter.disconnectProducer();

  // 4. idle: the consumer alone, nothing arriving
  let idle: RunResult['idle'] = null;
  if (spec.idleS > 0) {
    await sleep(2_000);
    const ports = spec.brokers.map((b) => Number(b.slice(b.lastIndexOf(':') + 1)));
    const segmentsBefore = ownSegments(ports);
    cpu = process.cpuUsage();
    ticks = readBrokerTicks(spec.brokerPid);
    t0 = performance.now();
    // Also per one-second slice: the median slice leaves out one-off work in the window (V8's memory
    // reducer runs a few full GCs some seconds after a busy phase; another process's burst on the broker).
    const clientSlices: number[] = [];
    const brokerSlices: number[] = [];
    let sliceCpu = process.cpuUsage();
    let sliceTicks = ticks;
    let sliceStart = t0;
    while (performance.now() - t0 < spec.idleS * 1000 - 1) {
      await sleep(Math.min(1000, spec.idleS * 1000 - (performance.now() - t0)));
      const now = performance.now();
      const nowTicks = readBrokerTicks(spec.brokerPid);
      const sliceS = (now - sliceStart) / 1000;
      clientSlices.push(cpuMsSince(sliceCpu) / sliceS);
      const b = brokerMs(sliceTicks, nowTicks, ticksPerSecond);
      if (b !== null) brokerSlices.push(b / sliceS);
      sliceCpu = process.cpuUsage();
      sliceTicks = nowTicks;
      sliceStart = now;
    }
    const seconds = (performance.now() - t0) / 1000;
    const idleCpu = cpuMsSince(cpu);
    const idleBroker = brokerMs(ticks, readBrokerTicks(spec.brokerPid), ticksPerSecond);
    const segmentsAfter = ownSegments(ports);
    idle = {
      seconds,
      clientCpuMsPerS: idleCpu / seconds,
      brokerCpuMsPerS: idleBroker === null ? null : idleBroker / seconds,
      clientCpuMsPerSMedianSlice: median(clientSlices),
      brokerCpuMsPerSMedianSlice: brokerSlices.length > 0 ? median(brokerSlices) : null,
      connections: segmentsAfter?.connections ?? null,
      segmentsPerS:
        segmentsBefore && segmentsAfter
          ? (segmentsAfter.dataSegsOut +
              segmentsAfter.dataSegsIn -
              segmentsBefore.dataSegsOut -
              segmentsBefore.dataSegsIn) /
            seconds
          : null,
    };
    log(`idle: client ${idle.clientCpuMsPerS.toFixed(2)} ms/s`);
  }
  if (consumerError) throw consumerError;
  const rssMiB = process.memoryUsage().rss / 1024 / 1024;
  await adapter.stopConsumer();

  const phase = (messages: number, wallMs: number, cpuMs: number, broker: number | null): PhaseResult => ({
    messages,
    wallMs,
    perSecond: (messages * 1000) / wallMs,
    cpuMs,
    cpuMsPer1k: cpuPer1k(cpuMs, messages),
    brokerCpuMsPer1k: broker === null ? null : cpuPer1k(broker, messages),
  });
  return {
    client: spec.client,
    version: versionOf(spec.client),
    round: spec.round,
    topic: spec.topic,
    produce: { ...phase(spec.messages, produceWall, produceCpu, produceBroker), sends },
    consume: {
      ...phase(spec.messages, consumeWall, consumeCpu, consumeBroker),
      firstMessageMs: firstMessageAt - consumeStart,
      commits: consumeCommits,
      meanBatch: spec.messages / consumeCommits,
    },
    latency,
    idle,
    rssMiB,
  };
}
