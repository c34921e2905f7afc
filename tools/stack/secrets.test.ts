import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StackError } from './errors';
import {
  ensureTokenKeys,
  legacyJwtSecretFile,
  readTokenKeys,
  retireTokenKeys,
  rotateTokenKeys,
  tokenKeyFiles,
} from './secrets';

describe('the local token signing keys', () => {
  let stackDir: string;
  beforeEach(() => {
    stackDir = mkdtempSync(path.join(tmpdir(), 'stack-secret-'));
  });
  afterEach(() => rmSync(stackDir, { recursive: true, force: true }));

  const jwks = () =>
    JSON.parse(readFileSync(tokenKeyFiles(stackDir).jwksFile, 'utf8')) as { keys: Record<string, unknown>[] };

  it('are created once: private keys 0600 in a 0700 folder, a public JWKS without private members', () => {
    const first = ensureTokenKeys(stackDir);
    expect(first.created).toBe(true);
    const { privateFile, jwksFile } = tokenKeyFiles(stackDir);
    expect(statSync(privateFile).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(privateFile)).mode & 0o777).toBe(0o700);
    expect(statSync(jwksFile).mode & 0o777).toBe(0o644);
    const [key] = readTokenKeys(stackDir);
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(typeof key?.d).toBe('string');
    expect(jwks().keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: key?.x, kid: key?.kid, alg: 'EdDSA', use: 'sig' },
    ]);
    const second = ensureTokenKeys(stackDir);
    expect(second.created).toBe(false);
    expect(readTokenKeys(stackDir)).toEqual([key]);
  });

  it('upgrades a stack that had only the HS256 jwt-secret: keys created, the old secret deleted', () => {
    mkdirSync(path.join(stackDir, 'secrets'), { recursive: true });
    writeFileSync(legacyJwtSecretFile(stackDir), `${'s'.repeat(43)}\n`, { mode: 0o600 });
    const result = ensureTokenKeys(stackDir);
    expect(result).toMatchObject({ created: true, removedLegacySecret: true });
    expect(() => statSync(legacyJwtSecretFile(stackDir))).toThrow();
    expect(ensureTokenKeys(stackDir).removedLegacySecret).toBe(false);
  });

  it('rewrites a missing or tampered public JWKS from the private keys', () => {
    ensureTokenKeys(stackDir);
    const good = readFileSync(tokenKeyFiles(stackDir).jwksFile, 'utf8');
    rmSync(tokenKeyFiles(stackDir).jwksFile);
    ensureTokenKeys(stackDir);
    expect(readFileSync(tokenKeyFiles(stackDir).jwksFile, 'utf8')).toBe(good);
    writeFileSync(tokenKeyFiles(stackDir).jwksFile, '{"keys":[]}');
    ensureTokenKeys(stackDir);
    expect(readFileSync(tokenKeyFiles(stackDir).jwksFile, 'utf8')).toBe(good);
  });

  it('rotate adds a key that signs and keeps the old one public; retire removes all but the newest', () => {
    ensureTokenKeys(stackDir);
    const [old] = readTokenKeys(stackDir);
    const { added } = rotateTokenKeys(stackDir);
    expect(readTokenKeys(stackDir).map((k) => k.kid)).toEqual([old?.kid, added.kid]);
    expect(jwks().keys.map((k) => k.kid)).toEqual([old?.kid, added.kid]);
    expect(statSync(tokenKeyFiles(stackDir).privateFile).mode & 0o777).toBe(0o600);
    const { retired, kept } = retireTokenKeys(stackDir);
    expect(retired.map((k) => k.kid)).toEqual([old?.kid]);
    expect(kept.kid).toBe(added.kid);
    expect(jwks().keys.map((k) => k.kid)).toEqual([added.kid]);
  });

  it('says to run up when there are no keys, and what to do with a broken file', () => {
    expect(() => readTokenKeys(stackDir)).toThrow(StackError);
    expect(() => rotateTokenKeys(stackDir)).toThrow(/run \.\/dispatch up/);
    mkdirSync(path.join(stackDir, 'secrets'), { recursive: true });
    writeFileSync(tokenKeyFiles(stackDir).privateFile, '{"keys":[{"kid":"x"}]}');
    expect(() => readTokenKeys(stackDir)).toThrow(/does not hold signing keys/);
    expect(() => ensureTokenKeys(stackDir)).toThrow(/move it away/);
  });
});
