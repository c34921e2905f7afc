import { randomUUID } from 'node:crypto';
import type { ClientBase, Pool } from 'pg';

type Db = Pool | ClientBase;

export interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  customerId: string | null;
  enabled: boolean;
  disabledReason: 'gone' | 'failing' | 'admin' | null;
  disabledAt: Date | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  consecutiveFailures: number;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  customer_id: string | null;
  enabled: boolean;
  disabled_reason: Endpoint['disabledReason'];
  disabled_at: Date | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  consecutive_failures: number;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export function toEndpoint(row: EndpointRow): Endpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.event_types,
    customerId: row.customer_id,
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    disabledAt: row.disabled_at,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at,
    consecutiveFailures: row.consecutive_failures,
    failingSince: row.failing_since,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface NewEndpoint {
  url: string;
  description: string | null;
  eventTypes: string[];
  customerId: string | null;
  enabled: boolean;
  secret: string;
}

export async function insertEndpoint(db: Db, e: NewEndpoint): Promise<Endpoint> {
  const { rows } = await db.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (id, url, description, event_types, customer_id, enabled, disabled_reason, disabled_at, secret)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $6 THEN NULL ELSE 'admin' END, CASE WHEN $6 THEN NULL ELSE now() END, $7)
     RETURNING *`,
    [randomUUID(), e.url, e.description, e.eventTypes, e.customerId, e.enabled, e.secret],
  );
  return toEndpoint(rows[0]!);
}

export async function getEndpoint(db: Db, id: string): Promise<Endpoint | undefined> {
  const { rows } = await db.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = $1', [id]);
  return rows[0] ? toEndpoint(rows[0]) : undefined;
}

export async function listEndpoints(db: Db): Promise<Endpoint[]> {
  const { rows } = await db.query<EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY created_at, id');
  return rows.map(toEndpoint);
}

export async function listEnabledEndpoints(db: Db): Promise<Endpoint[]> {
  const { rows } = await db.query<EndpointRow>('SELECT * FROM webhook_endpoints WHERE enabled ORDER BY id');
  return rows.map(toEndpoint);
}

export interface EndpointChanges {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  customerId?: string | null;
  enabled?: boolean;
}

/**
 * Applies a PATCH. Enabling an endpoint clears its disabled reason and failure streak, so its
 * pending deliveries go out again; disabling one by hand records the reason `admin`.
 */
export async function updateEndpoint(db: Db, id: string, c: EndpointChanges): Promise<Endpoint | undefined> {
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints SET
       url = CASE WHEN $2 THEN $3 ELSE url END,
       description = CASE WHEN $4 THEN $5 ELSE description END,
       event_types = CASE WHEN $6 THEN $7::text[] ELSE event_types END,
       customer_id = CASE WHEN $8 THEN $9 ELSE customer_id END,
       enabled = COALESCE($10, enabled),
       disabled_reason = CASE WHEN $10 IS NULL OR $10 = enabled THEN disabled_reason
                              WHEN $10 THEN NULL ELSE 'admin' END,
       disabled_at = CASE WHEN $10 IS NULL OR $10 = enabled THEN disabled_at
                          WHEN $10 THEN NULL ELSE now() END,
       consecutive_failures = CASE WHEN $10 AND NOT enabled THEN 0 ELSE consecutive_failures END,
       failing_since = CASE WHEN $10 AND NOT enabled THEN NULL ELSE failing_since END,
       updated_at = now()
     WHERE id = $1
     RETURNING *`,
    [
      id,
      c.url !== undefined,
      c.url ?? null,
      c.description !== undefined,
      c.description ?? null,
      c.eventTypes !== undefined,
      c.eventTypes ?? null,
      c.customerId !== undefined,
      c.customerId ?? null,
      c.enabled ?? null,
    ],
  );
  return rows[0] ? toEndpoint(rows[0]) : undefined;
}

export async function deleteEndpoint(db: Db, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM webhook_endpoints WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/**
 * A new secret signs from now on; the current one becomes the previous one and keeps signing
 * until `overlapMs` from now (0: at once it stops).
 */
export async function rotateSecret(
  db: Db,
  id: string,
  secret: string,
  overlapMs: number,
): Promise<Endpoint | undefined> {
  const { rows } = await db.query<EndpointRow>(
    `UPDATE webhook_endpoints SET
       previous_secret = CASE WHEN $3::float8 > 0 THEN secret ELSE NULL END,
       previous_secret_expires_at = CASE WHEN $3::float8 > 0 THEN now() + $3::float8 * interval '1 millisecond' ELSE NULL END,
       secret = $2,
       updated_at = now()
     WHERE id = $1
     RETURNING *`,
    [id, secret, overlapMs],
  );
  return rows[0] ? toEndpoint(rows[0]) : undefined;
}

/** What the queue gauges show. */
export async function queueStats(
  db: Db,
): Promise<{ pending: number; oldestPendingAgeSeconds: number; disabledEndpoints: number }> {
  const { rows } = await db.query<{ pending: string; oldest: number | null; disabled: string }>(
    `SELECT
       (SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.state = 'pending' AND e.enabled) AS pending,
       (SELECT extract(epoch FROM now() - min(d.created_at))::float8 FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.state = 'pending' AND e.enabled) AS oldest,
       (SELECT count(*) FROM webhook_endpoints WHERE NOT enabled) AS disabled`,
  );
  const row = rows[0]!;
  return {
    pending: Number(row.pending),
    oldestPendingAgeSeconds: row.oldest ?? 0,
    disabledEndpoints: Number(row.disabled),
  };
}
