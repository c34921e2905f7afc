import type { ClientBase, Pool } from 'pg';
import type { AttemptOutcome } from '../domain/backoff';

type Db = Pool | ClientBase;

/** A claimed delivery with what its attempt needs. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  orderId: string;
  /** Attempts made before this one. */
  attempts: number;
  createdAt: Date;
  body: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

interface ClaimRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  order_id: string;
  attempts: number;
  created_at: Date;
  body: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints, each the oldest pending one of its
 * (endpoint, order) queue, and leases them for `leaseMs` by moving their next attempt past it: a
 * worker that dies mid-attempt leaves the delivery to be tried again once the lease ends. Several
 * instances claim concurrently: rows another transaction is claiming are skipped (SKIP LOCKED), and
 * a delivery whose older sibling is leased is not due (the sibling is still pending).
 */
export async function claimDue(db: Db, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query<ClaimRow>(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
        WHERE d.state = 'pending' AND d.next_attempt_at <= now()
          AND NOT EXISTS (
            SELECT 1 FROM webhook_deliveries older
             WHERE older.endpoint_id = d.endpoint_id AND older.order_id = d.order_id
               AND older.state = 'pending' AND older.id < d.id)
        ORDER BY d.next_attempt_at, d.id
        LIMIT $1
        FOR UPDATE OF d SKIP LOCKED
     ), leased AS (
       UPDATE webhook_deliveries d SET next_attempt_at = now() + $2::float8 * interval '1 millisecond'
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.endpoint_id, d.event_id, d.order_id, d.attempts, d.created_at
     )
     SELECT l.id::text AS id, l.endpoint_id, l.event_id, l.order_id, l.attempts, l.created_at,
            ev.event_type, ev.body, e.url, e.secret, e.previous_secret, e.previous_secret_expires_at
       FROM leased l
       JOIN webhook_events ev ON ev.event_id = l.event_id
       JOIN webhook_endpoints e ON e.id = l.endpoint_id
      ORDER BY l.id`,
    [limit, leaseMs],
  );
  return rows.map((r) => ({
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    orderId: r.order_id,
    attempts: r.attempts,
    createdAt: r.created_at,
    body: r.body,
    url: r.url,
    secret: r.secret,
    previousSecret: r.previous_secret,
    previousSecretExpiresAt: r.previous_secret_expires_at,
  }));
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  outcome: AttemptOutcome;
  /** What went wrong, for the deliveries listing (never a secret or a header). */
  error: string | null;
}

export async function insertAttempt(tx: ClientBase, a: AttemptRecord): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, outcome, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [a.deliveryId, a.attempt, a.startedAt, a.durationMs, a.statusCode, a.outcome, a.error],
  );
}

/** Settles the delivery after an attempt: delivered, failed for good, or pending until `nextAttemptAt`. */
export async function settleDelivery(
  tx: ClientBase,
  a: AttemptRecord,
  next: { state: 'delivered' | 'failed' | 'pending'; nextAttemptAt?: Date },
): Promise<void> {
  await tx.query(
    `UPDATE webhook_deliveries SET
       attempts = $2, last_attempt_at = $3, last_status = $4, last_error = $5, state = $6,
       next_attempt_at = COALESCE($7, next_attempt_at),
       delivered_at = CASE WHEN $6 = 'delivered' THEN now() ELSE delivered_at END
     WHERE id = $1`,
    [a.deliveryId, a.attempt, a.startedAt, a.statusCode, a.error, next.state, next.nextAttemptAt ?? null],
  );
}

/** A success ends an endpoint's failure streak. */
export async function endpointSucceeded(tx: ClientBase, endpointId: string): Promise<void> {
  await tx.query(
    `UPDATE webhook_endpoints SET consecutive_failures = 0, failing_since = NULL
      WHERE id = $1 AND (consecutive_failures <> 0 OR failing_since IS NOT NULL)`,
    [endpointId],
  );
}

/** Counts a failed attempt against the endpoint; returns its streak (undefined: endpoint deleted). */
export async function endpointFailed(
  tx: ClientBase,
  endpointId: string,
): Promise<{ consecutiveFailures: number; failingSince: Date; enabled: boolean } | undefined> {
  const { rows } = await tx.query<{ consecutive_failures: number; failing_since: Date; enabled: boolean }>(
    `UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1,
            failing_since = COALESCE(failing_since, now())
      WHERE id = $1 RETURNING consecutive_failures, failing_since, enabled`,
    [endpointId],
  );
  const row = rows[0];
  return row
    ? { consecutiveFailures: row.consecutive_failures, failingSince: row.failing_since, enabled: row.enabled }
    : undefined;
}

/** Disables an enabled endpoint; true when this call did it (so the metric counts each once). */
export async function disableEndpoint(
  tx: ClientBase,
  endpointId: string,
  reason: 'gone' | 'failing',
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now()
      WHERE id = $1 AND enabled`,
    [endpointId, reason],
  );
  return (rowCount ?? 0) > 0;
}

