-- Up Migration

-- A position report (a driver's app, or the simulated fleet every tick) is the most frequent write of
-- this service. It changed position_at and eta_checked_at, both indexed, so PostgreSQL could never
-- update the row in place (a HOT update): every report inserted a new entry into all seven indexes of
-- deliveries and left the old ones for VACUUM. Reports now change no indexed column: the simulator's
-- index on position_at goes (its scan, the active deliveries least recently moved first, reads them
-- through deliveries_open_idx; there are at most as many as drivers), and a report no longer writes
-- eta_checked_at (the scheduler's ETA refresh only ever looks at deliveries without a position).
-- Free space in each page lets the new row version stay on its page.
DROP INDEX deliveries_active_position_idx;
ALTER TABLE deliveries SET (fillfactor = 80);

-- Down Migration

ALTER TABLE deliveries RESET (fillfactor);
CREATE INDEX deliveries_active_position_idx ON deliveries (position_at NULLS FIRST, delivery_id)
  WHERE status IN ('ASSIGNED', 'EN_ROUTE');
