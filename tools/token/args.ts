import { ROLES, type Role } from '@dispatch/platform';
import { readFlags } from '../cli/flags';

/** `./dispatch token --sub <customerId> [--role customer|admin] [--ttl 1h]` */
export interface TokenArgs {
  subject: string;
  role: Role;
  /** A jose duration: a whole number with s, m, h or d (e.g. 90s, 15m, 1h, 7d). */
  ttl: string;
}

export class TokenUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenUsageError';
  }
}

export const TOKEN_USAGE = `Usage: ./dispatch token --sub <customerId> [--role customer|admin] [--ttl 1h]

Prints a JWT (HS256) signed with the local stack's secret (.stack/secrets/jwt-secret,
created by ./dispatch up) that the services accept:
  --sub   the subject; for a customer, the customerId they act as (1-128 characters)
  --role  customer (default) or admin (inventory, DLQ endpoints)
  --ttl   lifetime: a number with s, m, h or d (default 1h, at most 30d)

  curl -H "Authorization: Bearer $(./dispatch token --sub customer-1)" http://127.0.0.1:8080/api/orders/<id>
`;

const TTL_PATTERN = /^([1-9]\d*)([smhd])$/;
const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_TTL_SECONDS = 30 * 86_400;

/** Returns undefined for --help. */
export function parseTokenArgs(argv: string[]): TokenArgs | undefined {
  const values = readFlags(argv, ['sub', 'role', 'ttl'], (message) => new TokenUsageError(message));
  if (values === undefined) return undefined;
  const subject = values.sub;
  if (subject === undefined)
    throw new TokenUsageError('--sub is required (the customerId, or any name for an admin)');
  if (subject.length === 0 || subject.length > 128 || /\s/.test(subject)) {
    throw new TokenUsageError('--sub must be 1-128 characters without spaces');
  }
  const role = values.role ?? 'customer';
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new TokenUsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}"`);
  }
  const ttl = values.ttl ?? '1h';
  const ttlMatch = TTL_PATTERN.exec(ttl);
  if (!ttlMatch)
    throw new TokenUsageError(`--ttl must be a number with s, m, h or d (e.g. 15m, 1h), got "${ttl}"`);
  if (Number(ttlMatch[1]) * SECONDS_PER_UNIT[ttlMatch[2]!]! > MAX_TTL_SECONDS) {
    throw new TokenUsageError(`--ttl must be at most 30d, got "${ttl}"`);
  }
  return { subject, role: role as Role, ttl };
}
