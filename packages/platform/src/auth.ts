import { readFileSync, statSync } from 'node:fs';
import type { RequestHandler, Response } from 'express';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from 'jose';
import { z } from 'zod';
import { DomainError, ForbiddenError, UnauthorizedError } from './errors';
import { subjectRateLimitsOf } from './rate-limit';

export const ROLES = ['customer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the token's subject is the customerId for customers. */
export interface Principal {
  subject: string;
  roles: Role[];
  /** When the token expires (its `exp`); long-lived responses (streams) end then. */
  expiresAt?: Date;
}

/**
 * The only signature algorithms a service accepts: asymmetric, so a service holds public keys only
 * and can verify tokens but never mint one. HS256 (a shared secret) and `none` are refused.
 */
export const TOKEN_ALGORITHMS = ['EdDSA', 'RS256'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

const DURATION = /^(\d+)\s*(s|m|h|d)?$/;
const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** A duration in seconds: `90` (seconds), `90s`, `15m`, `24h`, `7d`. */
export function durationSeconds(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(DURATION, 'expected a duration: a number of seconds, or a number with s, m, h or d (e.g. 24h)')
    .transform((text) => {
      const [, amount, unit] = DURATION.exec(text) as RegExpExecArray;
      return Number(amount) * SECONDS_PER_UNIT[unit ?? 's']!;
    })
    .pipe(z.number().min(min, `expected at least ${min} s`).max(max, `expected at most ${max} s`));
}

/** URLs a JWKS may be fetched from: https anywhere; plain http only on this host (tests, a local IdP). */
const jwksUrl = z.url().refine(
  (text) => {
    const url = new URL(text);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  },
  { message: 'expected an https:// URL (http:// only for 127.0.0.1, localhost or [::1])' },
);

export const authEnv = {
  /** The identity provider's JWKS endpoint (public keys only); fetched, cached and refreshed. */
  AUTH_JWKS_URL: jwksUrl.optional(),
  /** A JWKS document on disk (public keys only); re-read when it changes. The local stack's. */
  AUTH_JWKS_FILE: z.string().min(1).optional(),
  /** HS256 is gone: a shared secret would let every service mint tokens. Set, it stops the start. */
  AUTH_JWT_SECRET: z
    .undefined({
      error:
        'HS256 shared secrets are no longer accepted: remove AUTH_JWT_SECRET and set AUTH_JWKS_FILE or AUTH_JWKS_URL (public keys)',
    })
    .optional(),
  AUTH_JWT_ISSUER: z.string().min(1).default('dispatch'),
  AUTH_JWT_AUDIENCE: z.string().min(1).default('dispatch-api'),
  /** The longest lifetime (exp - iat) a token may have; longer ones are refused. */
  AUTH_MAX_TOKEN_LIFETIME: durationSeconds(60, 30 * 86_400).default(24 * 3_600),
  /** How far the issuer's clock may be off: exp, nbf and iat are checked with this much leeway. */
  AUTH_CLOCK_SKEW: durationSeconds(0, 300).default(60),
};

type AuthSource = { AUTH_JWKS_URL?: string | undefined; AUTH_JWKS_FILE?: string | undefined };

const hasOneSource = (env: AuthSource) =>
  (env.AUTH_JWKS_URL === undefined) !== (env.AUTH_JWKS_FILE === undefined);

/**
 * Every service with an API must be able to verify tokens: refines a service's env schema so that
 * exactly one of AUTH_JWKS_URL / AUTH_JWKS_FILE is required, reported together with every other bad
 * variable.
 */
export function requireAuth<S extends z.ZodType<AuthSource>>(schema: S): S {
  return schema.refine(hasOneSource, {
    path: ['AUTH_JWKS_URL'],
    message:
      'set exactly one of AUTH_JWKS_URL (the identity provider’s JWKS endpoint) or AUTH_JWKS_FILE (a JWKS document of public keys)',
    // Also when other variables are bad, so one run lists every problem.
    when: (payload) => {
      const env = payload.value as Record<string, unknown>;
      return (env.AUTH_JWKS_URL === undefined) === (env.AUTH_JWKS_FILE === undefined);
    },
  });
}

export interface AuthConfig {
  AUTH_JWKS_URL?: string | undefined;
  AUTH_JWKS_FILE?: string | undefined;
  AUTH_JWT_ISSUER: string;
  AUTH_JWT_AUDIENCE: string;
  /** Seconds; default 24 h. */
  AUTH_MAX_TOKEN_LIFETIME?: number;
  /** Seconds; default 60. */
  AUTH_CLOCK_SKEW?: number;
}

/** Tuning of the key sources, for tests; services use the defaults. */
export interface TokenVerifierOptions {
  /** AUTH_JWKS_URL: at most one refetch for an unknown kid per this many ms (jose's cooldown). Default 30 s. */
  jwksCooldownMs?: number;
  /** AUTH_JWKS_URL: the fetched document is used this long, then fetched again. Default 10 min. */
  jwksCacheMaxAgeMs?: number;
  /** AUTH_JWKS_URL: how long one fetch may take. Default 5 s. */
  jwksTimeoutMs?: number;
  /** AUTH_JWKS_FILE: how often (at most) the file is checked for a change. Default 1 s. */
  fileCheckIntervalMs?: number;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** 503: the keys to verify with could not be fetched (the identity provider is unreachable). */
export class AuthUnavailableError extends DomainError {
  constructor(detail: string) {
    super(503, 'auth-unavailable', 'Token keys unavailable', detail, { retryAfterSeconds: 5 });
  }
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Checks a JWKS document a service is given: at least one key; every key a public Ed25519 (OKP) or RSA
 * key with a unique `kid`; no private or symmetric key material (a service must never hold what signs).
 */
export function parsePublicJwks(document: unknown, source: string): JSONWebKeySet {
  const problem = (message: string) => new Error(`${source}: ${message}`);
  if (typeof document !== 'object' || document === null || !Array.isArray((document as JSONWebKeySet).keys)) {
    throw problem('not a JWKS document (expected {"keys": [...]})');
  }
  const keys = (document as JSONWebKeySet).keys;
  if (keys.length === 0) throw problem('holds no keys');
  const kids = new Set<string>();
  keys.forEach((key, i) => {
    const where = `key ${i}${typeof key.kid === 'string' ? ` (kid "${key.kid}")` : ''}`;
    if (typeof key.kid !== 'string' || key.kid.length === 0) throw problem(`${where} has no kid`);
    if (kids.has(key.kid)) throw problem(`${where}: the kid appears twice`);
    kids.add(key.kid);
    const okp = key.kty === 'OKP' && key.crv === 'Ed25519';
    if (!okp && key.kty !== 'RSA')
      throw problem(`${where} is ${key.kty}/${key.crv ?? '-'}; expected OKP/Ed25519 or RSA`);
    if (key.alg !== undefined && !(TOKEN_ALGORITHMS as readonly string[]).includes(key.alg)) {
      throw problem(`${where} has alg ${key.alg}; expected ${TOKEN_ALGORITHMS.join(' or ')}`);
    }
    const secret = PRIVATE_MEMBERS.filter((member) => member in key);
    if (secret.length > 0) {
      throw problem(
        `${where} holds private key material (${secret.join(', ')}); give services public keys only`,
      );
    }
  });
  return { keys };
}

function readJwksFile(file: string): JSONWebKeySet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`AUTH_JWKS_FILE ${file}: cannot be read (${(err as Error).message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error(`AUTH_JWKS_FILE ${file}: not JSON`);
  }
  return parsePublicJwks(document, `AUTH_JWKS_FILE ${file}`);
}

type KeySource = (
  header: JWTHeaderParameters,
  token: { payload: unknown; signature: unknown },
) => Promise<unknown>;

/**
 * A JWKS file, read at start (a bad one stops the start) and read again when it changes: checked at
 * most every `intervalMs`, and at once when a token names a kid it does not hold (a key just added by
 * rotation). A changed file that does not parse keeps the keys it had.
 */
function fileKeySource(file: string, intervalMs: number): KeySource {
  const fingerprint = () => {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  };
  let keys = createLocalJWKSet(readJwksFile(file));
  let seen = fingerprint();
  let checkedAt = Date.now();
  const refresh = (force: boolean): boolean => {
    if (!force && Date.now() - checkedAt < intervalMs) return false;
    checkedAt = Date.now();
    try {
      const now = fingerprint();
      if (now === seen) return false;
      keys = createLocalJWKSet(readJwksFile(file));
      seen = now;
      return true;
    } catch {
      return false; // mid-replacement or broken: keep verifying with the keys we have
    }
  };
  return async (header, token) => {
    refresh(false);
    try {
      return await keys(header, token as never);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey && refresh(true)) return keys(header, token as never);
      throw err;
    }
  };
}

/** A remote JWKS (jose caches it, refetches for an unknown kid at most once per cooldown). */
function urlKeySource(url: string, opts: TokenVerifierOptions): KeySource {
  const jwks = createRemoteJWKSet(new URL(url), {
    cooldownDuration: opts.jwksCooldownMs ?? 30_000,
    cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000,
    timeoutDuration: opts.jwksTimeoutMs ?? 5_000,
  });
  return async (header, token) => {
    try {
      return await jwks(header, token as never);
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey || err instanceof joseErrors.JWKSMultipleMatchingKeys) {
        throw err;
      }
      throw new AuthUnavailableError(
        `The token keys could not be fetched from the identity provider (${(err as Error).message}); retry later.`,
      );
    }
  };
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(128),
  roles: z.array(z.enum(ROLES)).min(1),
});

const KID = /^[\x21-\x7e]{1,256}$/;

/** 401 with a reason the caller can act on; the reason is the problem's `detail`. */
function refused(detail: string): UnauthorizedError {
  return new UnauthorizedError(detail);
}

function describeClaimFailure(err: joseErrors.JWTClaimValidationFailed, cfg: AuthConfig): UnauthorizedError {
  switch (err.claim) {
    case 'exp':
      return refused('The token has no expiry (exp); tokens must expire.');
    case 'iat':
      return refused('The token has no valid issue time (iat).');
    case 'nbf':
      return err.reason === 'check_failed'
        ? refused('The token is not valid yet (its nbf is in the future).')
        : refused('The token has an invalid nbf.');
    case 'iss':
      return refused(`The token's issuer is not "${cfg.AUTH_JWT_ISSUER}".`);
    case 'aud':
      return refused(`The token's audience is not "${cfg.AUTH_JWT_AUDIENCE}".`);
    case 'sub':
      return refused('The token lacks a subject or known roles.');
    default:
      return refused(`The token's ${err.claim} claim is not valid.`);
  }
}

/**
 * Verifies a token against public keys only (AUTH_JWKS_FILE or AUTH_JWKS_URL): the algorithm must be
 * EdDSA or RS256, the header must name its key (`kid`) and that key must be in the JWKS; then the
 * signature, issuer, audience, a required `exp` and `iat`, a lifetime (exp - iat) of at most
 * AUTH_MAX_TOKEN_LIFETIME, and no `nbf`/`iat` further in the future than AUTH_CLOCK_SKEW. Reads `sub`
 * and `roles` last. A bad JWKS file throws here, at start.
 */
export function createTokenVerifier(cfg: AuthConfig, opts: TokenVerifierOptions = {}): TokenVerifier {
  const maxLifetime = cfg.AUTH_MAX_TOKEN_LIFETIME ?? 24 * 3_600;
  const skew = cfg.AUTH_CLOCK_SKEW ?? 60;
  let source: KeySource;
  if (cfg.AUTH_JWKS_URL !== undefined && cfg.AUTH_JWKS_FILE !== undefined) {
    throw new Error('auth: set AUTH_JWKS_URL or AUTH_JWKS_FILE, not both');
  } else if (cfg.AUTH_JWKS_URL !== undefined) {
    source = urlKeySource(cfg.AUTH_JWKS_URL, opts);
  } else if (cfg.AUTH_JWKS_FILE !== undefined) {
    source = fileKeySource(cfg.AUTH_JWKS_FILE, opts.fileCheckIntervalMs ?? 1_000);
  } else {
    throw new Error('auth: set AUTH_JWKS_URL or AUTH_JWKS_FILE');
  }
  const getKey = source as unknown as JWTVerifyGetKey;

  return async (token) => {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw refused('The token is not a well-formed JWT.');
    }
    if (typeof header.alg !== 'string' || !(TOKEN_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw refused(
        `The token is signed with ${typeof header.alg === 'string' ? header.alg.slice(0, 32) : 'no algorithm'}; only ${TOKEN_ALGORITHMS.join(' and ')} are accepted.`,
      );
    }
    if (typeof header.kid !== 'string' || !KID.test(header.kid)) {
      throw refused('The token does not name its signing key (kid).');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: [...TOKEN_ALGORITHMS],
        issuer: cfg.AUTH_JWT_ISSUER,
        audience: cfg.AUTH_JWT_AUDIENCE,
        clockTolerance: skew,
        requiredClaims: ['exp', 'iat', 'sub'],
      }));
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw refused('The token has expired.');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw describeClaimFailure(err, cfg);
      if (err instanceof joseErrors.JWKSNoMatchingKey) {
        throw refused(`The token's signing key (kid "${header.kid}") is not one this service trusts.`);
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw refused('The token signature does not verify.');
      }
      throw refused('The token is not valid.');
    }
    const now = Math.floor(Date.now() / 1000);
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    if (iat > now + skew)
      throw refused('The token was issued in the future (its iat is ahead of this clock).');
    if (exp - iat > maxLifetime) {
      throw refused(
        `The token lives ${exp - iat} s (exp - iat); at most ${maxLifetime} s (AUTH_MAX_TOKEN_LIFETIME) is accepted.`,
      );
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw refused('The token lacks a subject or known roles.');
    return { subject: claims.data.sub, roles: claims.data.roles, expiresAt: new Date(exp * 1000) };
  };
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

/** What every API route starts with: a verified token (`authenticate`), then one of `roles`. */
export function signedIn(verify: TokenVerifier, ...roles: Role[]): RequestHandler[] {
  return [authenticate(verify), requireRole(...roles)];
}

export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new UnauthorizedError();
  return principal;
}
