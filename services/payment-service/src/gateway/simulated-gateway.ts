import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  type ChargeRequest,
  type ChargeResult,
  type DeclineReason,
  GatewayRejectedError,
  GatewayUnavailableError,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
} from './gateway';

/** Every charge reference the simulator hands out starts with this. */
const CHARGE_REFERENCE_PREFIX = 'sim_ch_';

/** What the simulated gateway does for a card token. */
export type TokenBehaviour =
  | { kind: 'approve' }
  | { kind: 'decline'; reason: DeclineReason }
  /** Never answers: the caller's timeout has to end the call. Nothing is charged. */
  | { kind: 'never-answer' }
  /** The first attempt for an idempotency key fails with a transient error, later ones approve. */
  | { kind: 'fail-first-attempt' };

/** Test tokens, matched as the whole token or as a prefix followed by `_` (e.g. `tok_declined_2`). */
const TOKEN_BEHAVIOURS: readonly [prefix: string, behaviour: TokenBehaviour][] = [
  ['tok_declined', { kind: 'decline', reason: 'card_declined' }],
  ['tok_insufficient_funds', { kind: 'decline', reason: 'insufficient_funds' }],
  ['tok_invalid', { kind: 'decline', reason: 'invalid_payment_method' }],
  ['tok_fraud', { kind: 'decline', reason: 'fraud_suspected' }],
  ['tok_gateway_timeout', { kind: 'never-answer' }],
  ['tok_flaky', { kind: 'fail-first-attempt' }],
];

/**
 * Pure: the simulated outcome for a card token. `tok_visa` (and any token not listed above, such as
 * the contracts' sample `tok_visa_4242_sample`) approves.
 */
export function tokenBehaviour(token: string): TokenBehaviour {
  for (const [prefix, behaviour] of TOKEN_BEHAVIOURS) {
    if (token === prefix || token.startsWith(`${prefix}_`)) return behaviour;
  }
  return { kind: 'approve' };
}

export interface SimulatedGatewayOptions {
  /** Delay before every answer (default 0). */
  latencyMs?: number;
  /** Share of attempts that fail with a transient error before anything is charged (default 0). */
  failureRate?: number;
  /** Source of numbers in [0, 1) for the failure rate (injectable for tests). */
  random?: () => number;
}

/** What the simulator did for one order, so tests can assert "called twice, charged once". */
export interface GatewayOrderStats {
  chargeCalls: number;
  charges: number;
  refundCalls: number;
  refunds: number;
}

interface ChargeRecord {
  orderId: string;
  result: ChargeResult;
}

/**
 * An in-memory payment gateway that keeps the adapter contract: it honours idempotency keys (the same
 * key returns the stored result and never charges twice, concurrent calls with one key share one
 * attempt), answers by card token (see `tokenBehaviour`), and counts calls and charges per order.
 * State lives in memory: share one instance between pipelines that stand for several instances of the
 * service talking to one provider.
 */
export class SimulatedGateway implements PaymentGateway {
  private readonly latencyMs: number;
  private readonly failureRate: number;
  private readonly random: () => number;
  private readonly charges = new Map<string, ChargeRecord>();
  private readonly chargeAttempts = new Map<string, number>();
  private readonly chargesInFlight = new Map<string, Promise<ChargeResult>>();
  private readonly refunds = new Map<string, RefundResult>();
  private readonly stats = new Map<string, GatewayOrderStats>();

  constructor(opts: SimulatedGatewayOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.failureRate = opts.failureRate ?? 0;
    this.random = opts.random ?? Math.random;
  }

  async charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult> {
    this.statsFor(request.orderId).chargeCalls += 1;
    const stored = this.charges.get(request.idempotencyKey);
    if (stored) {
      await this.wait(signal);
      return stored.result;
    }
    const inFlight = this.chargesInFlight.get(request.idempotencyKey);
    if (inFlight) return raceAbort(inFlight, signal);

    const attempt = this.attemptCharge(request, signal).finally(() =>
      this.chargesInFlight.delete(request.idempotencyKey),
    );
    this.chargesInFlight.set(request.idempotencyKey, attempt);
    return attempt;
  }

