import { setTimeout as sleep } from 'node:timers/promises';
import {
  FaultProxy,
  killServer,
  killService,
  restartService,
  restartServiceWithEnv,
  SERVICE_NAMES,
  type ServiceName,
  serviceUrl,
  stackAddresses,
  startServers,
} from '@dispatch/testkit';
import type { Fault } from './args';

/** One thing the run breaks: a service (SIGKILL) or a server. */
export type Disruption = { kind: 'service'; victim: ServiceName } | { kind: 'fault'; fault: Fault };

/** What happened when a disruption struck. */
export interface Struck {
  /** e.g. "payment-service killed (SIGKILL)", "postgres refused for 6.1 s". */
  what: string;
  at: string;
  /** From the end of the outage until every service answered ready again. */
  recoveryMs: number;
  /** Services that died of it (not killed by the run): found not listening afterwards, and restarted. */
  crashed: ServiceName[];
}

/** Every disruption of the run once, in random order: a round, so a short run still sees each. */
export function shuffledRound(victims: ServiceName[], faults: Fault[], random = Math.random): Disruption[] {
  const round: Disruption[] = [
    ...victims.map((victim) => ({ kind: 'service' as const, victim })),
    ...faults.map((fault) => ({ kind: 'fault' as const, fault })),
  ];
  for (let i = round.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [round[i], round[j]] = [round[j] as Disruption, round[i] as Disruption];
  }
  return round;
}

/** How a connection fault plays out this time. */
type Cut =
  | { mode: 'refuse'; forMs: number }
  | { mode: 'reset' }
  | { mode: 'delay'; delayMs: number; forMs: number };

/** The n-th cut of a server (from 0): refuse, reset, delay, refuse, … so even one round has an outage. */
function nthCut(n: number, random = Math.random): Cut {
  const mode = n % 3;
  if (mode === 0) return { mode: 'refuse', forMs: 3_000 + Math.round(random() * 7_000) };
  if (mode === 1) return { mode: 'reset' };
  return { mode: 'delay', delayMs: 200 + Math.round(random() * 600), forMs: 5_000 };
}

/**
 * Breaks the stack and puts it back. The machine's PostgreSQL and Redis are shared, so their
 * outages are made by FaultProxies the services are pointed at for the run (`setUp` restarts them
 * with PGPORT/REDIS_URL on the proxies; `tearDown` restarts them on the real addresses again).
 */
export class Disruptor {
  private readonly proxies = new Map<'postgres' | 'redis', FaultProxy>();
  private readonly cuts = new Map<'postgres' | 'redis', number>();
  private serviceEnv: Record<string, string> = {};

  constructor(private readonly log: (line: string) => void) {}

  async setUp(faults: Fault[]): Promise<void> {
    const addresses = stackAddresses();
    if (faults.includes('postgres')) {
      const proxy = new FaultProxy({ host: addresses.pg.host, port: addresses.pg.port });
      this.serviceEnv.PGHOST = '127.0.0.1';
      this.serviceEnv.PGPORT = String(await proxy.start());
      this.proxies.set('postgres', proxy);
    }
    if (faults.includes('redis')) {
      const redis = new URL(addresses.redisUrl);
      const proxy = new FaultProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
      redis.hostname = '127.0.0.1';
      redis.port = String(await proxy.start());
      this.serviceEnv.REDIS_URL = redis.toString();
      this.proxies.set('redis', proxy);
    }
    if (this.proxies.size === 0) return;
    for (const name of SERVICE_NAMES) await restartServiceWithEnv(name, this.serviceEnv);
    this.log(
      `services restarted behind fault proxies (${Object.entries(this.serviceEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')})`,
    );
  }

  /** Restores every proxy, and the services' own addresses; leaves every server and service running. */
  async tearDown(): Promise<void> {
    for (const proxy of this.proxies.values()) await proxy.restore();
    await startServers().catch((err: unknown) => this.log(`starting the servers failed: ${String(err)}`));
    for (const name of SERVICE_NAMES) {
      // Back on the real addresses (or just back, if a kill left it down).
      if (this.proxies.size > 0 || !(await isReady(name))) await restartService(name).catch(() => {});
    }
    for (const proxy of this.proxies.values()) await proxy.close();
    this.proxies.clear();
  }

