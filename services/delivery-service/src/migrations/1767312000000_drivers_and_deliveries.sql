-- Up Migration

-- The driver pool. `status` is the duty status an admin sets; a driver is busy when
-- active_delivery_id is set. Assignable = AVAILABLE and not busy.
CREATE TABLE drivers (
  driver_id          text        PRIMARY KEY,
  name               text        NOT NULL,
  status             text        NOT NULL CHECK (status IN ('AVAILABLE', 'OFF_DUTY')),
  -- Set in the same transaction that assigns the delivery, cleared when it completes. Assignment
  -- locks the driver row FOR UPDATE SKIP LOCKED and re-checks this column on the latest row version.
  active_delivery_id uuid        UNIQUE,
  -- Longest-idle driver first, so work spreads over the pool.
  idle_since         timestamptz NOT NULL,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);

CREATE INDEX drivers_assignable_idx ON drivers (idle_since, driver_id)
  WHERE status = 'AVAILABLE' AND active_delivery_id IS NULL;

-- What this service learns from raw.order-events, per order.
CREATE TABLE orders (
  order_id        text        PRIMARY KEY,
  -- From order.created (payload.deliveryAddress); NULL until it has been seen.
  destination_lat double precision,
  destination_lng double precision,
  created_seen_at timestamptz,
  -- From order.cancelled.
  cancelled_at    timestamptz,
  updated_at      timestamptz NOT NULL
);

-- One delivery per order, created by its payment.authorized.
CREATE TABLE deliveries (
  delivery_id             uuid        PRIMARY KEY,
  order_id                text        NOT NULL UNIQUE REFERENCES orders (order_id),
  status                  text        NOT NULL CHECK (status IN
                            ('AWAITING_ORDER', 'PENDING', 'ASSIGNED', 'EN_ROUTE', 'COMPLETED', 'FAILED', 'CANCELLED')),
  correlation_id          text        NOT NULL,
  -- The payment.authorized that created it, and when that payment happened (stage latency).
  payment_event_id        uuid        NOT NULL,
  payment_authorized_at   timestamptz NOT NULL,
  -- The latest event of this order we consumed or produced: the causationId of events a timer or a
  -- request triggers (scheduled eta.updated, delivery.failed at the deadline, delivery.completed).
  last_event_id           uuid        NOT NULL,
  destination_lat         double precision,
  destination_lng         double precision,
  -- PENDING: give up at assign_deadline; the scheduler tries again at next_attempt_at.
  assign_deadline         timestamptz,
  next_attempt_at         timestamptz,
  driver_id               text        REFERENCES drivers (driver_id),
  -- The driver's name when assigned (events keep showing it even if the driver is renamed).
  driver_name             text,
  assigned_at             timestamptz,
  -- The last ETA published in an eta.updated; eta_checked_at is when the scheduler last recomputed it.
  estimated_delivery_time timestamptz,
  eta_checked_at          timestamptz,
  completed_at            timestamptz,
  failed_at               timestamptz,
  failure_reason          text,
  cancelled_at            timestamptz,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  CONSTRAINT deliveries_pending_has_schedule CHECK (
    status <> 'PENDING'
    OR (assign_deadline IS NOT NULL AND next_attempt_at IS NOT NULL AND destination_lat IS NOT NULL)),
  CONSTRAINT deliveries_assigned_has_driver CHECK (
    status NOT IN ('ASSIGNED', 'EN_ROUTE', 'COMPLETED')
    OR (driver_id IS NOT NULL AND assigned_at IS NOT NULL AND estimated_delivery_time IS NOT NULL
        AND eta_checked_at IS NOT NULL))
);

-- The durable guard: a driver is on at most one active delivery, whatever the application does.
CREATE UNIQUE INDEX deliveries_one_active_per_driver ON deliveries (driver_id)
  WHERE status IN ('ASSIGNED', 'EN_ROUTE');

-- The scheduler's two scans.
CREATE INDEX deliveries_pending_due_idx ON deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX deliveries_active_eta_idx ON deliveries (eta_checked_at) WHERE status IN ('ASSIGNED', 'EN_ROUTE');
-- The gauges count open deliveries without reading the finished ones.
CREATE INDEX deliveries_open_idx ON deliveries (status)
  WHERE status IN ('AWAITING_ORDER', 'PENDING', 'ASSIGNED', 'EN_ROUTE');

ALTER TABLE drivers
  ADD CONSTRAINT drivers_active_delivery_fk FOREIGN KEY (active_delivery_id) REFERENCES deliveries (delivery_id);

-- Down Migration

ALTER TABLE drivers DROP CONSTRAINT drivers_active_delivery_fk;
DROP TABLE deliveries;
DROP TABLE orders;
DROP TABLE drivers;
