import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './prometheus-config';

export const METRICS_DOC = path.join(REPO_ROOT, 'docs', 'metrics.md');

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface CatalogueEntry {
  name: string;
  type: MetricType;
  labels: string;
  meaning: string;
  /** The `##`/`###` heading the row is under. */
  section: string;
  /** Documented ahead of the code ("Planned" in its meaning). */
  planned: boolean;
}

/** The rows of every `| name | type | labels | meaning |` table in docs/metrics.md. */
export function readCatalogue(text = readFileSync(METRICS_DOC, 'utf8')): CatalogueEntry[] {
  const entries: CatalogueEntry[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^#{2,3}\s+(.*)$/.exec(line);
    if (heading?.[1]) section = heading[1].trim();
    const row = /^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*(\w+)\s*\|([^|]*)\|(.*)\|\s*$/.exec(line);
    if (!row) continue;
    const [, name, type, labels, meaning] = row as unknown as [string, string, MetricType, string, string];
    entries.push({
      name,
      type,
      labels: labels.trim(),
      meaning: meaning.trim(),
      section,
      planned: /\*\*Planned/.test(meaning),
    });
  }
  return entries;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') && !full.endsWith('.test.ts') ? [full] : [];
  });
}

export interface DefinedMetric {
  name: string;
  type: MetricType;
  file: string;
}

/**
 * Metrics our own code registers with prom-client (`new Counter({ name: ... })` etc.) in
 * packages/platform/src and services/<name>/src; a name given as a constant is looked up in the file.
 */
export function definedMetrics(root = REPO_ROOT): DefinedMetric[] {
  const dirs = [path.join(root, 'packages', 'platform', 'src')];
  const servicesDir = path.join(root, 'services');
  for (const service of readdirSync(servicesDir)) {
    const src = path.join(servicesDir, service, 'src');
    try {
      if (statSync(src).isDirectory()) dirs.push(src);
    } catch {
      // a service folder without src/ yet
    }
  }
  const found: DefinedMetric[] = [];
  const construction =
    /new (Counter|Gauge|Histogram|Summary)(?:<[^>]*>)?\(\{\s*name:\s*(?:'([^']+)'|([A-Z][A-Z0-9_]*))/g;
  for (const file of dirs.flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(construction)) {
      const [, kind, literal, constant] = match;
      const name = literal ?? new RegExp(`const ${constant} = '([^']+)'`).exec(text)?.[1];
      if (!name) throw new Error(`${file}: cannot resolve metric name ${constant}`);
      found.push({ name, type: kind!.toLowerCase() as MetricType, file: path.relative(root, file) });
    }
  }
  return found;
}
