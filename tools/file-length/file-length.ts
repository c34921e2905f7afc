/**
 * The file-length rule: no hand-written TypeScript file over MAX_LINES lines. A longer file mixes
 * concerns; split it along its seams (see docs/contributing.md). Generated files are exempt, each
 * named in GENERATED_FILES. Pure: the CLI (cli.ts) lists and reads the files.
 */

/** The most lines a hand-written .ts file may have. */
export const MAX_LINES = 400;

/**
 * Generated .ts files, by path from the repository root: exempt from the rule. None are committed
 * today (what the repository generates — dashboards/grafana/*.json, k8s/base/kafka/access.sh, the
 * PrometheusRule — is not TypeScript). A path listed here that no longer exists is an error, so the
 * list cannot outlive its files.
 */
export const GENERATED_FILES: readonly string[] = [];

/** The files the rule applies to: TypeScript sources, tests included. */
export function isTypeScript(file: string): boolean {
  return /\.(?:c|m)?tsx?$/.test(file);
}

/** Lines as an editor numbers them: a final newline ends the last line, it does not start another. */
export function countLines(text: string): number {
  if (text === '') return 0;
  const newlines = text.split('\n').length - 1;
  return text.endsWith('\n') ? newlines : newlines + 1;
}

export interface FileLength {
  path: string;
  lines: number;
}

export interface LengthReport {
  /** Hand-written files over the limit, longest first. */
  tooLong: FileLength[];
  /** Entries of the generated list that are not among the files. */
  staleGenerated: string[];
}

export function checkFileLengths(
  files: readonly FileLength[],
  generated: readonly string[] = GENERATED_FILES,
  maxLines: number = MAX_LINES,
): LengthReport {
  const exempt = new Set(generated);
  const present = new Set(files.map((f) => f.path));
  return {
    tooLong: files
      .filter((f) => isTypeScript(f.path) && !exempt.has(f.path) && f.lines > maxLines)
      .sort((a, b) => b.lines - a.lines || a.path.localeCompare(b.path)),
    staleGenerated: generated.filter((g) => !present.has(g)),
  };
}

/** What the check prints: nothing to say when it passes. */
export function describeReport(report: LengthReport, maxLines: number = MAX_LINES): string[] {
  const lines: string[] = [];
  if (report.tooLong.length > 0) {
    const s = report.tooLong.length === 1 ? '' : 's';
    lines.push(
      `${report.tooLong.length} hand-written TypeScript file${s} over ${maxLines} lines (split along the seams; a generated file goes into GENERATED_FILES in tools/file-length/file-length.ts):`,
      ...report.tooLong.map((f) => `  ${f.path}: ${f.lines} lines`),
    );
  }
  if (report.staleGenerated.length > 0) {
    lines.push(
      'GENERATED_FILES in tools/file-length/file-length.ts names files that do not exist:',
      ...report.staleGenerated.map((g) => `  ${g}`),
    );
  }
  return lines;
}
