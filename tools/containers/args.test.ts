import {
  ContainersUsageError,
  DEFAULT_PORT_BASE,
  DEFAULT_PROJECT,
  DEFAULT_TIMEOUT_SECONDS,
  parseContainersArgs,
  parseDuration,
  publishedPorts,
} from './args';

function usageError(argv: string[]): string {
  try {
    parseContainersArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ContainersUsageError);
    return (err as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
}

describe('parseContainersArgs', () => {
  test('defaults: 40 min, the APIs on 18080-18085, project dispatch-containers', () => {
    expect(parseContainersArgs([])).toEqual({
      timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
      portBase: DEFAULT_PORT_BASE,
      project: DEFAULT_PROJECT,
    });
    expect(DEFAULT_TIMEOUT_SECONDS).toBe(2400);
    expect(publishedPorts(DEFAULT_PORT_BASE)).toEqual([18080, 18081, 18082, 18083, 18084, 18085]);
  });

  test('--help and -h', () => {
    expect(parseContainersArgs(['--help'])).toBeUndefined();
    expect(parseContainersArgs(['--timeout', '5m', '-h'])).toBeUndefined();
  });

  test('durations in s, m or h, from 1 min to 3 h', () => {
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('2400s')).toBe(2400);
    expect(parseDuration('25m')).toBe(1500);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseContainersArgs(['--timeout=25m'])?.timeoutSeconds).toBe(1500);
    expect(usageError(['--timeout', '30s'])).toMatch(/from 1m to 3h/);
    expect(usageError(['--timeout', '4h'])).toMatch(/from 1m to 3h/);
    expect(usageError(['--timeout', 'soon'])).toMatch(/got "soon"/);
  });

  test("the six ports never overlap the local stack's", () => {
    expect(parseContainersArgs(['--port-base', '28080'])?.portBase).toBe(28080);
    expect(usageError(['--port-base', '8078'])).toMatch(
      /8080, 8081, 8082, 8083, the local stack's own ports/,
    );
    expect(usageError(['--port-base', '9090'])).toMatch(/9092, the local stack's own port;/);
    expect(usageError(['--port-base', '80'])).toMatch(/from 1024 to 65530/);
    expect(usageError(['--port-base', '65531'])).toMatch(/from 1024 to 65530/);
  });

  test('project names, unknown flags, twice, missing values', () => {
    expect(parseContainersArgs(['--project', 'ci_2'])?.project).toBe('ci_2');
    expect(usageError(['--project', 'Dispatch'])).toMatch(/compose project name/);
    expect(usageError(['--keep'])).toMatch(/unknown argument "--keep"/);
    expect(usageError(['--timeout', '5m', '--timeout', '6m'])).toMatch(/given twice/);
    expect(usageError(['--port-base'])).toMatch(/needs a value/);
    expect(usageError(['--project', '--timeout', '5m'])).toMatch(/--project needs a value/);
  });
});
