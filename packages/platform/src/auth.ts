import type { RequestHandler, Response } from 'express';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { ForbiddenError, UnauthorizedError } from './errors';
import { subjectRateLimitsOf } from './rate-limit';

export const ROLES = ['customer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the token's subject is the customerId for customers. */
export interface Principal {
  subject: string;
  roles: Role[];
  /** When the token expires (its `exp`), if it says; long-lived responses (streams) end then. */
  expiresAt?: Date;
}

export const authEnv = {
  /** HS256 shared secret (at least 32 characters). Used when AUTH_JWKS_URL is not set. */
  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** An identity provider's JWKS endpoint (RS256/ES256 tokens); takes precedence over the secret. */
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_JWT_ISSUER: z.string().min(1).default('dispatch'),
  AUTH_JWT_AUDIENCE: z.string().min(1).default('dispatch-api'),
};

/**
 * Every service with an API must be able to verify tokens: refines a service's env schema so a
 * missing AUTH_JWT_SECRET / AUTH_JWKS_URL is reported together with every other bad variable.
 */
export function requireAuth<
  S extends z.ZodType<{ AUTH_JWT_SECRET?: string | undefined; AUTH_JWKS_URL?: string | undefined }>,
>(schema: S): S {
  return schema.refine((env) => env.AUTH_JWT_SECRET !== undefined || env.AUTH_JWKS_URL !== undefined, {
    path: ['AUTH_JWT_SECRET'],
    message: 'set AUTH_JWT_SECRET (HS256, at least 32 characters) or AUTH_JWKS_URL',
    // Also when other variables are bad, so one run lists every problem.
    when: (payload) => {
      const env = payload.value as Record<string, unknown>;
      return env.AUTH_JWT_SECRET === undefined && env.AUTH_JWKS_URL === undefined;
    },
  });
}

export interface AuthConfig {
  AUTH_JWT_SECRET?: string | undefined;
  AUTH_JWKS_URL?: string | undefined;
  AUTH_JWT_ISSUER: string;
  AUTH_JWT_AUDIENCE: string;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

const claimsSchema = z.object({
  sub: z.string().min(1).max(128),
  roles: z.array(z.enum(ROLES)).min(1),
});

/** Verifies signature, expiry, issuer and audience, then reads `sub` and `roles`. */
export function createTokenVerifier(cfg: AuthConfig): TokenVerifier {
  const options = { issuer: cfg.AUTH_JWT_ISSUER, audience: cfg.AUTH_JWT_AUDIENCE, clockTolerance: 5 };
  let verify: (token: string) => Promise<JWTPayload>;
  if (cfg.AUTH_JWKS_URL) {
    const jwks = createRemoteJWKSet(new URL(cfg.AUTH_JWKS_URL));
    verify = async (token) =>
      (await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload;
  } else if (cfg.AUTH_JWT_SECRET) {
    const key = new TextEncoder().encode(cfg.AUTH_JWT_SECRET);
    verify = async (token) => (await jwtVerify(token, key, { ...options, algorithms: ['HS256'] })).payload;
  } else {
    throw new Error('auth: set AUTH_JWKS_URL or AUTH_JWT_SECRET');
  }
  return async (token) => {
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new UnauthorizedError('The token has expired.');
      throw new UnauthorizedError('The token is not valid.');
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new UnauthorizedError('The token lacks a subject or known roles.');
    const principal: Principal = { subject: claims.data.sub, roles: claims.data.roles };
    if (typeof payload.exp === 'number') principal.expiresAt = new Date(payload.exp * 1000);
    return principal;
  };
}

/** Mints an HS256 token (local development, tests, `./dispatch token`). */
export async function signToken(
  cfg: Pick<AuthConfig, 'AUTH_JWT_ISSUER' | 'AUTH_JWT_AUDIENCE'> & { AUTH_JWT_SECRET: string },
  principal: Principal,
  expiresIn = '1h',
): Promise<string> {
  return new SignJWT({ roles: principal.roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(principal.subject)
    .setIssuer(cfg.AUTH_JWT_ISSUER)
    .setAudience(cfg.AUTH_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(cfg.AUTH_JWT_SECRET));
}

/**
 * Requires a valid `Authorization: Bearer` token; the principal is then `principalOf(res)`. Then counts
 * the request against the subject's read or write rate limit of the service (installed on the app by
 * startService, see SubjectRateLimits): every authenticated route is limited here, in one place.
 */
export function authenticate(verify: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError();
    const principal = await verify(match[1]);
    res.locals.principal = principal;
    await subjectRateLimitsOf(req)?.check(req, res, principal.subject);
    next();
  };
}

/** Requires one of the roles (after `authenticate`). */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (!principal.roles.some((r) => roles.includes(r))) {
      throw new ForbiddenError(`This needs the ${roles.join(' or ')} role.`);
    }
    next();
  };
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new UnauthorizedError();
  return principal;
}

/** A customer may act only on their own resources; an admin on any. */
export function assertOwnerOrAdmin(principal: Principal, ownerId: string): void {
  if (principal.roles.includes('admin') || principal.subject === ownerId) return;
  throw new ForbiddenError('This belongs to another customer.');
}
