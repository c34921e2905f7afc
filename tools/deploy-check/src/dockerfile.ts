import { readFileSync } from 'node:fs';
import { DOCKERFILE } from './paths';

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, ARG, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** Index of the build stage (counted by FROM) the instruction belongs to; -1 before the first FROM. */
  stage: number;
}

/** Splits a Dockerfile into instructions: comments dropped, `\` continuations joined. Pure. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue; // comment lines inside a continuation
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const match = /^([A-Za-z]+)\s+([\s\S]*)$/.exec(full);
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === 'FROM') stage += 1;
    instructions.push({ keyword, args: match[2]!, stage });
  }
  return instructions;
}

export function readDockerfile(file: string = DOCKERFILE): Instruction[] {
  return parseDockerfile(readFileSync(file, 'utf8'));
}

/** `ARG NAME=default` values (the last declaration wins); undefined for an ARG without default. */
export function argDefaults(instructions: Instruction[]): Map<string, string | undefined> {
  const args = new Map<string, string | undefined>();
  for (const i of instructions.filter((x) => x.keyword === 'ARG')) {
    const [name, value] = i.args.split('=', 2) as [string, string | undefined];
    if (value !== undefined || !args.has(name)) args.set(name.trim(), value?.trim());
  }
  return args;
}

/** The JSON array of an exec-form instruction (`CMD ["node", ...]`); throws for the shell form. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['));
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

/** The last instruction with this keyword in the final stage (what the image runs with). */
export function finalInstruction(instructions: Instruction[], keyword: string): Instruction | undefined {
  const last = Math.max(...instructions.map((i) => i.stage));
  return instructions.filter((i) => i.stage === last && i.keyword === keyword).at(-1);
}

/** `COPY [--flag=…]… <source>… <destination>`: its sources and destination (the shell form). */
export function copyArgs(args: string): { flags: string[]; sources: string[]; destination: string } {
  const words = args.split(/\s+/).filter((w) => w !== '');
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  if (paths.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { flags, sources: paths.slice(0, -1), destination: paths.at(-1)! };
}
