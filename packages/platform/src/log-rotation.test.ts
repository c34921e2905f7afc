import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  logRotationEnv,
  logRotationFromEnv,
  rotateInPlace,
  rotateLogAtRest,
  startStdoutRotation,
} from './log-rotation';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'log-rotation-'));
  file = path.join(dir, 'svc.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : undefined);

describe('rotateLogAtRest', () => {
  it('leaves a file at or under the size alone', () => {
    writeFileSync(file, 'x'.repeat(10));
    expect(rotateLogAtRest(file, { maxBytes: 10, keep: 2 })).toBe(false);
    expect(read(file)).toBe('x'.repeat(10));
    expect(rotateLogAtRest(path.join(dir, 'missing.log'), { maxBytes: 1, keep: 2 })).toBe(false);
  });

  it('moves a file over the size to .1, shifts the older ones and drops the oldest', () => {
    const policy = { maxBytes: 3, keep: 2 };
    for (const run of ['first', 'second', 'third']) {
      writeFileSync(file, run);
      expect(rotateLogAtRest(file, policy)).toBe(true);
    }
    expect(read(file)).toBeUndefined();
    expect(read(`${file}.1`)).toBe('third');
    expect(read(`${file}.2`)).toBe('second');
    expect(read(`${file}.3`)).toBeUndefined();
  });
});

describe('rotateInPlace', () => {
  it('copies to .1 and empties the file; the append-mode writer goes on at its start', () => {
    writeFileSync(`${file}.1`, 'older');
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, 'line 1\nline 2\n');
      rotateInPlace(file, fd, 5);
      writeSync(fd, 'line 3\n');
    } finally {
      closeSync(fd);
    }
    expect(read(file)).toBe('line 3\n');
    expect(read(`${file}.1`)).toBe('line 1\nline 2\n');
    expect(read(`${file}.2`)).toBe('older');
  });
});

describe('startStdoutRotation', () => {
  it('rotates the file its fd appends to once it is over the size', () => {
    const fd = openSync(file, 'a');
    const rotation = startStdoutRotation({ file, fd, maxBytes: 10, keep: 1, intervalMs: 60_000 });
    try {
      expect(rotation).toBeDefined();
      writeSync(fd, '0123456789');
      expect(rotation?.check()).toBe(false);
      writeSync(fd, 'a');
      expect(rotation?.check()).toBe(true);
      writeSync(fd, 'next');
      writeSync(fd, '-more-than-ten');
      expect(rotation?.check()).toBe(true);
    } finally {
      rotation?.stop();
      closeSync(fd);
    }
    expect(read(file)).toBe('');
    expect(read(`${file}.1`)).toBe('next-more-than-ten');
    expect(read(`${file}.2`)).toBeUndefined();
  });

  it('does nothing when the fd is not open on that file', () => {
    writeFileSync(file, '');
    const other = path.join(dir, 'other.log');
    const fd = openSync(other, 'a');
    try {
      expect(startStdoutRotation({ file, fd, maxBytes: 1, keep: 1 })).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });
});

describe('logRotationFromEnv', () => {
  it('reads what logRotationEnv writes, and nothing without a file', () => {
    expect(logRotationFromEnv(logRotationEnv('/x/svc.log', { maxBytes: 1024, keep: 3 }))).toEqual({
      file: '/x/svc.log',
      maxBytes: 1024,
      keep: 3,
    });
    expect(logRotationFromEnv({ DISPATCH_LOG_FILE: '/x/svc.log' })).toEqual({
      file: '/x/svc.log',
      maxBytes: 20 * 1024 * 1024,
      keep: 5,
    });
    expect(logRotationFromEnv({})).toBeUndefined();
    expect(logRotationFromEnv({ DISPATCH_LOG_FILE: '/x', DISPATCH_LOG_MAX_BYTES: 'lots' })).toBeUndefined();
  });
});
