import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Role } from '@dispatch/platform';
import { stackDir } from './services';

/**
 * The HS256 secret the running stack's services verify tokens with: AUTH_JWT_SECRET when set,
 * else the one `pnpm stack up` generated into .stack/secrets/jwt-secret.
 */
export function localJwtSecret(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AUTH_JWT_SECRET) return env.AUTH_JWT_SECRET;
  const file = path.join(stackDir(env), 'secrets', 'jwt-secret');
  if (!existsSync(file)) {
    throw new Error(
      `No AUTH_JWT_SECRET and no ${file}: start the stack with \`pnpm stack up\` (./dispatch up).`,
    );
  }
  return readFileSync(file, 'utf8').trim();
}

/** A bearer token the running services accept: `sub` is the customerId for customers. */
export async function tokenFor(
  sub: string,
  role: Role = 'customer',
  opts: { ttl?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const env = opts.env ?? process.env;
  // Loaded on first use: most tests that import the testkit never need the platform.
  const { authEnv, signToken } = await import('@dispatch/platform');
  return signToken(
    {
      AUTH_JWT_SECRET: localJwtSecret(env),
      AUTH_JWT_ISSUER: authEnv.AUTH_JWT_ISSUER.parse(env.AUTH_JWT_ISSUER),
      AUTH_JWT_AUDIENCE: authEnv.AUTH_JWT_AUDIENCE.parse(env.AUTH_JWT_AUDIENCE),
    },
    { subject: sub, roles: [role] },
    opts.ttl ?? '1h',
  );
}
