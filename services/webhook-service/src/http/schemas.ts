import { EVENT_TYPES, idSchema, plainText } from '@dispatch/contracts';
import { z } from 'zod';
import { MAX_URL_LENGTH } from '../domain/target-url';

const eventTypesSchema = z
  .array(z.enum(EVENT_TYPES))
  .min(1)
  .max(EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'each event type at most once')
  .describe('The order events this endpoint gets.');

const urlSchema = plainText()
  .min(1)
  .max(MAX_URL_LENGTH)
  .describe(
    'Where events are POSTed: https, a public host (checked against SSRF when registered and on every connection).',
  );

export const webhookParamsSchema = z.object({ webhookId: z.uuid() });
export const deliveryParamsSchema = z.object({
  webhookId: z.uuid(),
  deliveryId: z.string().regex(/^[1-9]\d{0,17}$/),
});

export const createWebhookSchema = z.strictObject({
  url: urlSchema,
  eventTypes: eventTypesSchema,
  customerId: idSchema
    .nullable()
    .optional()
    .describe('Only the orders of this customer (default: every order).'),
  description: plainText().max(500).nullable().optional(),
  enabled: z.boolean().optional().describe('Default true.'),
});

export const updateWebhookSchema = z
  .strictObject({
    url: urlSchema.optional(),
    eventTypes: eventTypesSchema.optional(),
    customerId: idSchema.nullable().optional(),
    description: plainText().max(500).nullable().optional(),
    enabled: z
      .boolean()
      .optional()
      .describe('true re-enables a disabled endpoint (its pending deliveries go out again).'),
  })
  .refine((b) => Object.keys(b).length > 0, 'at least one field to change');

export const rotateSecretSchema = z.strictObject({
  overlapSeconds: z
    .int()
    .min(0)
    .max(7 * 86_400)
    .optional()
    .describe(
      'How long the old secret keeps signing too (default WEBHOOK_ROTATION_OVERLAP_DEFAULT_MS, 24 h).',
    ),
});

export const deliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z
    .string()
    .regex(/^[1-9]\d{0,17}$/)
    .optional()
    .describe('A deliveryId: the page of older deliveries (nextBefore of the previous page).'),
  state: z.enum(['pending', 'delivered', 'failed']).optional(),
});

export const webhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.enum(EVENT_TYPES)),
  customerId: z.string().nullable(),
  enabled: z.boolean(),
  disabledReason: z.enum(['gone', 'failing', 'admin']).nullable(),
  disabledAt: z.string().nullable(),
  consecutiveFailures: z.int(),
  previousSecretExpiresAt: z
    .string()
    .nullable()
    .describe('While set and in the future, requests carry two v1 signatures.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const createdWebhookSchema = webhookSchema.extend({
  secret: z.string().describe('The signing secret. Shown only here: store it now.'),
});

export const rotatedSecretSchema = z.object({
  id: z.uuid(),
  secret: z.string().describe('The new signing secret, shown only here.'),
  previousSecretExpiresAt: z.string().nullable(),
});

export const webhookListSchema = z.object({ items: z.array(webhookSchema) });

export const deliverySchema = z.object({
  deliveryId: z.string(),
  eventId: z.uuid(),
  eventType: z.string(),
  orderId: z.string(),
  state: z.enum(['pending', 'delivered', 'failed']),
  attemptCount: z.int(),
  nextAttemptAt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastStatus: z.int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  redeliveryOf: z.string().nullable(),
  createdAt: z.string(),
  attempts: z.array(
    z.object({
      attempt: z.int(),
      startedAt: z.string(),
      durationMs: z.int(),
      statusCode: z.int().nullable(),
      outcome: z.enum(['delivered', 'gone', 'failed']),
      error: z.string().nullable(),
    }),
  ),
});

export const deliveryPageSchema = z.object({
  items: z.array(deliverySchema),
  nextBefore: z.string().nullable(),
});
