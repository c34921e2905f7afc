import { createCassandraClient } from '@dispatch/platform';
import { stackAddresses } from '@dispatch/testkit';
import { errors } from 'cassandra-driver';

/** The local Cassandra `./dispatch up` runs: PasswordAuthenticator, the default superuser disabled. */
const addresses = stackAddresses();

async function login(credentials?: { username: string; password: string }): Promise<unknown> {
  const client = createCassandraClient({
    contactPoints: addresses.cassandraContactPoints,
    localDataCenter: addresses.cassandraLocalDc,
    credentials,
  });
  try {
    await client.connect();
    await client.execute('SELECT release_version FROM system.local');
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** The refusal a host reported inside the driver's NoHostAvailableError. */
function refusal(err: unknown): string {
  expect(err).toBeInstanceOf(errors.NoHostAvailableError);
  const inner = Object.values((err as errors.NoHostAvailableError).innerErrors);
  expect(inner[0]).toBeInstanceOf(errors.AuthenticationError);
  return (inner[0] as Error).message;
}

describe('Cassandra authentication (real server)', () => {
  it('refuses an anonymous session', async () => {
    expect(refusal(await login())).toMatch(/requires authentication|Authentication provider not set/);
  });

  it('refuses the well-known default superuser cassandra/cassandra', async () => {
    expect(refusal(await login({ username: 'cassandra', password: 'cassandra' }))).toMatch(
      /username cassandra and\/or password are incorrect|not allowed to log in/,
    );
  });

  it('refuses a wrong password for the admin role, accepts the right one', async () => {
    const admin = addresses.cassandraCredentials;
    expect(admin).toBeDefined();
    expect(refusal(await login({ username: admin!.username, password: `${admin!.password}x` }))).toMatch(
      /password are incorrect/,
    );
    expect(await login(admin)).toBeUndefined();
  });
});
