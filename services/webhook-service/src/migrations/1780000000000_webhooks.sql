-- Up Migration

-- Registered endpoints. The secret signs every request, so it is stored as is (it cannot be a hash);
-- it is shown once, when created or rotated, and never listed or logged. During a rotation's overlap
-- the previous secret signs too, until previous_secret_expires_at.
CREATE TABLE webhook_endpoints (
  id                         uuid PRIMARY KEY,
  url                        text        NOT NULL,
  description                text,
  event_types                text[]      NOT NULL,
  customer_id                text,
  enabled                    boolean     NOT NULL DEFAULT true,
  disabled_reason            text,
  disabled_at                timestamptz,
  secret                     text        NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  consecutive_failures       integer     NOT NULL DEFAULT 0,
  failing_since              timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_endpoints_event_types_not_empty CHECK (cardinality(event_types) > 0),
  CONSTRAINT webhook_endpoints_disabled_reason_known
    CHECK (disabled_reason IS NULL OR disabled_reason IN ('gone', 'failing', 'admin')),
  CONSTRAINT webhook_endpoints_disabled_has_reason CHECK (enabled = (disabled_reason IS NULL))
);

-- Orders whose order.created was seen: their owner, for endpoints filtered by customer.
CREATE TABLE webhook_orders (
  order_id    text PRIMARY KEY,
  customer_id text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every consumed order event, with the body receivers get. An event is released (fanned out to the
-- endpoints that select it) once the event that caused it is released, so no endpoint ever gets an
-- effect before its cause, whatever order the four topics were read in; one whose cause never
-- shows up is released after WEBHOOK_HOLD_MAX_MS. seq is the order events were received in.
CREATE TABLE webhook_events (
  seq          bigserial   UNIQUE,
  event_id     uuid        PRIMARY KEY,
  order_id     text        NOT NULL,
  event_type   text        NOT NULL,
  causation_id uuid,
  customer_id  text,
  occurred_at  timestamptz NOT NULL,
  body         text        NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  released_at  timestamptz
);
CREATE INDEX webhook_events_held ON webhook_events (order_id, causation_id) WHERE released_at IS NULL;
CREATE INDEX webhook_events_held_age ON webhook_events (received_at) WHERE released_at IS NULL;

-- One row per (endpoint, event) to send, and one per redelivery. state: pending (due at
-- next_attempt_at; a claimed one is leased by moving next_attempt_at past the request timeout),
-- delivered (2xx), failed (retries exhausted). An endpoint gets one order's deliveries one at a
-- time, in id order: a pending delivery waits while an older one of the same order is pending.
CREATE TABLE webhook_deliveries (
  id               bigserial   PRIMARY KEY,
  endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id         uuid        NOT NULL REFERENCES webhook_events (event_id),
  order_id         text        NOT NULL,
  state            text        NOT NULL DEFAULT 'pending',
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_attempt_at  timestamptz,
  last_status      integer,
  last_error       text,
  delivered_at     timestamptz,
  redelivery_of    bigint,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_deliveries_state_known CHECK (state IN ('pending', 'delivered', 'failed'))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order_queue ON webhook_deliveries (endpoint_id, order_id, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id DESC);

-- Every attempt: what GET /api/webhooks/{id}/deliveries shows.
CREATE TABLE webhook_attempts (
  id           bigserial   PRIMARY KEY,
  delivery_id  bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt      integer     NOT NULL,
  started_at   timestamptz NOT NULL,
  duration_ms  integer     NOT NULL,
  status_code  integer,
  outcome      text        NOT NULL,
  error        text,
  CONSTRAINT webhook_attempts_outcome_known CHECK (outcome IN ('delivered', 'gone', 'failed'))
);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, attempt);
