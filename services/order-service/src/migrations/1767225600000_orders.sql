-- Up Migration

-- One row per accepted order. `facts` is the contract's fold (OrderFacts) of order.created and every
-- consumed inventory/payment/delivery event; `status` is deriveStatus(facts), kept as a column so the
-- cancel rule can read it under the row lock. The card token is deliberately not stored here.
CREATE TABLE orders (
  order_id            uuid        PRIMARY KEY,
  customer_id         text        NOT NULL,
  currency            char(3)     NOT NULL,
  -- Σ unitPrice × quantity at the client's prices: provisional, inventory's catalogue price decides.
  total_amount        numeric(14, 2) NOT NULL CHECK (total_amount >= 0),
  status              text        NOT NULL,
  delivery_address    jsonb       NOT NULL,
  payment_method_type text        NOT NULL,
  facts               jsonb       NOT NULL,
  created_event_id    uuid        NOT NULL UNIQUE,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  cancelled_at        timestamptz,
  cancelled_by        text,
  cancel_reason       text,
  cancel_event_id     uuid UNIQUE,
  CHECK ((cancelled_at IS NULL) = (cancel_event_id IS NULL))
);

CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at DESC);

CREATE TABLE order_lines (
  order_id   uuid    NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
  line_no    integer NOT NULL CHECK (line_no >= 1),
  item_id    text    NOT NULL,
  quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
  unit_price numeric(14, 2) NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, line_no),
  UNIQUE (order_id, item_id)
);

-- Idempotency-Key records (Stripe semantics), scoped to the caller (the token's subject).
-- A request claims its key in a short transaction of its own (state in_flight, claim_token, a lease
-- until locked_until); the order transaction completes it with the response, conditioned on still
-- holding the claim, so the order, its outbox row and the stored response commit together.
CREATE TABLE idempotency_keys (
  scope             text        NOT NULL,
  idempotency_key   text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  request_hash      char(64)    NOT NULL,
  state             text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
  claim_token       uuid        NOT NULL,
  locked_until      timestamptz NOT NULL,
  order_id          uuid        REFERENCES orders (order_id),
  response_status   integer,
  response_body     text,
  response_location text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  completed_at      timestamptz,
  PRIMARY KEY (scope, idempotency_key),
  CHECK (state = 'in_flight' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
);

-- The retention sweep deletes completed keys by age.
CREATE INDEX idempotency_keys_completed_at_idx ON idempotency_keys (completed_at) WHERE state = 'completed';

-- Down Migration

DROP TABLE idempotency_keys;
DROP TABLE order_lines;
DROP TABLE orders;
