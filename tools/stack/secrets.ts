import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './errors';

/**
 * The local HS256 signing secret the services verify tokens with (AUTH_JWT_SECRET) and
 * `./dispatch token` signs with. Generated once, on the first `up`, into
 * .stack/secrets/jwt-secret (git-ignored with the rest of .stack, readable only by its owner).
 */
export function jwtSecretFile(stackDir: string): string {
  return path.join(stackDir, 'secrets', 'jwt-secret');
}

/** 32 random bytes as base64url: 43 characters, above the services' 32-character minimum. */
export function newJwtSecret(bytes: Buffer = randomBytes(32)): string {
  return bytes.toString('base64url');
}

/** Reads the secret, creating it (mode 0600, folder 0700) when missing. */
export function ensureJwtSecret(stackDir: string): { secret: string; created: boolean } {
  const file = jwtSecretFile(stackDir);
  if (existsSync(file)) return { secret: readJwtSecret(stackDir), created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // 'wx': if a concurrent run created it first, fall back to reading theirs.
  try {
    writeFileSync(file, `${newJwtSecret()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { secret: readJwtSecret(stackDir), created: false };
  }
  chmodSync(file, 0o600); // the umask may have narrowed it further, never widened; make it exact
  return { secret: readJwtSecret(stackDir), created: true };
}

export function readJwtSecret(stackDir: string): string {
  const file = jwtSecretFile(stackDir);
  if (!existsSync(file)) {
    throw new StackError(`no JWT secret at ${file}: run ./dispatch up (or pnpm stack up) first`);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) {
    throw new StackError(`${file} holds fewer than 32 characters; delete it and run ./dispatch up again`);
  }
  return secret;
}
