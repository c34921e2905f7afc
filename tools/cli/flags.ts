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
