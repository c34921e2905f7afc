import { randomUUID } from 'node:crypto';
import { eventually, FaultProxy, stackAddresses } from '@dispatch/testkit';
import pg from 'pg';
import { type RunningService, startService } from '../src/service';

const addresses = stackAddresses();

/** A service started the way every Dispatch service starts, with its own database. */
describe('service readiness follows its database (real PostgreSQL, real Kafka)', () => {
  const database = `it_ready_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  let service: RunningService;
  let base: string;
  // The machine's PostgreSQL is shared: its outage is simulated by a proxy the service connects through.
  const proxy = new FaultProxy({ host: addresses.pg.host, port: addresses.pg.port });

  beforeAll(async () => {
    const port = await proxy.start();
    service = await startService({
      name: 'readiness-probe',
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      kafka: addresses.kafka,
      postgres: { connection: { ...addresses.pg, host: '127.0.0.1', port }, database },
      routes: (app) => app.get('/ping', (_req, res) => void res.json({ pong: true })),
    });
    base = `http://127.0.0.1:${service.port}`;
  });

  afterAll(async () => {
    await proxy.restore();
    await service?.stop();
    await proxy.close();
    const admin = new pg.Client({ ...addresses.pg, database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  const readiness = async () => {
    const res = await fetch(`${base}/health/ready`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { status: string }> } };
  };

  it('is ready with its dependencies up, unready while PostgreSQL refuses connections, ready again after', async () => {
    const up = await readiness();
    expect(up.status).toBe(200);
    expect(up.body.checks.postgres?.status).toBe('ok');
    expect(up.body.checks.kafka?.status).toBe('ok');

    await proxy.refuse();
    await eventually(
      async () => {
        const down = await readiness();
        expect(down.status).toBe(503);
        expect(down.body.checks.postgres?.status).toBe('unavailable');
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    // Liveness is not readiness: the process itself is fine and must not be restarted.
    expect((await fetch(`${base}/health/live`)).status).toBe(200);

    await proxy.restore();
    await eventually(
      async () => {
        const back = await readiness();
        expect(back.status).toBe(200);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect((await fetch(`${base}/ping`)).status).toBe(200);
  });
});
