import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ensureKeyFiles,
  type KeyFiles,
  readSigningKeys,
  retireKeyFiles,
  rotateKeyFiles,
  type SigningKey,
} from '@dispatch/platform/token-issuer';
import { StackError } from './errors';

/**
 * The local token issuer's keys (the stack plays the identity provider): the private signing keys in
 * .stack/secrets/token-signing-keys.json (mode 0600, folder 0700; only `./dispatch token` and the
 * testkit read it) and their public halves in .stack/auth/jwks.json, the only thing the services get
 * (AUTH_JWKS_FILE). Generated on the first `up`, never committed (.stack is git-ignored).
 */
export function tokenKeyFiles(stackDir: string): KeyFiles {
  return {
    privateFile: path.join(stackDir, 'secrets', 'token-signing-keys.json'),
    jwksFile: path.join(stackDir, 'auth', 'jwks.json'),
  };
}

/** The HS256 secret of earlier versions; `up` deletes it (nothing accepts HS256 any more). */
export function legacyJwtSecretFile(stackDir: string): string {
  return path.join(stackDir, 'secrets', 'jwt-secret');
}

/**
 * `up`: makes sure the signing keys and the public JWKS exist (a first Ed25519 key when there is none;
 * the JWKS rewritten when missing or stale), and deletes the old HS256 secret of an upgraded stack.
 */
export function ensureTokenKeys(stackDir: string): {
  files: KeyFiles;
  created: boolean;
  removedLegacySecret: boolean;
} {
  const files = tokenKeyFiles(stackDir);
  let created: boolean;
  try {
    ({ created } = ensureKeyFiles(files));
  } catch (err) {
    throw new StackError(
      `${(err as Error).message}; move it away and run ./dispatch up again to generate new keys`,
    );
  }
  const legacy = legacyJwtSecretFile(stackDir);
  const removedLegacySecret = existsSync(legacy);
  if (removedLegacySecret) rmSync(legacy, { force: true });
  return { files, created, removedLegacySecret };
}

/** The signing keys, oldest first (the newest signs); says to run `up` when there are none. */
export function readTokenKeys(stackDir: string): SigningKey[] {
  const { privateFile } = tokenKeyFiles(stackDir);
  if (!existsSync(privateFile)) {
    throw new StackError(
      `no token signing keys at ${privateFile}: run ./dispatch up (or pnpm stack up) first`,
    );
  }
  try {
    return readSigningKeys(privateFile);
  } catch (err) {
    throw new StackError(`${(err as Error).message}; move it away and run ./dispatch up again`);
  }
}

/** `./dispatch token --rotate`: a new key signs from now on; the old ones stay public until retired. */
export function rotateTokenKeys(stackDir: string): { added: SigningKey; keys: SigningKey[] } {
  readTokenKeys(stackDir);
  return rotateKeyFiles(tokenKeyFiles(stackDir));
}

/** `./dispatch token --retire`: every key but the newest is removed; its tokens are refused from then on. */
export function retireTokenKeys(stackDir: string): { retired: SigningKey[]; kept: SigningKey } {
  readTokenKeys(stackDir);
  return retireKeyFiles(tokenKeyFiles(stackDir));
}

/**
 * A generated password in `file` (32 url-safe characters, written once), folder 0700 and file 0600
 * again on every call. Returns it and whether it was generated just now.
 */
export function ensureGeneratedPassword(file: string): { password: string; created: boolean } {
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  let created = false;
  try {
    writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(file, 0o600);
  return { password: readGeneratedPassword(file), created };
}

/** The password in `file`; says to run `up` when it is missing. */
export function readGeneratedPassword(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StackError(`no password at ${file}: run ./dispatch up (or pnpm stack up) first`);
    }
    throw err;
  }
  const password = text.trim();
  // Url-safe only: Cassandra's role statements take the password as a CQL string literal.
  if (!/^[A-Za-z0-9_-]{16,}$/.test(password)) {
    throw new StackError(
      `${file} must hold one password of at least 16 letters, digits, - or _; delete it and run ./dispatch up`,
    );
  }
  return password;
}
