import { type Logger, withTransaction } from '@dispatch/platform';
import type { Pool } from 'pg';
import { classifyStatus, nextRetry, type RetryPolicy, shouldDisable } from '../domain/backoff';
import {
  DELIVERY_ID_HEADER,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_HEADER,
  secretsInForce,
  signatureHeader,
} from '../domain/signature';
import type { TargetPolicy } from '../domain/target-url';
import type { WebhookMetrics } from '../metrics';
import {
  type AttemptRecord,
  type ClaimedDelivery,
  claimDue,
  disableEndpoint,
  endpointFailed,
  endpointSucceeded,
  insertAttempt,
  settleDelivery,
} from '../store/deliveries';
import { type SendResult, sendWebhook } from './send';

export interface DispatcherOptions {
  pool: Pool;
  logger: Logger;
  metrics: WebhookMetrics;
  policy: TargetPolicy;
  retry: RetryPolicy;
  disableAfter: { failures: number; minFailingMs: number };
  timeoutMs: number;
  concurrency: number;
  /** For tests: the clock. */
  now?: () => Date;
}

export const USER_AGENT = 'Dispatch-Webhooks/1.0';

/**
 * One dispatcher run: claims due deliveries (up to `concurrency` at once), sends them, records each
 * attempt, and goes on while there is due work. Runs on every instance; the claim shares the rows.
 */
export async function dispatchDue(opts: DispatcherOptions, signal: AbortSignal): Promise<number> {
  const now = opts.now ?? (() => new Date());
  // The lease outlives the attempt: a claimed delivery is never claimed twice while in flight.
  const leaseMs = opts.timeoutMs * 2 + 5_000;
  let sent = 0;
  while (!signal.aborted) {
    const claimed = await claimDue(opts.pool, opts.concurrency, leaseMs);
    if (claimed.length === 0) break;
    await Promise.all(claimed.map((d) => attempt(opts, d, now)));
    sent += claimed.length;
    if (claimed.length < opts.concurrency) break;
  }
  return sent;
}

async function attempt(opts: DispatcherOptions, d: ClaimedDelivery, now: () => Date): Promise<void> {
  const startedAt = now();
  const timestamp = Math.floor(startedAt.getTime() / 1000);
  const headers = {
    'Content-Type': 'application/json',
    'User-Agent': USER_AGENT,
    [EVENT_ID_HEADER]: d.eventId,
    [EVENT_TYPE_HEADER]: d.eventType,
    [DELIVERY_ID_HEADER]: d.id,
    [SIGNATURE_HEADER]: signatureHeader(secretsInForce(d, startedAt), timestamp, d.body),
  };
  const began = performance.now();
  const result: SendResult = await sendWebhook({
    url: d.url,
    headers,
    body: d.body,
    timeoutMs: opts.timeoutMs,
    policy: opts.policy,
  }).catch(
    (err: unknown) => ({ kind: 'error', error: err instanceof Error ? err.message : String(err) }) as const,
  );
  const durationMs = Math.round(performance.now() - began);
  const outcome = result.kind === 'answered' ? classifyStatus(result.status) : 'failed';
  const record: AttemptRecord = {
    deliveryId: d.id,
    attempt: d.attempts + 1,
    startedAt,
    durationMs,
    statusCode: result.kind === 'answered' ? result.status : null,
    outcome,
    error:
      result.kind === 'error'
        ? result.error.slice(0, 500)
        : outcome === 'delivered'
          ? null
          : `HTTP ${result.status}${result.bodyExcerpt ? `: ${result.bodyExcerpt.slice(0, 200)}` : ''}`,
  };
  let metricOutcome: 'delivered' | 'failed' | 'gone' | 'given_up' = outcome;
  let disabled: 'gone' | 'failing' | undefined;
  try {
    await withTransaction(opts.pool, async (tx) => {
      disabled = undefined;
      metricOutcome = outcome;
      await insertAttempt(tx, record);
      if (outcome === 'delivered') {
        await settleDelivery(tx, record, { state: 'delivered' });
        await endpointSucceeded(tx, d.endpointId);
        return;
      }
      if (outcome === 'gone') {
        // Retried once the endpoint is enabled again; until then nothing is sent to it.
        await settleDelivery(tx, record, { state: 'pending', nextAttemptAt: now() });
        if (await disableEndpoint(tx, d.endpointId, 'gone')) disabled = 'gone';
        return;
      }
      const decision = nextRetry(opts.retry, { attempt: record.attempt, queuedAt: d.createdAt, now: now() });
      if (decision.retry) {
        await settleDelivery(tx, record, { state: 'pending', nextAttemptAt: decision.nextAttemptAt });
      } else {
        metricOutcome = 'given_up';
        await settleDelivery(tx, record, { state: 'failed' });
      }
      const streak = await endpointFailed(tx, d.endpointId);
      if (
        streak?.enabled &&
        shouldDisable({ ...streak, now: now() }, opts.disableAfter) &&
        (await disableEndpoint(tx, d.endpointId, 'failing'))
      ) {
        disabled = 'failing';
      }
    });
  } catch (err) {
    // The lease ends and the delivery is tried again: at least once, never lost.
    opts.logger.warn({ err, deliveryId: d.id }, 'could not record a webhook attempt; it will be retried');
    return;
  }
  opts.metrics.attempts.inc({ outcome: metricOutcome });
  opts.metrics.attemptDuration.observe({ outcome }, durationMs / 1000);
  const log = { deliveryId: d.id, endpointId: d.endpointId, eventId: d.eventId, attempt: record.attempt };
  if (outcome !== 'delivered') {
    opts.logger.info(
      { ...log, status: record.statusCode, error: record.error },
      `webhook attempt ${metricOutcome}`,
    );
  }
  if (disabled) {
    opts.metrics.endpointsDisabled.inc({ reason: disabled });
    opts.logger.warn({ endpointId: d.endpointId, reason: disabled }, 'webhook endpoint disabled');
  }
}
