import { authEnv, signToken } from '@dispatch/platform';
import { runCli } from '../cli/flags';
import { stackPaths } from '../stack/paths';
import { readJwtSecret } from '../stack/secrets';
import { parseTokenArgs, TOKEN_USAGE, TokenUsageError } from './args';

/**
 * `./dispatch token`: prints a token the local services accept, signed with the secret
 * `up` generated. Issuer and audience are the services' own defaults (authEnv), or
 * AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE when set, as the services read them.
 */
async function main(argv: string[]): Promise<number> {
  const args = parseTokenArgs(argv);
  if (args === undefined) {
    process.stdout.write(TOKEN_USAGE);
    return 0;
  }
  const claims = {
    AUTH_JWT_ISSUER: authEnv.AUTH_JWT_ISSUER.parse(process.env.AUTH_JWT_ISSUER),
    AUTH_JWT_AUDIENCE: authEnv.AUTH_JWT_AUDIENCE.parse(process.env.AUTH_JWT_AUDIENCE),
  };
  const secret = readJwtSecret(stackPaths().stackDir);
  const token = await signToken(
    { ...claims, AUTH_JWT_SECRET: secret },
    { subject: args.subject, roles: [args.role] },
    args.ttl,
  );
  process.stdout.write(`${token}\n`);
  return 0;
}

runCli('dispatch token', main, TokenUsageError, TOKEN_USAGE);
