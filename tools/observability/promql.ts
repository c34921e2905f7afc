/**
 * Just enough PromQL reading for the dashboard and alert checks: which metric names an expression
 * selects. Not a parser; it relies on PromQL's lexical rules (strings, label matchers, ranges and
 * grouping label lists can be removed without changing which names are selected).
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/** Grafana's built-in variables and the values the checks give them. */
export interface GrafanaVariableValues {
  rateInterval: string;
  interval: string;
  range: string;
}

/** Replaces $__rate_interval, $__interval, $__range (also in ${...} form) so Prometheus can run the query. */
export function expandGrafanaVariables(expr: string, values: GrafanaVariableValues): string {
  const byName: Record<string, string> = {
    __rate_interval: values.rateInterval,
    __interval: values.interval,
    __range: values.range,
  };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = braced ?? bare ?? '';
      const value = byName[name];
      if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in: ${expr}`);
      return value;
    },
  );
}

/** Metric names selected by a PromQL expression, sorted and without duplicates. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  const token = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-zA-Z]*|[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  for (let match = token.exec(stripped); match !== null; match = token.exec(stripped)) {
    const word = match[0];
    if (/^\d/.test(word) || KEYWORDS.has(word.toLowerCase())) continue;
    const after = stripped.slice(match.index + word.length);
    if (/^\s*\(/.test(after)) continue; // a function or aggregation call
    names.add(word);
  }
  return [...names].sort();
}

/** The metric family a series name belongs to (histogram series carry _bucket, _sum, _count). */
export function metricFamily(name: string, knownFamilies: ReadonlySet<string>): string {
  if (knownFamilies.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return knownFamilies.has(base) ? base : name;
}
