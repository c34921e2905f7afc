import { authEnv, signToken } from '@dispatch/platform';
import { StackError } from '../stack/errors';
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof TokenUsageError) {
      process.stderr.write(`dispatch token: ${err.message}\n\n${TOKEN_USAGE}`);
      process.exit(2);
    }
    const message = err instanceof StackError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`dispatch token: ${message}\n`);
    process.exit(1);
  },
);
