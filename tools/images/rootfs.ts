import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/**
 * The base image's root filesystem: Debian's minbase (debootstrap) made smaller, plus the user the
 * Dockerfile runs as. The official node image has the same user (`node`, 1000:1000, home
 * /home/node), so the Dockerfile's `USER 1000:1000` means the same on both bases.
 */
export const NODE_UID = 1000;

/** Lines for /etc/passwd, /etc/group and /etc/shadow (a locked password). */
export const ACCOUNT_LINES = {
  passwd: `node:x:${NODE_UID}:${NODE_UID}::/home/node:/bin/sh`,
  group: `node:x:${NODE_UID}:`,
  shadow: 'node:!:20000:0:99999:7:::',
} as const;

/**
 * `text` (an /etc/passwd-like file) with `line` appended, unless an entry with its name or its
 * numeric id (the third field, unless `hasId` is false: shadow's is a date) is there already. Pure.
 */
export function withAccount(text: string, line: string, hasId = true): string {
  const [name, , field] = line.split(':');
  const id = hasId ? field : undefined;
  const taken = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .some((l) => {
      const fields = l.split(':');
      return fields[0] === name || (id !== undefined && /^\d+$/.test(id) && fields[2] === id);
    });
  if (taken) return text;
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`;
}

/**
 * What the image does not need, relative to the root: apt's downloaded packages and lists (an image
 * that installs packages runs `apt-get update` first, as on the official images), man pages, info,
 * translations, logs. Documentation goes too, except each package's copyright file.
 */
export const PRUNED = [
  'var/cache/apt',
  'var/lib/apt/lists',
  'var/cache/debconf/templates.dat-old',
  'var/log',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'usr/share/linda',
] as const;

/** Every file under usr/share/doc/<package>/ that is not the package's copyright file. */
function pruneDocs(root: string): void {
  const docs = path.join(root, 'usr/share/doc');
  if (!existsSync(docs)) return;
  for (const pkg of readdirSync(docs)) {
    const dir = path.join(docs, pkg);
    for (const entry of readdirSync(dir)) {
      if (entry !== 'copyright') rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}

/** Removes PRUNED (keeping the empty folders apt and dpkg expect) and the docs. */
export function pruneRootfs(root: string): void {
  for (const relative of PRUNED) {
    const target = path.join(root, relative);
    if (!existsSync(target)) continue;
    rmSync(target, { recursive: true, force: true });
    mkdirSync(target, { recursive: true });
  }
  mkdirSync(path.join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  mkdirSync(path.join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  pruneDocs(root);
}

/** The `node` user and group, with its home folder owned by it. */
export function addNodeUser(root: string): void {
  for (const [file, line] of Object.entries(ACCOUNT_LINES)) {
    const target = path.join(root, 'etc', file);
    const before = existsSync(target) ? readFileSync(target, 'utf8') : '';
    const after = withAccount(before, line, file !== 'shadow');
    if (after !== before) writeFileSync(target, after);
  }
  const home = path.join(root, 'home/node');
  mkdirSync(home, { recursive: true });
  chownSync(home, NODE_UID, NODE_UID);
  chmodSync(home, 0o755);
}
