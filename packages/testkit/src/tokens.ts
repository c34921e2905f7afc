import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Role } from '@dispatch/platform';
import {
  currentSigningKey,
  generateSigningKey,
  type KeyFiles,
  readSigningKeys,
  retireKeyFiles,
  rotateKeyFiles,
  type SigningKey,
  signToken,
  type TokenClaims,
  writeKeyFiles,
} from '@dispatch/platform/token-issuer';
import { stackDir } from './services';

const DEFAULT_CLAIMS: TokenClaims = { issuer: 'dispatch', audience: 'dispatch-api' };

/**
 * The private signing keys of the running stack's local issuer: AUTH_SIGNING_KEYS_FILE when set, else
 * the file `pnpm stack up` generated (.stack/secrets/token-signing-keys.json, mode 0600). The services
 * hold only the public half (.stack/auth/jwks.json).
 */
export function localSigningKeysFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.AUTH_SIGNING_KEYS_FILE ?? path.join(stackDir(env), 'secrets', 'token-signing-keys.json');
}

/** The key the local issuer signs with now (the newest in the file). */
export function localSigningKey(env: NodeJS.ProcessEnv = process.env): SigningKey {
  const file = localSigningKeysFile(env);
  try {
    return currentSigningKey(file);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}: start the stack with \`pnpm stack up\` (./dispatch up), or set AUTH_SIGNING_KEYS_FILE.`,
    );
  }
}

function claimsOf(env: NodeJS.ProcessEnv): TokenClaims {
  return {
    issuer: env.AUTH_JWT_ISSUER || DEFAULT_CLAIMS.issuer,
    audience: env.AUTH_JWT_AUDIENCE || DEFAULT_CLAIMS.audience,
  };
}

/** A bearer token the running services accept: `sub` is the customerId for customers. */
export async function tokenFor(
  sub: string,
  role: Role = 'customer',
  opts: { ttl?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  return signToken(localSigningKey(env), claimsOf(env), { subject: sub, roles: [role] }, opts.ttl ?? '1h');
}

/**
 * An issuer of its own for a test: fresh keys in a temporary folder, `env` for the services under test
 * (AUTH_JWKS_FILE: public keys only), `sign` for tokens, `rotate`/`retire` for key rotation.
 */
export interface TestIssuer extends KeyFiles {
  /** AUTH_JWKS_FILE, AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE for a service that trusts this issuer. */
  env: Record<string, string>;
  claims: TokenClaims;
  /** A token signed with the current key (or `opts.key`). */
  sign(
    subject: string,
    roles?: Role[] | Role,
    opts?: { ttl?: string | number; key?: SigningKey },
  ): Promise<string>;
  /** The newest key, which signs. */
  currentKey(): SigningKey;
  keys(): SigningKey[];
  /** Adds a key that signs from now on; the old ones stay in the JWKS. */
  rotate(): SigningKey;
  /** Drops every key but the newest from both files. */
  retire(): SigningKey[];
  /** Removes the folder. */
  cleanup(): void;
}

export function createTestIssuer(
  opts: { alg?: SigningKey['alg']; claims?: Partial<TokenClaims> } = {},
): TestIssuer {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-issuer-'));
  const files: KeyFiles = {
    privateFile: path.join(dir, 'signing-keys.json'),
    jwksFile: path.join(dir, 'jwks.json'),
  };
  const claims = { ...DEFAULT_CLAIMS, ...opts.claims };
  writeKeyFiles(files, [generateSigningKey(opts.alg ?? 'EdDSA')]);
  return {
    ...files,
    claims,
    env: {
      AUTH_JWKS_FILE: files.jwksFile,
      AUTH_JWT_ISSUER: claims.issuer,
      AUTH_JWT_AUDIENCE: claims.audience,
    },
    sign: (subject, roles = ['customer'], signOpts = {}) =>
      signToken(
        signOpts.key ?? currentSigningKey(files.privateFile),
        claims,
        { subject, roles: Array.isArray(roles) ? roles : [roles] },
        signOpts.ttl ?? '1h',
      ),
    currentKey: () => currentSigningKey(files.privateFile),
    keys: () => readSigningKeys(files.privateFile),
    rotate: () => rotateKeyFiles(files).added,
    retire: () => retireKeyFiles(files).retired,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