  async strike(disruption: Disruption): Promise<Struck> {
    const at = new Date().toISOString();
    let what: string;
    if (disruption.kind === 'service') {
      await killService(disruption.victim);
      this.log(`killed ${disruption.victim} (SIGKILL)`);
      await sleep(500 + Math.random() * 2_500);
      const restarting = Date.now();
      await restartServiceWithEnv(disruption.victim, this.serviceEnv);
      return {
        what: `${disruption.victim} killed (SIGKILL)`,
        at,
        recoveryMs: Date.now() - restarting,
        crashed: [],
      };
    }
    const { fault } = disruption;
    if (fault === 'kafka' || fault === 'cassandra') {
      await killServer(fault);
      this.log(`killed ${fault} (SIGKILL)`);
      await sleep(1_000 + Math.random() * 4_000);
      const restarting = Date.now();
      await startServers();
      this.log(`${fault} answers again after ${((Date.now() - restarting) / 1000).toFixed(1)} s`);
      what = `${fault} killed (SIGKILL)`;
    } else {
      const proxy = this.proxies.get(fault);
      if (!proxy) throw new Error(`no fault proxy for ${fault}: setUp was not given it`);
      const n = this.cuts.get(fault) ?? 0;
      this.cuts.set(fault, n + 1);
      const cut = nthCut(n);
      if (cut.mode === 'refuse') {
        await proxy.refuse();
        this.log(`${fault}: connections refused for ${(cut.forMs / 1000).toFixed(1)} s`);
        await sleep(cut.forMs);
        await proxy.restore();
        what = `${fault} refused for ${(cut.forMs / 1000).toFixed(1)} s`;
      } else if (cut.mode === 'reset') {
        proxy.reset();
        this.log(`${fault}: every open connection reset`);
        what = `${fault} connections reset`;
      } else {
        proxy.delay(cut.delayMs);
        this.log(`${fault}: ${cut.delayMs} ms added to every packet for ${cut.forMs / 1000} s`);
        await sleep(cut.forMs);
        proxy.delay(0);
        what = `${fault} slowed by ${cut.delayMs} ms for ${cut.forMs / 1000} s`;
      }
    }
    const recovering = Date.now();
    // A service must ride out a server's outage; one that is gone now crashed of it (a violation).
    const crashed: ServiceName[] = [];
    for (const name of SERVICE_NAMES) {
      if (await isListening(name)) continue;
      crashed.push(name);
      this.log(`${name} is not running after "${what}": it crashed; restarting it`);
      await restartServiceWithEnv(name, this.serviceEnv);
    }
    await everyServiceReady(180_000);
    return { what, at, recoveryMs: Date.now() - recovering, crashed };
  }
}

/** Whether the service accepts connections at all (answering anything, ready or not). */
async function isListening(name: ServiceName): Promise<boolean> {
  return fetch(`${serviceUrl(name)}/health/live`, { signal: AbortSignal.timeout(3_000) }).then(
    () => true,
    (err: unknown) => (err as { cause?: { code?: string } }).cause?.code !== 'ECONNREFUSED',
  );
}

async function isReady(name: ServiceName): Promise<boolean> {
  return fetch(`${serviceUrl(name)}/health/ready`, { signal: AbortSignal.timeout(3_000) }).then(
    (r) => r.ok,
    () => false,
  );
}

/** Waits until every service answers ready (a blocked consumer makes its service unready). */
async function everyServiceReady(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await Promise.all(SERVICE_NAMES.map(isReady));
    if (ready.every(Boolean)) return;
    if (Date.now() >= deadline) {
      const down = SERVICE_NAMES.filter((_, i) => !ready[i]);
      throw new Error(`not ready ${timeoutMs / 1000} s after the fault ended: ${down.join(', ')}`);
    }
    await sleep(250);
  }
}
