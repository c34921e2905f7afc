import path from 'node:path';

/**
 * Where the local stack runs each Dispatch service (docs/design.md §1; the launcher's table is
 * tools/stack/services.ts, checked against this one by its unit test). Tests read a service's
 * base URL from <NAME>_URL (e.g. ORDER_SERVICE_URL), so they also run against a remote stack.
 */
export const SERVICE_PORTS = {
  'query-api': 8080,
  'order-service': 8081,
  'payment-service': 8082,
  'inventory-service': 8083,
  'delivery-service': 8084,
  'webhook-service': 8085,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as ServiceName[];

/** The repository root (this file is packages/testkit/src/services.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** The launcher's state folder: pids, logs, secrets (`.stack/`). */
export function stackDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DISPATCH_STACK_DIR ?? path.join(REPO_ROOT, '.stack');
}

/** ORDER_SERVICE_URL for order-service. */
export function serviceUrlVariable(name: ServiceName): string {
  return `${name.replaceAll('-', '_').toUpperCase()}_URL`;
}

/** A service's base URL, without a trailing slash. */
export function serviceUrl(name: ServiceName, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[serviceUrlVariable(name)];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.replace(/\/+$/, '');
  return `http://127.0.0.1:${SERVICE_PORTS[name]}`;
}
