-- Up Migration

-- When the first order.cancelled / delivery.failed for the order happened (its occurredAt), so the
-- refund it causes can be timed: saga_stage_latency_seconds{stage="payment.refunded"}. NULL for
-- rows closed before this column existed; they are simply not timed.
ALTER TABLE payment_orders ADD COLUMN close_requested_at timestamptz;

-- Down Migration

ALTER TABLE payment_orders DROP COLUMN close_requested_at;
