import { formatBytes, formatSeconds, sizeReport } from './report';

describe('formatBytes and formatSeconds', () => {
  test('decimal units, as podman prints sizes', () => {
    expect(formatBytes(512)).toBe('1 kB');
    expect(formatBytes(58_600_000)).toBe('58.6 MB');
    expect(formatBytes(1_250_000_000)).toBe('1.25 GB');
  });

  test('seconds, then minutes and seconds', () => {
    expect(formatSeconds(42.4)).toBe('42 s');
    expect(formatSeconds(84)).toBe('1 min 24 s');
    expect(formatSeconds(3 * 60 + 4.2)).toBe('3 min 04 s');
  });
});

describe('sizeReport', () => {
  const base = { name: 'localhost/dispatch/node-base:24.22.3-bookworm', bytes: 214_000_000 };

  test('a table of size, what each adds above the base and build time, then the totals', () => {
    const report = sizeReport(
      { ...base, seconds: 184 },
      [
        { name: 'localhost/dispatch/query-api:dev', bytes: 290_500_000, seconds: 95 },
        { name: 'localhost/dispatch/order-service:dev', bytes: 272_600_000, seconds: 84 },
      ],
      363,
    );
    expect(report).toBe(
      [
        'image                                              size  above the base  build time',
        'localhost/dispatch/node-base:24.22.3-bookworm  214.0 MB                  3 min 04 s',
        'localhost/dispatch/query-api:dev               290.5 MB         76.5 MB  1 min 35 s',
        'localhost/dispatch/order-service:dev           272.6 MB         58.6 MB  1 min 24 s',
        "2 service images: 349.1 MB on disk in all (the base's layers are shared)",
        'total time: 6 min 03 s',
        '',
      ].join('\n'),
    );
  });

  test('the server images after the services, built or reused, and how many of each', () => {
    const report = sizeReport(
      base,
      [{ name: 'localhost/dispatch/query-api:dev', bytes: 272_600_000, seconds: 84 }],
      130,
      [
        { name: 'localhost/dispatch/jre:17-bookworm', bytes: 446_100_000, seconds: 21 },
        { name: 'localhost/dispatch/redis:7', bytes: 229_900_000 },
      ],
    );
    expect(report.split('\n').slice(2, 5)).toEqual([
      'localhost/dispatch/query-api:dev               272.6 MB         58.6 MB  1 min 24 s',
      'localhost/dispatch/jre:17-bookworm             446.1 MB        232.1 MB        21 s',
      'localhost/dispatch/redis:7                     229.9 MB         15.9 MB      reused',
    ]);
    expect(report).toContain('1 service image: 272.6 MB on disk in all');
    expect(report).toContain('2 server images (1 built, 1 reused)\ntotal time: 2 min 10 s\n');
  });

  test('a reused base says so; no services, no total line', () => {
    const report = sizeReport(base, []);
    expect(report).toContain('214.0 MB');
    expect(report).toMatch(/reused\n$/);
    expect(report).not.toContain('on disk in all');
  });
});
