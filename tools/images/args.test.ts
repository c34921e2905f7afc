import { APP_SERVICES } from '../stack/services';
import { DEFAULT_SMOKE_PORT, ImagesUsageError, parseImagesArgs, STACK_PORTS } from './args';

const ALL = APP_SERVICES.map((s) => s.name);

function usageError(argv: string[]): string {
  try {
    parseImagesArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ImagesUsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('parseImagesArgs', () => {
  test('defaults: every service, tag dev, no smoke', () => {
    expect(parseImagesArgs([])).toEqual({
      services: ALL,
      servers: ['kafka', 'cassandra', 'postgres', 'redis'],
      rebuildServers: false,
      tag: 'dev',
      rebuildBase: false,
      smoke: false,
      smokeService: 'order-service',
      smokePort: DEFAULT_SMOKE_PORT,
    });
  });

  test('--help and -h', () => {
    expect(parseImagesArgs(['--help'])).toBeUndefined();
    expect(parseImagesArgs(['--smoke', '-h'])).toBeUndefined();
  });

  test('--only keeps the services in start order, with or without =', () => {
    expect(parseImagesArgs(['--only', 'webhook-service,query-api'])?.services).toEqual([
      'query-api',
      'webhook-service',
    ]);
    expect(parseImagesArgs(['--only=order-service'])).toMatchObject({
      services: ['order-service'],
      servers: [],
    });
    expect(usageError(['--only', 'billing-service'])).toMatch(/no service or server named "billing-service"/);
    expect(usageError(['--only', ','])).toMatch(/at least one image/);
  });

  test('--only takes server names too, in build order; --rebuild-servers', () => {
    expect(parseImagesArgs(['--only', 'redis,query-api,kafka'])).toMatchObject({
      services: ['query-api'],
      servers: ['kafka', 'redis'],
      rebuildServers: false,
    });
    expect(parseImagesArgs(['--only', 'postgres', '--rebuild-servers'])).toMatchObject({
      services: [],
      servers: ['postgres'],
      rebuildServers: true,
    });
    expect(usageError(['--only', 'jre'])).toMatch(/no service or server named "jre"/);
    expect(usageError(['--rebuild-servers=1'])).toMatch(/takes no value/);
  });

  test('--smoke with its service and port', () => {
    expect(
      parseImagesArgs(['--smoke', '--smoke-service', 'query-api', '--smoke-port=18080', '--rebuild-base']),
    ).toMatchObject({ smoke: true, smokeService: 'query-api', smokePort: 18080, rebuildBase: true });
  });

  test("never one of the stack's ports for the smoke container", () => {
    for (const port of [8080, 8085, 9092, 9042, 5432, 6379]) expect(STACK_PORTS).toContain(port);
    expect(usageError(['--smoke', '--smoke-port', '8081'])).toMatch(/one of the local stack's own ports/);
    expect(usageError(['--smoke', '--smoke-port', '80'])).toMatch(/from 1024 to 65535/);
    expect(usageError(['--smoke', '--smoke-port', 'x'])).toMatch(/whole number/);
  });

  test('the smoke service must be among the images built, and its flags need --smoke', () => {
    expect(usageError(['--only', 'query-api', '--smoke'])).toMatch(
      /order-service is not among the images built/,
    );
    expect(usageError(['--smoke-port', '18090'])).toMatch(/go with --smoke/);
  });

  test('flags: unknown, twice, missing value, value for a switch; tags', () => {
    expect(usageError(['--push'])).toMatch(/unknown argument "--push"/);
    expect(usageError(['--smoke', '--smoke'])).toMatch(/--smoke given twice/);
    expect(usageError(['--tag', 'a', '--tag', 'b'])).toMatch(/--tag given twice/);
    expect(usageError(['--tag'])).toMatch(/--tag needs a value/);
    expect(usageError(['--only', '--smoke'])).toMatch(/--only needs a value/);
    expect(usageError(['--smoke=yes'])).toMatch(/takes no value/);
    expect(parseImagesArgs(['--tag', '1.4.0-rc.1'])?.tag).toBe('1.4.0-rc.1');
    expect(usageError(['--tag', 'a/b'])).toMatch(/not a valid image tag/);
  });
});
