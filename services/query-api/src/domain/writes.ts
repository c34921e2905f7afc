import type { AnyEvent } from '@dispatch/contracts';
import { earliestWins, latestWins } from './write-time';

/** The non-key columns of the `orders` table (src/migrations/read-model/001_orders.cql). */
export const ORDER_COLUMNS = [
  'first_event_at',
  'last_event_at',
  'order_event_id',
  'order_created_at',
  'order_customer_id',
  'order_total_amount',
  'order_currency',
  'order_items',
  'order_delivery_address',
  'inventory_reserved_event_id',
  'inventory_reserved_at',
  'inventory_reserved_amount',
  'inventory_reserved_currency',
  'inventory_reserved_lines',
  'inventory_rejected_event_id',
  'inventory_rejected_at',
  'inventory_rejected_amount',
  'inventory_rejected_currency',
  'inventory_rejected_reasons',
  'payment_authorized_event_id',
  'payment_authorized_at',
  'payment_authorized_payment_id',
  'payment_authorized_amount',
  'payment_authorized_currency',
  'payment_failed_event_id',
  'payment_failed_at',
  'payment_failed_payment_id',
  'payment_failed_amount',
  'payment_failed_currency',
  'payment_failed_reason',
  'delivery_assigned_at',
  'delivery_eta_event_id',
  'delivery_eta_at',
  'delivery_eta_estimated_time',
  'delivery_eta_delivery_id',
  'delivery_eta_driver_name',
  'delivery_eta_driver_id',
  'delivery_failed_event_id',
  'delivery_failed_at',
  'delivery_failed_reason',
  'delivery_failed_delivery_id',
  'delivery_failed_driver_name',
  'delivery_failed_driver_id',
  'delivery_completed_event_id',
  'delivery_completed_at',
  'delivery_completed_delivery_id',
  'delivery_completed_driver_name',
  'delivery_completed_driver_id',
  'cancellation_event_id',
  'cancellation_at',
  'cancellation_reason',
  'cancellation_by',
  'compensation_released_event_id',
  'compensation_released_at',
  'compensation_released_reason',
  'compensation_refunded_event_id',
  'compensation_refunded_at',
  'compensation_refund_id',
  'compensation_refund_reason',
] as const;

export type OrderColumn = (typeof ORDER_COLUMNS)[number];

/** text → string, timestamp → Date; null = no value (never written, or cleared by the winning event). */
export type ColumnValue = string | Date | null;

/** One `orders` row as read back. */
export type OrderRow = Record<OrderColumn, ColumnValue>;

/**
 * One upsert: `INSERT INTO <table> (<columns>) VALUES (…) USING TIMESTAMP <timestamp>`.
 * `values` holds the key columns too. A null value is written on purpose: it clears the column
 * with this write's timestamp, so a winning event's absent optional field hides a loser's value.
 */
export type ReadModelWrite =
  | {
      table: 'orders';
      values: { order_id: string } & Partial<Record<OrderColumn, ColumnValue>>;
      timestamp: bigint;
    }
  | {
      table: 'order_timeline';
      values: {
        order_id: string;
        occurred_at: Date;
        event_id: string;
        event_type: string;
        producer: string;
        causation_id: string | null;
      };
      timestamp: bigint;
    }
  | {
      table: 'orders_by_customer';
      values: { customer_id: string; created_at: Date; order_id: string };
      timestamp: bigint;
    };

type WinRule = 'earliest' | 'latest';

/** An `orders` column group write that wins by (at, eventId) under `rule`. */
export function orderColumns(
  event: AnyEvent,
  rule: WinRule,
  values: Partial<Record<OrderColumn, ColumnValue>>,
  at: string = event.occurredAt,
): ReadModelWrite {
  const timestamp = rule === 'earliest' ? earliestWins(at, event.eventId) : latestWins(at, event.eventId);
  return { table: 'orders', values: { order_id: event.orderId, ...values }, timestamp };
}

/** What every event writes: the first/last occurredAt seen, and its timeline entry. */
export function everyEventWrites(event: AnyEvent): ReadModelWrite[] {
  const at = new Date(event.occurredAt);
  return [
    orderColumns(event, 'earliest', { first_event_at: at }),
    orderColumns(event, 'latest', { last_event_at: at }),
    {
      table: 'order_timeline',
      values: {
        order_id: event.orderId,
        occurred_at: at,
        event_id: event.eventId,
        event_type: event.eventType,
        producer: event.producer,
        causation_id: event.causationId ?? null,
      },
      timestamp: latestWins(at, event.eventId),
    },
  ];
}

/** JSON text for list and object columns (one cell, replaced whole). */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** An optional payload field as a column value: absent → null (cleared). */
export function optional(value: string | undefined): string | null {
  return value ?? null;
}
