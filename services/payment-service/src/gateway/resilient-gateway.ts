import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import type { PaymentMetrics } from '../metrics';
import {
  type ChargeRequest,
  type ChargeResult,
  GatewayUnavailableError,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
} from './gateway';

export interface GatewayResilienceOptions {
  /** One attempt's timeout. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Consecutive failed attempts that open the breaker. */
  breakerConsecutiveFailures: number;
  /** Open → half-open after this long. */
  breakerHalfOpenAfterMs: number;
}

/** Why a gateway call produced no answer. The codes are the contract's payment.failed reasons. */
export type UnavailableReason = 'gateway_unavailable';

export type ResilientCharge =
  | ChargeResult
  | { outcome: 'unavailable'; reason: UnavailableReason; detail: string; circuitOpen: boolean };

export type ResilientRefund =
  | { outcome: 'refunded'; result: RefundResult }
  | { outcome: 'unavailable'; reason: UnavailableReason; detail: string; circuitOpen: boolean };

/** The breaker state as the `payment_circuit_breaker_state` gauge reports it. */
export const BREAKER_GAUGE_VALUE = { closed: 0, halfOpen: 1, open: 2 } as const;

export function breakerGaugeValue(state: CircuitState): number {
  switch (state) {
    case CircuitState.Closed:
      return BREAKER_GAUGE_VALUE.closed;
    case CircuitState.HalfOpen:
      return BREAKER_GAUGE_VALUE.halfOpen;
    default:
      return BREAKER_GAUGE_VALUE.open; // Open and Isolated both block calls
  }
}

/**
 * Faults worth retrying and counting against the breaker: no answer or a transient error.
 * `instanceof`, not cockatiel's `isTaskCancelledError`: in 3.2.1 that helper tests the wrong marker
 * property ('isBulkheadRejectedError') and never recognises a timeout.
 */
function isGatewayFault(err: unknown): boolean {
  return err instanceof GatewayUnavailableError || err instanceof TaskCancelledError;
}

/**
 * The gateway behind cockatiel policies: per attempt a timeout (aggressive: the call is abandoned and
 * its signal aborted), a consecutive-failure circuit breaker around the attempts, and retries with
 * exponential backoff around both. A decline is an answer, not a fault: it is neither retried nor
 * counted by the breaker. A call that ends without an answer is reported as `unavailable`, with
 * gateway_unavailable whether the attempts timed out, failed, or the circuit was open (`detail` says which).
 * One instance per process: the breaker state is shared by every call, charges and refunds alike.
 */
export class ResilientGateway {
  private readonly policy: IPolicy;
  private readonly breaker;

  constructor(
    private readonly gateway: PaymentGateway,
    opts: GatewayResilienceOptions,
    private readonly metrics: PaymentMetrics,
  ) {
    const retryPolicy = retry(handleWhen(isGatewayFault), {
      maxAttempts: opts.retries,
      backoff: new ExponentialBackoff({ initialDelay: opts.backoffInitialMs, maxDelay: opts.backoffMaxMs }),
    });
    this.breaker = circuitBreaker(handleWhen(isGatewayFault), {
      halfOpenAfter: opts.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.breakerConsecutiveFailures),
    });
    const attemptTimeout = timeout(opts.timeoutMs, TimeoutStrategy.Aggressive);
    this.policy = wrap(retryPolicy, this.breaker, attemptTimeout);
    metrics.circuitBreakerState.set(breakerGaugeValue(this.breaker.state));
    this.breaker.onStateChange((state) => metrics.circuitBreakerState.set(breakerGaugeValue(state)));
  }

  get circuitState(): CircuitState {
    return this.breaker.state;
  }

  async charge(request: ChargeRequest): Promise<ResilientCharge> {
    try {
      return await this.policy.execute(({ signal }) =>
        this.timed('charge', signal, () => this.gateway.charge(request, signal), chargeOutcome),
      );
    } catch (err) {
      return unavailable(err);
    }
  }

  async refund(request: RefundRequest): Promise<ResilientRefund> {
    try {
      const result = await this.policy.execute(({ signal }) =>
        this.timed(
          'refund',
          signal,
          () => this.gateway.refund(request, signal),
          () => 'refunded',
        ),
      );
      return { outcome: 'refunded', result };
    } catch (err) {
      return unavailable(err);
    }
  }

  /** Times one attempt into payment_gateway_request_duration_seconds{operation, outcome}. */
  private async timed<T>(
    operation: 'charge' | 'refund',
    signal: AbortSignal,
    call: () => Promise<T>,
    outcomeOf: (result: T) => string,
  ): Promise<T> {
    const stop = this.metrics.gatewayRequestDuration.startTimer({ operation });
    try {
      const result = await call();
      stop({ outcome: outcomeOf(result) });
      return result;
    } catch (err) {
      // An aborted attempt is one the timeout gave up on.
      const outcome = signal.aborted
        ? 'timeout'
        : err instanceof GatewayUnavailableError
          ? 'error'
          : 'rejected';
      stop({ outcome });
      throw err;
    }
  }
}

function chargeOutcome(result: ChargeResult): string {
  return result.outcome;
}

function unavailable(err: unknown): {
  outcome: 'unavailable';
  reason: UnavailableReason;
  detail: string;
  circuitOpen: boolean;
} {
  if (err instanceof TaskCancelledError) {
    return { outcome: 'unavailable', reason: 'gateway_unavailable', detail: 'timed out', circuitOpen: false };
  }
  if (err instanceof BrokenCircuitError) {
    return {
      outcome: 'unavailable',
      reason: 'gateway_unavailable',
      detail: 'circuit open',
      circuitOpen: true,
    };
  }
  if (err instanceof GatewayUnavailableError) {
    return { outcome: 'unavailable', reason: 'gateway_unavailable', detail: err.message, circuitOpen: false };
  }
  // Anything else (a rejected request, a bug in an adapter) is not a gateway outage: let it surface.
  throw err;
}
