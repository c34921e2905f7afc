-- Up Migration

-- Inbox: every consumed event is recorded in the same transaction as its effect, so a redelivered
-- event finds its row and is skipped.
CREATE TABLE inbox (
  consumer    text        NOT NULL,
  event_id    uuid        NOT NULL,
  event_type  text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Down Migration

DROP TABLE inbox;
