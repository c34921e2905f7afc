/**
 * The subset of .dockerignore semantics our file uses (Docker's rules: patterns are matched
 * against paths relative to the context with Go's filepath.Match plus `**`; a leading `!`
 * re-includes; the last matching pattern wins; a pattern matching a folder excludes its contents).
 */
export interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

function toRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of folders (also none); a trailing `**` anything.
      if (pattern[i + 2] === '/') {
        source += '(?:.*/)?';
        i += 2;
      } else {
        source += '.*';
        i += 1;
      }
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A folder pattern also covers everything below it.
  return new RegExp(`^${source}(?:/.*)?$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = (negate ? line.slice(1) : line).replace(/^\/+/, '').replace(/\/+$/, '');
      return { negate, regex: toRegex(pattern) };
    });
}

/** True when the path (relative to the context, `/`-separated) is left out of the build context. */
export function isIgnored(rules: IgnoreRule[], relativePath: string): boolean {
  let ignored = false;
  for (const rule of rules) if (rule.regex.test(relativePath)) ignored = !rule.negate;
  return ignored;
}
