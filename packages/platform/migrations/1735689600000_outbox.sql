-- Up Migration

-- Transactional outbox: a service writes its outgoing events here in the same transaction as the
-- state change; the outbox relay publishes them to Kafka in id order and sets sent_at.
CREATE TABLE outbox (
  id          bigserial   PRIMARY KEY,
  topic       text        NOT NULL,
  message_key text        NOT NULL,
  event_id    uuid        NOT NULL UNIQUE,
  event_type  text        NOT NULL,
  payload     jsonb       NOT NULL,
  headers     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);

-- The relay's batch query (WHERE sent_at IS NULL ORDER BY id) and the backlog gauge read only this.
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- Retention cleanup deletes sent rows by age.
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Down Migration

DROP TABLE outbox;
