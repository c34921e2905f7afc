import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StackError } from './errors';
import { ensureJwtSecret, jwtSecretFile, newJwtSecret, readJwtSecret } from './secrets';

describe('the local JWT secret', () => {
  let stackDir: string;
  beforeEach(() => {
    stackDir = mkdtempSync(path.join(tmpdir(), 'stack-secret-'));
  });
  afterEach(() => rmSync(stackDir, { recursive: true, force: true }));

  it('is 32 random bytes in base64url (43 characters)', () => {
    expect(newJwtSecret(Buffer.alloc(32, 0xff))).toBe(`${'_'.repeat(42)}8`);
    expect(newJwtSecret()).toMatch(/^[\w-]{43}$/);
    expect(newJwtSecret()).not.toBe(newJwtSecret());
  });

  it('is created once, readable only by its owner, and then reused', () => {
    const first = ensureJwtSecret(stackDir);
    expect(first.created).toBe(true);
    expect(statSync(jwtSecretFile(stackDir)).mode & 0o777).toBe(0o600);
    const second = ensureJwtSecret(stackDir);
    expect(second).toEqual({ secret: first.secret, created: false });
    expect(readJwtSecret(stackDir)).toBe(first.secret);
  });

  it('tells the user to run up when it is missing or too short', () => {
    expect(() => readJwtSecret(stackDir)).toThrow(StackError);
    expect(() => readJwtSecret(stackDir)).toThrow(/run \.\/dispatch up/);
    mkdirSync(path.dirname(jwtSecretFile(stackDir)), { recursive: true });
    writeFileSync(jwtSecretFile(stackDir), 'short\n');
    expect(() => readJwtSecret(stackDir)).toThrow(/fewer than 32/);
  });
});