export interface DeliveryView {
  deliveryId: string;
  eventId: string;
  eventType: string;
  orderId: string;
  state: 'pending' | 'delivered' | 'failed';
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  redeliveryOf: string | null;
  createdAt: Date;
  attempts: {
    attempt: number;
    startedAt: Date;
    durationMs: number;
    statusCode: number | null;
    outcome: string;
    error: string | null;
  }[];
}

interface DeliveryRow {
  id: string;
  event_id: string;
  event_type: string;
  order_id: string;
  state: DeliveryView['state'];
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  redelivery_of: string | null;
  created_at: Date;
  attempt_log: DeliveryView['attempts'] | null;
}

/** An endpoint's deliveries, newest first, each with its attempts; `beforeId` pages. */
export async function listDeliveries(
  db: Db,
  endpointId: string,
  opts: { limit: number; beforeId?: string; state?: DeliveryView['state'] },
): Promise<DeliveryView[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT d.id::text AS id, d.event_id, ev.event_type, d.order_id, d.state, d.attempts, d.next_attempt_at,
            d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, d.redelivery_of::text AS redelivery_of,
            d.created_at,
            (SELECT json_agg(json_build_object(
                      'attempt', a.attempt, 'startedAt', a.started_at, 'durationMs', a.duration_ms,
                      'statusCode', a.status_code, 'outcome', a.outcome, 'error', a.error) ORDER BY a.attempt)
               FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempt_log
       FROM webhook_deliveries d JOIN webhook_events ev ON ev.event_id = d.event_id
      WHERE d.endpoint_id = $1 AND ($2::bigint IS NULL OR d.id < $2::bigint) AND ($3::text IS NULL OR d.state = $3)
      ORDER BY d.id DESC LIMIT $4`,
    [endpointId, opts.beforeId ?? null, opts.state ?? null, opts.limit],
  );
  return rows.map((r) => ({
    deliveryId: r.id,
    eventId: r.event_id,
    eventType: r.event_type,
    orderId: r.order_id,
    state: r.state,
    attemptCount: r.attempts,
    nextAttemptAt: r.state === 'pending' ? r.next_attempt_at : null,
    lastAttemptAt: r.last_attempt_at,
    lastStatus: r.last_status,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    redeliveryOf: r.redelivery_of,
    createdAt: r.created_at,
    attempts: (r.attempt_log ?? []).map((a) => ({ ...a, startedAt: new Date(a.startedAt) })),
  }));
}

/**
 * Queues the event of one delivery again, as a new delivery (same event id, so a receiver that
 * already has it can drop it), behind whatever of the order is still pending. Undefined when the
 * delivery is not the endpoint's.
 */
export async function redeliver(db: Db, endpointId: string, deliveryId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO webhook_deliveries (endpoint_id, event_id, order_id, redelivery_of)
     SELECT endpoint_id, event_id, order_id, id FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2
     RETURNING id::text AS id`,
    [deliveryId, endpointId],
  );
  return rows[0]?.id;
}
