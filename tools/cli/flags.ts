/**
 * The `--name value` / `--name=value` reading shared by the small CLIs (token, bench): every flag at
 * most once, each with a value. Returns undefined for -h/--help. Errors are `makeError(message)`, so
 * each CLI reports them as its own usage error.
 */
export function readFlags(
  argv: string[],
  names: readonly string[],
  makeError: (message: string) => Error,
): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return undefined;
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !names.includes(match[1]!)) throw makeError(`unknown argument "${arg}"`);
    const name = match[1]!;
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      i += 1;
      if (value === undefined || value.startsWith('--')) throw makeError(`--${name} needs a value`);
    }
    if (values[name] !== undefined) throw makeError(`--${name} given twice`);
    values[name] = value;
  }
  return values;
}

/** A whole number flag within [min, max], or `makeError` naming the flag, the range and what was given. */
export function wholeNumberFlag(
  name: string,
  text: string,
  range: { min: number; max: number },
  makeError: (message: string) => Error,
): number {
  if (!/^\d+$/.test(text) || Number(text) < range.min || Number(text) > range.max) {
    throw makeError(`--${name} must be a whole number from ${range.min} to ${range.max}, got "${text}"`);
  }
  return Number(text);
}

/**
 * Runs a CLI's `main` and exits with its code: a usage error (an instance of `UsageError`) prints
 * the message and the usage and exits 2; any other error prints its message and exits 1.
 */
export function runCli(
  command: string,
  main: (argv: string[]) => Promise<number>,
  UsageError: new (message: string) => Error,
  usage: string,
): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${command}: ${err.message}\n\n${usage}`);
        process.exit(2);
      }
      process.stderr.write(`${command}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
