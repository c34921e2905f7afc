// The issuer's side of the tokens: signing keys, the public JWKS derived from them, and signing.
// Services never import this module (it is not exported from '@dispatch/platform', only from
// '@dispatch/platform/token-issuer'): they hold public keys and only verify (auth.ts). The local
// issuer is `./dispatch token`; tests sign through the testkit; in a cluster, the identity provider.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { importJWK, type JWK, SignJWT } from 'jose';
import { type Principal, parsePublicJwks, TOKEN_ALGORITHMS, type TokenAlgorithm } from './auth';

/** A private signing key as a JWK: `kid` and `alg` always set. */
export interface SigningKey extends JWK {
  kid: string;
  alg: TokenAlgorithm;
  /** When it was made (ISO 8601), for operators. */
  createdAt?: string;
}

export interface PublicJwks {
  keys: JWK[];
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A new key id: the UTC date and 6 random bytes, e.g. `2026-12-02-3f9a1c0b7d2e`. */
export function newKid(at: Date = new Date()): string {
  return `${at.toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`;
}

/** A new signing key: Ed25519 (EdDSA) by default, or RSA 2048 (RS256). */
export function generateSigningKey(alg: TokenAlgorithm = 'EdDSA', kid: string = newKid()): SigningKey {
  const { privateKey } =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { ...jwk, kid, alg, use: 'sig', createdAt: new Date().toISOString() };
}

/** The public half of a key: what a JWKS may hold. */
export function publicJwkOf(key: SigningKey): JWK {
  const { createdAt: _createdAt, ...jwk } = key;
  return Object.fromEntries(
    Object.entries(jwk).filter(([member]) => !PRIVATE_MEMBERS.includes(member)),
  ) as unknown as JWK;
}

export function publicJwks(keys: SigningKey[]): PublicJwks {
  return parsePublicJwks({ keys: keys.map(publicJwkOf) }, 'the derived JWKS') as PublicJwks;
}

export interface TokenClaims {
  issuer: string;
  audience: string;
}

/**
 * Signs a token for a principal with a private key: header `alg` and `kid`, claims `sub`, `roles`,
 * `iss`, `aud`, `iat` and `exp` (`ttl`: a jose duration such as '1h', or seconds).
 */
export async function signToken(
  key: SigningKey,
  claims: TokenClaims,
  principal: Pick<Principal, 'subject' | 'roles'>,
  ttl: string | number = '1h',
): Promise<string> {
  const privateKey = await importJWK(key, key.alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: principal.roles })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setSubject(principal.subject)
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(typeof ttl === 'number' ? now + ttl : ttl)
    .sign(privateKey);
}

/**
 * Signs exactly the given claims and header, nothing added: for tests that craft the tokens a service
 * must refuse (no exp, a future iat, another kid). `{ hs256Secret }` signs with a shared secret (HS256).
 */
export async function signClaims(
  signer: SigningKey | { hs256Secret: string },
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwt = new SignJWT(payload);
  if ('hs256Secret' in signer) {
    return jwt
      .setProtectedHeader({ alg: 'HS256', ...header })
      .sign(new TextEncoder().encode(signer.hs256Secret));
  }
  return jwt
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, ...header } as never)
    .sign(await importJWK(signer, signer.alg));
}

// ---- the key files of a local issuer ----------------------------------------------------------------

/**
 * A local issuer's keys on disk: `privateFile` (mode 0600: every signing key, the newest last, which
 * signs) and `jwksFile` (mode 0644: only their public halves, what the services read).
 */
export interface KeyFiles {
  privateFile: string;
  jwksFile: string;
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
function writeAtomically(file: string, text: string, mode: number): void {
  // A folder for private keys is its owner's only; one for public keys may be read by anyone.
  mkdirSync(path.dirname(file), { recursive: true, mode: mode & 0o044 ? 0o755 : 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, text, { mode, flag: 'wx' });
  chmodSync(temporary, mode); // the umask may have narrowed it; make it exact
  renameSync(temporary, file);
}

function isSigningKey(value: unknown): value is SigningKey {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Record<string, unknown>;
  return (
    typeof key.kid === 'string' &&
    key.kid.length > 0 &&
    (TOKEN_ALGORITHMS as readonly string[]).includes(key.alg as string) &&
    typeof key.d === 'string'
  );
}

/** The signing keys (oldest first, the newest signs); throws naming the file when it is missing or bad. */
export function readSigningKeys(privateFile: string): SigningKey[] {
  if (!existsSync(privateFile)) throw new Error(`no token signing keys at ${privateFile}`);
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(privateFile, 'utf8'));
  } catch {
    throw new Error(`${privateFile} is not JSON`);
  }
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0 || !keys.every(isSigningKey)) {
    throw new Error(
      `${privateFile} does not hold signing keys (expected {"keys": [private JWKs with kid and alg]})`,
    );
  }
  return keys;
}

/** The key that signs new tokens: the newest. */
export function currentSigningKey(privateFile: string): SigningKey {
  const keys = readSigningKeys(privateFile);
  return keys[keys.length - 1] as SigningKey;
}

/** Writes both files: private keys first (0600), then the public JWKS (0644) derived from them. */
export function writeKeyFiles(files: KeyFiles, keys: SigningKey[]): void {
  if (keys.length === 0) throw new Error('at least one signing key is needed');
  writeAtomically(files.privateFile, `${JSON.stringify({ keys }, null, 2)}\n`, 0o600);
  writeAtomically(files.jwksFile, `${JSON.stringify(publicJwks(keys), null, 2)}\n`, 0o644);
}

/**
 * Makes sure both files exist: creates a first key when there is none; rewrites the public JWKS when
 * it is missing or does not match the private keys.
 */
export function ensureKeyFiles(
  files: KeyFiles,
  alg: TokenAlgorithm = 'EdDSA',
): { created: boolean; keys: SigningKey[] } {
  if (!existsSync(files.privateFile)) {
    const keys = [generateSigningKey(alg)];
    writeKeyFiles(files, keys);
    return { created: true, keys };
  }
  const keys = readSigningKeys(files.privateFile);
  const expected = `${JSON.stringify(publicJwks(keys), null, 2)}\n`;
  if (!existsSync(files.jwksFile) || readFileSync(files.jwksFile, 'utf8') !== expected) {
    writeAtomically(files.jwksFile, expected, 0o644);
  }
  chmodSync(files.privateFile, 0o600);
  return { created: false, keys };
}

/**
 * Rotation, step 1: a new key signs from now on; the previous ones stay in the JWKS, so tokens they
 * signed keep verifying until they expire and the old keys are retired.
 */
export function rotateKeyFiles(
  files: KeyFiles,
  alg?: TokenAlgorithm,
): { added: SigningKey; keys: SigningKey[] } {
  const existing = readSigningKeys(files.privateFile);
  const added = generateSigningKey(alg ?? existing[existing.length - 1]?.alg ?? 'EdDSA');
  const keys = [...existing, added];
  writeKeyFiles(files, keys);
  return { added, keys };
}

/**
 * Rotation, step 2: every key but the newest leaves both files; tokens they signed are refused from
 * then on (the services re-read the JWKS file within a second).
 */
export function retireKeyFiles(files: KeyFiles): { retired: SigningKey[]; kept: SigningKey } {
  const existing = readSigningKeys(files.privateFile);
  const kept = existing[existing.length - 1] as SigningKey;
  writeKeyFiles(files, [kept]);
  return { retired: existing.slice(0, -1), kept };
}
