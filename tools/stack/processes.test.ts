import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually } from '@dispatch/testkit';
import { isRunning, startBanner, startDetached, stopProcess, tailFile, withTimerSlack } from './processes';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stack-processes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('startDetached logs', () => {
  const run = (logFile: string, text: string, maxBytes = 1024 * 1024) =>
    startDetached({
      command: 'sh',
      args: ['-c', `echo ${text}; echo ${text}-err >&2`],
      cwd: dir,
      logFile,
      pidFile: path.join(dir, 'x.pid'),
      rotation: { maxBytes, keep: 2 },
    });

  it('appends each run to the log, each after a start line', async () => {
    const log = path.join(dir, 'svc.log');
    run(log, 'first');
    await eventually(() => expect(readFileSync(log, 'utf8')).toContain('first-err'));
    run(log, 'second');
    await eventually(() => expect(readFileSync(log, 'utf8')).toContain('second-err'));
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => l.replace(/at \S+ ---$/, 'at T ---'))).toEqual([
      '--- started by pnpm stack at T ---',
      'first',
      'first-err',
      '--- started by pnpm stack at T ---',
      'second',
      'second-err',
    ]);
    expect(existsSync(`${log}.1`)).toBe(false);
  });

  it('rotates the log at start when it is over the size', async () => {
    const log = path.join(dir, 'svc.log');
    writeFileSync(log, 'old\n'.repeat(100));
    run(log, 'fresh', 100);
    await eventually(() => expect(readFileSync(log, 'utf8')).toContain('fresh-err'));
    expect(readFileSync(`${log}.1`, 'utf8')).toBe('old\n'.repeat(100));
    expect(readFileSync(log, 'utf8')).not.toContain('old');
  });
});

describe('startDetached timerSlackNs', () => {
  it('runs the command itself (same pid, its own command line) with that timer slack, and so do its threads', async () => {
    const pidFile = path.join(dir, 'slack.pid');
    const marker = 'dispatch-timer-slack-test';
    const pid = startDetached({
      command: process.execPath,
      args: ['-e', `setTimeout(() => {}, 30_000); // ${marker}`],
      cwd: dir,
      logFile: path.join(dir, 'slack.log'),
      pidFile,
      timerSlackNs: 1_000_000,
    });
    try {
      expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(pid));
      await eventually(() => expect(isRunning(pid, marker)).toBe(true));
      // The shell exec'd the command: same pid, the command's own command line.
      await eventually(() =>
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(process.execPath),
      );
      // Node's V8 and libuv threads all start after the exec.
      await eventually(() => expect(readdirSync(`/proc/${pid}/task`).length).toBeGreaterThan(1));
      const slacks = readdirSync(`/proc/${pid}/task`).map((tid) =>
        readFileSync(`/proc/${tid}/timerslack_ns`, 'utf8').trim(),
      );
      expect(new Set(slacks)).toEqual(new Set(['1000000']));
      expect(readFileSync(`/proc/${process.pid}/timerslack_ns`, 'utf8').trim()).not.toBe('1000000');
    } finally {
      await stopProcess(pid, marker, 5_000);
    }
  });

  it('refuses a slack that is not a positive integer', () => {
    expect(() => withTimerSlack('java', [], 0)).toThrow(RangeError);
    expect(() => withTimerSlack('java', [], 1.5)).toThrow(RangeError);
    expect(withTimerSlack('java', ['-version'], 1000).args.slice(-2)).toEqual(['java', '-version']);
  });
});

describe('tailFile', () => {
  it('gives the last lines, taking the rest from <file>.1 right after a rotation', () => {
    const log = path.join(dir, 'svc.log');
    writeFileSync(`${log}.1`, 'a\nb\nc\n');
    writeFileSync(log, 'd\ne\n');
    expect(tailFile(log, 2)).toBe('d\ne');
    expect(tailFile(log, 4)).toBe('b\nc\nd\ne');
    expect(tailFile(log, 10)).toBe('a\nb\nc\nd\ne');
    rmSync(`${log}.1`);
    expect(tailFile(log, 10)).toBe('d\ne');
    expect(tailFile(path.join(dir, 'none.log'), 3)).toMatch(/^\(no log at /);
  });

  it('marks each run with its start time', () => {
    expect(startBanner(new Date('2026-12-02T03:00:00.000Z'))).toBe(
      '--- started by pnpm stack at 2026-12-02T03:00:00.000Z ---\n',
    );
  });
});
