-- Up Migration

-- Held events had two partial indexes with the same predicate (released_at IS NULL): webhook_events_held
-- (order_id, causation_id), which the release walks, and this one, for the stale sweep's age filter.
-- To a planner whose statistics were taken while nothing was held, both look empty, and it scanned
-- this one whole (every held event, and every entry a release left dead until VACUUM) several times
-- per batch, where webhook_events_held finds the batch's orders by key. The sweep, every few
-- seconds, now reads webhook_events_held instead: held events are few.
DROP INDEX webhook_events_held_age;

-- Down Migration

CREATE INDEX webhook_events_held_age ON webhook_events (received_at) WHERE released_at IS NULL;
