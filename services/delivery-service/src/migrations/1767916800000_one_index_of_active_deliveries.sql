-- Up Migration

-- Active deliveries had two partial indexes with the same predicate: deliveries_one_active_per_driver
-- (the one-active-delivery-per-driver guard) and this one, for the ETA refresh's stalest-first scan.
-- Both read as empty to a planner whose statistics were taken while no delivery was under way, and
-- then it picks either one for any statement about active deliveries, reading all of them where a
-- key would do. The simulator and the ETA refresh now walk active deliveries in driver order
-- (keyset) through the guard's index, so one index serves every such statement; and an ETA
-- refresh, which writes only eta_checked_at, becomes an in-place (HOT) update.
DROP INDEX deliveries_active_eta_idx;

-- Down Migration

CREATE INDEX deliveries_active_eta_idx ON deliveries (eta_checked_at) WHERE status IN ('ASSIGNED', 'EN_ROUTE');
