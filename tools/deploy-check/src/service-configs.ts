import * as deliveryConfig from '../../../services/delivery-service/src/config';
import * as inventoryConfig from '../../../services/inventory-service/src/config';
import * as orderConfig from '../../../services/order-service/src/config';
import * as paymentConfig from '../../../services/payment-service/src/config';
import * as queryConfig from '../../../services/query-api/src/config';
import * as webhookConfig from '../../../services/webhook-service/src/config';
import { APP_SERVICES } from '../../stack/services';

/** What the checks need of a service's zod environment schema (a z.object, maybe refined). */
export interface EnvSchema {
  shape: Record<string, { safeParse(value: unknown): { success: boolean; data?: unknown } }>;
  safeParse(env: Record<string, string>): {
    success: boolean;
    error?: { issues: { path: PropertyKey[]; message: string }[] };
  };
}

export interface ServiceConfig {
  name: string;
  /** The port the service listens on by default (docs/design.md §1, tools/stack/services.ts). */
  port: number;
  schema: EnvSchema;
}

/** Each service's config module and the export its src/main.ts passes to loadConfig. */
export const CONFIG_EXPORTS: Record<string, { module: Record<string, unknown>; exportName: string }> = {
  'query-api': { module: queryConfig, exportName: 'queryApiConfigSchema' },
  'order-service': { module: orderConfig, exportName: 'orderConfigSchema' },
  'payment-service': { module: paymentConfig, exportName: 'paymentConfigSchema' },
  'inventory-service': { module: inventoryConfig, exportName: 'inventoryConfigSchema' },
  'delivery-service': { module: deliveryConfig, exportName: 'deliveryConfigSchema' },
  'webhook-service': { module: webhookConfig, exportName: 'webhookConfigSchema' },
};

function isEnvSchema(value: unknown): value is EnvSchema {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<EnvSchema>;
  return (
    typeof candidate.safeParse === 'function' &&
    typeof candidate.shape === 'object' &&
    candidate.shape !== null
  );
}

/** The five services, in the launcher's order, with their config schemas. */
export const SERVICE_CONFIGS: ServiceConfig[] = APP_SERVICES.map((service) => {
  const wired = CONFIG_EXPORTS[service.name];
  const schema = wired?.module[wired.exportName];
  if (!wired || !isEnvSchema(schema)) {
    throw new Error(
      `services/${service.name}/src/config.ts has no zod object export "${wired?.exportName}": ` +
        'update CONFIG_EXPORTS in tools/deploy-check/src/service-configs.ts',
    );
  }
  return { name: service.name, port: service.port, schema };
});

/** Variables the service reads (the schema's keys). */
export function envKeys(schema: EnvSchema): string[] {
  return Object.keys(schema.shape).sort();
}

/** Variables that have no default and are not optional: a deployment must set them. */
export function requiredEnvKeys(schema: EnvSchema): string[] {
  return envKeys(schema).filter((key) => !schema.shape[key]!.safeParse(undefined).success);
}

/** Problems a deployment's environment would cause at start, as the service's loadConfig reports them. */
export function configProblems(schema: EnvSchema, env: Record<string, string>): string[] {
  const unknown = Object.keys(env)
    .filter((key) => !(key in schema.shape))
    .map((key) => `${key}: not read by the service (not in its config schema)`);
  const missing = requiredEnvKeys(schema)
    .filter((key) => env[key] === undefined)
    .map((key) => `${key}: required (no default) but not set`);
  const result = schema.safeParse(env);
  const invalid = result.success
    ? []
    : (result.error?.issues ?? []).map(
        (issue) => `${issue.path.map(String).join('.') || '(env)'}: ${issue.message}`,
      );
  return [...unknown, ...missing, ...invalid];
}
