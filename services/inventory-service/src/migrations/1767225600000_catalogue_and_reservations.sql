-- Up Migration

-- The catalogue. `available` is the sellable count; `reserved` counts units held for orders in flight.
-- Reserving moves units from available to reserved, releasing moves them back, a completed delivery
-- takes them out of reserved for good. The CHECKs are the durable guard against overselling: whatever
-- a bug or a race did, a transaction that would leave a negative count cannot commit.
-- item_id sorts bytewise (COLLATE "C"), so lock order and page order are the same everywhere.
CREATE TABLE items (
  item_id    text COLLATE "C" PRIMARY KEY,
  name       text             NOT NULL,
  unit_price numeric(14, 2)   NOT NULL,
  currency   text             NOT NULL,
  available  integer          NOT NULL,
  reserved   integer          NOT NULL DEFAULT 0,
  created_at timestamptz      NOT NULL DEFAULT now(),
  updated_at timestamptz      NOT NULL DEFAULT now(),
  CONSTRAINT items_unit_price_not_negative CHECK (unit_price >= 0),
  CONSTRAINT items_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
  CONSTRAINT items_available_not_negative CHECK (available >= 0),
  CONSTRAINT items_reserved_not_negative CHECK (reserved >= 0)
);

-- One row per order this service has acted on: its reservation, its rejection, or a release that
-- arrived before the order itself (a tombstone: order_seen = false, status RELEASED).
CREATE TABLE reservations (
  order_id       text COLLATE "C" PRIMARY KEY,
  status         text             NOT NULL,
  order_seen     boolean          NOT NULL,
  customer_id    text,
  currency       text,
  release_reason text,
  created_at     timestamptz      NOT NULL DEFAULT now(),
  updated_at     timestamptz      NOT NULL DEFAULT now(),
  CONSTRAINT reservations_status_known CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED', 'SOLD')),
  CONSTRAINT reservations_order_known_when_seen
    CHECK (order_seen = (customer_id IS NOT NULL AND currency IS NOT NULL)),
  CONSTRAINT reservations_tombstone_is_released CHECK (order_seen OR status = 'RELEASED'),
  CONSTRAINT reservations_released_has_reason CHECK ((status = 'RELEASED') = (release_reason IS NOT NULL))
);

-- The lines an order holds (or held), at the catalogue price of the moment it was reserved.
CREATE TABLE reservation_lines (
  order_id   text COLLATE "C" NOT NULL REFERENCES reservations (order_id),
  item_id    text COLLATE "C" NOT NULL REFERENCES items (item_id),
  quantity   integer          NOT NULL,
  unit_price numeric(14, 2)   NOT NULL,
  PRIMARY KEY (order_id, item_id),
  CONSTRAINT reservation_lines_quantity_positive CHECK (quantity > 0)
);

-- Down Migration

DROP TABLE reservation_lines;
DROP TABLE reservations;
DROP TABLE items;
