import { randomUUID } from 'node:crypto';
import { eventually, stackAddresses, startLocalPostgres, stopLocalPostgres } from '@dispatch/testkit';
import pg from 'pg';
import { type RunningService, startService } from '../src/service';

const addresses = stackAddresses();

/** A service started the way every Dispatch service starts, with its own database. */
describe('service readiness follows its database (real PostgreSQL, real Kafka)', () => {
  const database = `it_ready_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  let service: RunningService;
  let base: string;

  beforeAll(async () => {
    service = await startService({
      name: 'readiness-probe',
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      kafkaBrokers: addresses.kafkaBrokers,
      postgres: { connection: addresses.pg, database },
      routes: (app) => app.get('/ping', (_req, res) => void res.json({ pong: true })),
    });
    base = `http://127.0.0.1:${service.port}`;
  });

  afterAll(async () => {
    startLocalPostgres(); // never leave the machine's database down, whatever failed
    await eventually(async () => {
      const admin = new pg.Client({ ...addresses.pg, database: 'postgres' });
      await admin.connect();
      await admin.end();
    });
    await service?.stop();
    const admin = new pg.Client({ ...addresses.pg, database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  const readiness = async () => {
    const res = await fetch(`${base}/health/ready`);
    return { status: res.status, body: (await res.json()) as { checks: Record<string, { status: string }> } };
  };

  it('is ready with its dependencies up, unready while PostgreSQL is stopped, ready again after', async () => {
    const up = await readiness();
    expect(up.status).toBe(200);
    expect(up.body.checks.postgres?.status).toBe('ok');
    expect(up.body.checks.kafka?.status).toBe('ok');

    stopLocalPostgres();
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

    startLocalPostgres();
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
