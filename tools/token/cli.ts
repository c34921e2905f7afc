import { authEnv } from '@dispatch/platform';
import { signToken } from '@dispatch/platform/token-issuer';
import { runCli } from '../cli/flags';
import { stackPaths } from '../stack/paths';
import { ensureTokenKeys, readTokenKeys, retireTokenKeys, rotateTokenKeys } from '../stack/secrets';
import { parseTokenArgs, TOKEN_USAGE, TokenUsageError } from './args';

/**
 * `./dispatch token`: the local issuer. Prints a token the local services accept, signed with the
 * newest private key `up` generated (the services hold only the public JWKS). Issuer, audience and
 * the maximum lifetime are the services' own defaults (authEnv), or AUTH_JWT_ISSUER /
 * AUTH_JWT_AUDIENCE / AUTH_MAX_TOKEN_LIFETIME when set, as the services read them.
 * `--rotate`, `--retire` and `--keys` manage the keys; all of them create the keys first if missing.
 */
async function main(argv: string[]): Promise<number> {
  const maxLifetime = authEnv.AUTH_MAX_TOKEN_LIFETIME.parse(process.env.AUTH_MAX_TOKEN_LIFETIME);
  const args = parseTokenArgs(argv, maxLifetime);
  if (args === undefined) {
    process.stdout.write(TOKEN_USAGE);
    return 0;
  }
  // DISPATCH_STACK_DIR: another stack's folder, as the testkit reads it (tests of this command).
  const stackDir = process.env.DISPATCH_STACK_DIR ?? stackPaths().stackDir;
  // The same keys `up` makes, made here when missing (e.g. for docker compose, without the local stack).
  if (ensureTokenKeys(stackDir).created) {
    process.stderr.write(
      'generated the local token signing key (.stack/secrets/token-signing-keys.json, mode 0600) and its public JWKS (.stack/auth/jwks.json)\n',
    );
  }
  switch (args.command) {
    case 'rotate': {
      const { added, keys } = rotateTokenKeys(stackDir);
      process.stdout.write(
        `added key ${added.kid} (${added.alg}); it signs new tokens from now on.\n` +
          `The JWKS holds ${keys.length} keys; the old ones keep verifying until ./dispatch token --retire.\n`,
      );
      return 0;
    }
    case 'retire': {
      const { retired, kept } = retireTokenKeys(stackDir);
      process.stdout.write(
        retired.length === 0
          ? `nothing to retire: ${kept.kid} is the only key.\n`
          : `retired ${retired.map((k) => k.kid).join(', ')}; tokens they signed are refused from now on. ${kept.kid} signs.\n`,
      );
      return 0;
    }
    case 'keys': {
      const keys = readTokenKeys(stackDir);
      keys.forEach((key, i) => {
        const signing = i === keys.length - 1 ? '  (signs)' : '';
        process.stdout.write(`${key.kid}  ${key.alg}  ${key.createdAt ?? '-'}${signing}\n`);
      });
      return 0;
    }
    case 'sign': {
      const keys = readTokenKeys(stackDir);
      const token = await signToken(
        keys[keys.length - 1]!,
        {
          issuer: authEnv.AUTH_JWT_ISSUER.parse(process.env.AUTH_JWT_ISSUER),
          audience: authEnv.AUTH_JWT_AUDIENCE.parse(process.env.AUTH_JWT_AUDIENCE),
        },
        { subject: args.subject, roles: [args.role] },
        args.ttl,
      );
      process.stdout.write(`${token}\n`);
      return 0;
    }
  }
}

runCli('dispatch token', main, TokenUsageError, TOKEN_USAGE);
