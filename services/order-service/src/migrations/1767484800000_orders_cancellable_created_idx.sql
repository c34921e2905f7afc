-- Up Migration

-- The saga deadline sweeper looks for orders still in a cancellable status past their deadline, oldest
-- first, every SAGA_SWEEP_INTERVAL_MS. Only orders whose saga is in flight are in this index, so it stays
-- small however many finished orders the table holds. The status list is the domain's
-- CANCELLABLE_STATUSES (src/domain/cancellation.ts); change both together.
CREATE INDEX orders_cancellable_created_idx ON orders (created_at)
  WHERE status IN ('CREATED', 'INVENTORY_RESERVED', 'PAYMENT_AUTHORIZED') AND cancelled_at IS NULL;

-- Down Migration

DROP INDEX orders_cancellable_created_idx;
