-- Up Migration

-- The driver's last reported position on an active delivery (POST /api/drivers/{id}/position, or the
-- simulated fleet through the same use-case). NULL until the first report: the delivery's ETA then
-- comes from the depot plan (the scheduler's refresh); once a position is known it comes from the
-- position, and the scheduler's refresh leaves the delivery alone.
ALTER TABLE deliveries
  ADD COLUMN driver_lat  double precision,
  ADD COLUMN driver_lng  double precision,
  ADD COLUMN position_at timestamptz,
  ADD CONSTRAINT deliveries_position_complete CHECK (
    (driver_lat IS NULL) = (driver_lng IS NULL) AND (driver_lat IS NULL) = (position_at IS NULL));

-- The simulator's scan: active deliveries, least recently moved first.
CREATE INDEX deliveries_active_position_idx ON deliveries (position_at NULLS FIRST, delivery_id)
  WHERE status IN ('ASSIGNED', 'EN_ROUTE');

-- Down Migration

DROP INDEX deliveries_active_position_idx;
ALTER TABLE deliveries
  DROP CONSTRAINT deliveries_position_complete,
  DROP COLUMN position_at,
  DROP COLUMN driver_lng,
  DROP COLUMN driver_lat;
