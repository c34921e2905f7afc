import { formatReport } from './report';

describe('formatReport', () => {
  test('one line per step, the total, then the plain closing line', () => {
    const report = formatReport(
      [
        { name: 'images', ok: true, seconds: 0.4, detail: 'all present' },
        { name: 'order DELIVERED', ok: true, seconds: 11.2, detail: 'CREATED → DELIVERED' },
        { name: 'teardown', ok: false, seconds: 75, detail: 'still there: volume x' },
      ],
      402,
    );
    expect(report).toBe(
      [
        '✔ images                  0 s  all present',
        '✔ order DELIVERED        11 s  CREATED → DELIVERED',
        '✘ teardown         1 min 15 s  still there: volume x',
        'total time: 6 min 42 s',
        'containers: 2 passed, 1 failed',
        '',
      ].join('\n'),
    );
  });

  test('a run that could not start says why and fails: it never passes silently', () => {
    const report = formatReport([], 0.2, 'needs root');
    expect(report.split('\n')[0]).toBe('NOT RUN: needs root');
    expect(report).toMatch(/containers: 0 passed, 1 failed\n$/);
  });
});
