import { ROLES, type Role } from '@dispatch/platform';
import { readFlags } from '../cli/flags';

/** `./dispatch token --sub <customerId> [--role customer|admin] [--ttl 1h]` */
export interface TokenArgs {
  command: 'sign';
  subject: string;
  role: Role;
  /** A jose duration: a whole number with s, m, h or d (e.g. 90s, 15m, 1h, 7d). */
  ttl: string;
}

/** `./dispatch token --rotate | --retire | --keys`: the local issuer's key rotation. */
export interface KeyCommand {
  command: 'rotate' | 'retire' | 'keys';
}

export class TokenUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenUsageError';
  }
}

/** The services' default AUTH_MAX_TOKEN_LIFETIME: a longer token would be refused. */
export const DEFAULT_MAX_TTL_SECONDS = 24 * 3_600;

export const TOKEN_USAGE = `Usage: ./dispatch token --sub <customerId> [--role customer|admin] [--ttl 1h]
       ./dispatch token --rotate | --retire | --keys

Prints a JWT (EdDSA, with the kid of its key) signed with the local stack's private key
(.stack/secrets/token-signing-keys.json, mode 0600, created by ./dispatch up or here). The services hold
only the public keys (.stack/auth/jwks.json) and accept it:
  --sub   the subject; for a customer, the customerId they act as (1-128 characters)
  --role  customer (default) or admin (inventory, DLQ endpoints)
  --ttl   lifetime: a number with s, m, h or d (default 1h; at most the services'
          AUTH_MAX_TOKEN_LIFETIME, 24h unless set)

Key rotation (the running services re-read .stack/auth/jwks.json within a second):
  --rotate  add a new key; it signs from now on, the old keys stay in the JWKS so the tokens
            they signed keep working
  --retire  remove every key but the newest; tokens the old keys signed are refused from then on
  --keys    list the keys (kid, algorithm, created), the signing one last

  curl -H "Authorization: Bearer $(./dispatch token --sub customer-1)" http://127.0.0.1:8080/api/orders/<id>
`;

const TTL_PATTERN = /^([1-9]\d*)([smhd])$/;
const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const KEY_COMMANDS = ['--rotate', '--retire', '--keys'] as const;

function describeSeconds(seconds: number): string {
  if (seconds % 86_400 === 0 && seconds > 86_400) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Returns undefined for --help. */
export function parseTokenArgs(
  argv: string[],
  maxTtlSeconds: number = DEFAULT_MAX_TTL_SECONDS,
): TokenArgs | KeyCommand | undefined {
  const keyCommands = argv.filter((arg) => (KEY_COMMANDS as readonly string[]).includes(arg));
  if (keyCommands.length > 0) {
    if (argv.some((arg) => arg === '-h' || arg === '--help')) return undefined;
    if (argv.length > 1) throw new TokenUsageError(`${keyCommands[0]} takes no other argument`);
    return { command: keyCommands[0]!.slice(2) as KeyCommand['command'] };
  }
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
  if (Number(ttlMatch[1]) * SECONDS_PER_UNIT[ttlMatch[2]!]! > maxTtlSeconds) {
    throw new TokenUsageError(
      `--ttl must be at most ${describeSeconds(maxTtlSeconds)} (the services' AUTH_MAX_TOKEN_LIFETIME), got "${ttl}"`,
    );
  }
  return { command: 'sign', subject, role: role as Role, ttl };
}
