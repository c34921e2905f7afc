-- Up Migration

-- What payment knows about each order, merged from order.created, inventory.reserved, order.cancelled
-- and delivery.failed in whatever order they arrive. Every merge keeps the first value it saw, so
-- redeliveries change nothing. The row is also the per-order lock in Postgres (SELECT ... FOR UPDATE)
-- that serialises the decisions of concurrent handlers for one order.
CREATE TABLE payment_orders (
  order_id        text PRIMARY KEY,
  customer_id     text,
  -- order.created has been handled (so its payment method is known, possibly without a token).
  order_seen      boolean     NOT NULL DEFAULT false,
  -- The PSP token from order.created; cleared once the payment is decided (kept no longer than needed).
  card_token      text,
  -- From inventory.reserved: the charge asked for (a "pending charge" until order.created is seen).
  charge_event_id uuid,
  charge_requested_at timestamptz,  -- its occurredAt
  correlation_id  text,
  amount          numeric(14, 2),
  currency        text,
  -- The first of order.cancelled / delivery.failed: never charge after it, refund if charged.
  close_reason    text CHECK (close_reason IN ('ORDER_CANCELLED', 'DELIVERY_FAILED')),
  close_event_id  uuid,
  -- inventory.rejected: nothing will be charged, so no token is kept (even if order.created comes later).
  inventory_rejected boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per order, ever: the unique order_id is the durable dedup guard (layer 3). The row is
-- inserted as PENDING and committed BEFORE the gateway is called, so a second worker always finds it.
CREATE TABLE payments (
  payment_id        uuid        PRIMARY KEY,
  order_id          text        NOT NULL,
  customer_id       text        NOT NULL,
  amount            numeric(14, 2) NOT NULL CHECK (amount >= 0),
  currency          text        NOT NULL,
  status            text        NOT NULL CHECK (status IN ('PENDING', 'AUTHORIZED', 'FAILED')),
  failure_reason    text,
  gateway_reference text,
  -- Sent with every gateway call for this charge: a repeated call never charges twice.
  idempotency_key   text        NOT NULL,
  -- The inventory.reserved this payment answers (causationId of payment.authorized/failed).
  charge_event_id   uuid        NOT NULL,
  -- Its occurredAt: saga_stage_latency_seconds runs from here to the decision's commit.
  requested_at      timestamptz NOT NULL,
  correlation_id    text        NOT NULL,
  -- Who is driving the gateway call right now, and until when; an expired lease may be taken over.
  lease_owner       text,
  lease_until       timestamptz,
  refund_status     text CHECK (refund_status IN ('PENDING', 'REFUNDED')),
  refund_id         uuid,
  refund_reason     text CHECK (refund_reason IN ('ORDER_CANCELLED', 'DELIVERY_FAILED')),
  -- The order.cancelled / delivery.failed that caused the refund (causationId of payment.refunded).
  refund_event_id   uuid,
  refund_reference  text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  decided_at        timestamptz,
  refunded_at       timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT payments_order_id_key UNIQUE (order_id),
  CONSTRAINT payments_authorized_has_reference CHECK (status <> 'AUTHORIZED' OR gateway_reference IS NOT NULL),
  CONSTRAINT payments_failed_has_reason CHECK (status <> 'FAILED' OR failure_reason IS NOT NULL),
  CONSTRAINT payments_refund_only_when_authorized CHECK (refund_status IS NULL OR status = 'AUTHORIZED')
);

-- The sweeper looks for charges and refunds whose worker vanished (lease expired).
CREATE INDEX payments_unfinished ON payments (lease_until)
  WHERE status = 'PENDING' OR refund_status = 'PENDING';

-- Down Migration

DROP TABLE payments;
DROP TABLE payment_orders;
