import { parseSeedArgs, UsageError } from './seed-args';

describe('parseSeedArgs', () => {
  it('defaults to the demo catalogue without reset', () => {
    expect(parseSeedArgs([], '/repo')).toEqual({ reset: false, help: false });
  });

  it('reads --reset, --help and --file (both spellings), resolving the file against the caller', () => {
    expect(parseSeedArgs(['--', '--reset', '--file', 'cat.json'], '/home/me')).toEqual({
      reset: true,
      help: false,
      file: '/home/me/cat.json',
    });
    expect(parseSeedArgs(['--file=/abs/cat.json', '-h'], '/home/me')).toEqual({
      reset: false,
      help: true,
      file: '/abs/cat.json',
    });
  });

  it.each([
    [['--file'], '--file needs a path'],
    [['--file', 'a', '--file', 'b'], '--file given twice'],
    [['--force'], "unknown argument '--force'"],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSeedArgs(argv, '/')).toThrow(new UsageError(message));
  });
});