  async refund(request: RefundRequest, signal: AbortSignal): Promise<RefundResult> {
    const stats = this.statsFor(request.orderId);
    stats.refundCalls += 1;
    await this.wait(signal);
    const stored = this.refunds.get(request.idempotencyKey);
    if (stored) return stored;
    const charge = [...this.charges.values()].find(
      (c) => c.result.outcome === 'approved' && c.result.reference === request.chargeReference,
    );
    // The simulator keeps its charges in memory, so after a restart it no longer remembers charges it
    // made. A real PSP would: a reference in the simulator's own format is therefore taken as one of
    // its charges, or every refund after a restart would fail until its message is dead-lettered.
    if (!charge && !request.chargeReference.startsWith(CHARGE_REFERENCE_PREFIX)) {
      throw new GatewayRejectedError(`no charge with reference ${request.chargeReference}`);
    }
    this.failRandomly();
    const result = { reference: `sim_re_${randomUUID()}` };
    this.refunds.set(request.idempotencyKey, result);
    stats.refunds += 1;
    return result;
  }

  /** Calls and charges for one order (zeros when the gateway never heard of it). */
  orderStats(orderId: string): GatewayOrderStats {
    return { ...(this.stats.get(orderId) ?? emptyStats()) };
  }

  /** Charges made across all orders. */
  totalCharges(): number {
    let total = 0;
    for (const s of this.stats.values()) total += s.charges;
    return total;
  }

  private async attemptCharge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult> {
    await this.wait(signal);
    const attempt = (this.chargeAttempts.get(request.idempotencyKey) ?? 0) + 1;
    this.chargeAttempts.set(request.idempotencyKey, attempt);
    this.failRandomly();

    const behaviour = tokenBehaviour(request.cardToken);
    let result: ChargeResult;
    switch (behaviour.kind) {
      case 'never-answer':
        await neverAnswer(signal);
        throw new GatewayUnavailableError('simulated gateway never answered');
      case 'fail-first-attempt':
        if (attempt === 1) throw new GatewayUnavailableError('simulated flaky gateway: first attempt failed');
        result = { outcome: 'approved', reference: `${CHARGE_REFERENCE_PREFIX}${randomUUID()}` };
        break;
      case 'decline':
        result = { outcome: 'declined', reason: behaviour.reason };
        break;
      case 'approve':
        result = { outcome: 'approved', reference: `${CHARGE_REFERENCE_PREFIX}${randomUUID()}` };
        break;
    }
    // Checked once more: a caller that gave up must not find itself charged later.
    if (signal.aborted) throw new GatewayUnavailableError('simulated gateway call aborted');
    this.charges.set(request.idempotencyKey, { orderId: request.orderId, result });
    if (result.outcome === 'approved') this.statsFor(request.orderId).charges += 1;
    return result;
  }

  private failRandomly(): void {
    if (this.failureRate > 0 && this.random() < this.failureRate) {
      throw new GatewayUnavailableError('simulated transient gateway failure');
    }
  }

  private async wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new GatewayUnavailableError('simulated gateway call aborted');
    if (this.latencyMs <= 0) return;
    try {
      await delay(this.latencyMs, undefined, { signal });
    } catch {
      throw new GatewayUnavailableError('simulated gateway call aborted');
    }
  }

  private statsFor(orderId: string): GatewayOrderStats {
    let stats = this.stats.get(orderId);
    if (!stats) {
      stats = emptyStats();
      this.stats.set(orderId, stats);
    }
    return stats;
  }
}

function emptyStats(): GatewayOrderStats {
  return { chargeCalls: 0, charges: 0, refundCalls: 0, refunds: 0 };
}

/** Resolves never; rejects when the signal aborts. */
function neverAnswer(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const onAbort = () => reject(new GatewayUnavailableError('simulated gateway call aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The shared attempt's result, unless this caller's own signal aborts first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new GatewayUnavailableError('simulated gateway call aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
