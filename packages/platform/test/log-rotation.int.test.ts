import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { logRotationEnv } from '@dispatch/platform';

const root = path.resolve(__dirname, '..', '..', '..');

describe('log rotation of a running process (real child process, real files)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'log-rotation-it-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function burst(file: string, lines: number, policy: { maxBytes: number; keep: number }) {
    const fd = openSync(file, 'a');
    try {
      return spawnSync(process.execPath, ['--import', 'tsx', 'packages/platform/test/helpers/log-burst.ts'], {
        cwd: root,
        env: { ...process.env, ...logRotationEnv(file, policy), LINES: String(lines), CHECK_EVERY: '25' },
        stdio: ['ignore', fd, fd],
        encoding: 'utf8',
        timeout: 60_000,
      });
    } finally {
      closeSync(fd);
    }
  }

  it('rotates by size while it runs and loses, tears or repeats no line from any writer', () => {
    const file = path.join(dir, 'svc.log');
    const lines = 3_000;
    const result = burst(file, lines, { maxBytes: 32 * 1024, keep: 1_000 });
    expect(result.status).toBe(0);

    const files = readdirSync(dir).sort((a, b) => suffix(b) - suffix(a)); // oldest first, current last
    expect(files.length).toBeGreaterThan(5);
    const numbers: number[] = [];
    for (const name of files) {
      const text = readFileSync(path.join(dir, name), 'utf8');
      if (name !== 'svc.log') expect(text.length).toBeLessThan(32 * 1024 + 25 * 300);
      for (const line of text.split('\n').filter((l) => l.length > 0)) {
        numbers.push((JSON.parse(line) as { n: number }).n);
      }
    }
    expect(numbers).toEqual(Array.from({ length: lines }, (_, i) => i));
  });

  it('keeps only `keep` rotated files', () => {
    const file = path.join(dir, 'svc.log');
    expect(burst(file, 2_000, { maxBytes: 16 * 1024, keep: 2 }).status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['svc.log', 'svc.log.1', 'svc.log.2']);
  });
});

function suffix(name: string): number {
  const match = /\.(\d+)$/.exec(name);
  return match ? Number(match[1]) : 0;
}
