import { connect } from 'node:net';
import { type StackAddresses, stackAddresses } from './stack';

/** The servers of the stack a test can require. */
export type StackServer = 'postgres' | 'kafka' | 'redis' | 'cassandra';

/**
 * Fails (never skips) with a clear message when nothing listens at `address` (host:port): a test
 * against a stack that is down says so instead of timing out somewhere inside a client.
 */
export async function assertReachable(name: string, address: string, hint: string): Promise<void> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: 3_000 });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`${name} is not reachable at ${address} (${reason}). ${hint}`));
    };
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('timeout', () => fail('timed out'));
    socket.once('error', (err) => fail(err.message));
  });
}

function serverAddress(server: StackServer, addresses: StackAddresses): [string, string, string] {
  switch (server) {
    case 'postgres':
      return ['PostgreSQL', `${addresses.pg.host}:${addresses.pg.port}`, 'PGHOST/PGPORT'];
    case 'kafka':
      return ['Kafka', addresses.kafka.brokers[0] ?? '127.0.0.1:9092', 'KAFKA_BROKERS'];
    case 'redis': {
      const url = new URL(addresses.redisUrl);
      return ['Redis', `${url.hostname}:${url.port || 6379}`, 'REDIS_URL'];
    }
    case 'cassandra':
      return [
        'Cassandra',
        addresses.cassandraContactPoints[0] ?? '127.0.0.1:9042',
        'CASSANDRA_CONTACT_POINTS',
      ];
  }
}

/** The stack's servers a test needs must be up: `pnpm stack up`, or the env vars pointing at them. */
export async function assertStackReachable(
  servers: readonly StackServer[],
  addresses: StackAddresses = stackAddresses(),
): Promise<void> {
  await Promise.all(
    servers.map((server) => {
      const [name, address, variables] = serverAddress(server, addresses);
      return assertReachable(name, address, `Set ${variables} or run \`pnpm stack up\`.`);
    }),
  );
}
