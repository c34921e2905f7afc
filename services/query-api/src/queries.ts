import { toOrderView } from '@dispatch/contracts';
import { ForbiddenError, NotFoundError, type Principal, ValidationError } from '@dispatch/platform';
import { types } from 'cassandra-driver';
import { factsFromRow } from './domain/facts-from-row';
import { type OrderResponse, type OrderSummary, toOrderResponse } from './domain/order-response';
import { decodePageToken, encodePageToken, PageTokenError } from './domain/page-token';
import type { GenerationTracker } from './store/generations';
import type { ReadModelStore } from './store/read-model-store';

export interface ListOrdersQuery {
  customerId?: string | undefined;
  limit: number;
  pageState?: string | undefined;
}

export interface OrderListResponse {
  customerId: string;
  items: OrderSummary[];
  /** Pass as `pageState` for the next page; null when this is the last one. */
  nextPageState: string | null;
}

function isAdmin(principal: Principal): boolean {
  return principal.roles.includes('admin');
}

/** What the HTTP routes and the order streams ask of the read model (always the active generation). */
export class OrderQueries {
  constructor(
    private readonly store: ReadModelStore,
    private readonly generations: GenerationTracker,
  ) {}

  /** The order as the read model knows it now, or undefined when no event of it was applied. */
  async find(orderId: string, withTimeline = true): Promise<OrderResponse | undefined> {
    const stored = await this.store.readOrder(this.generations.readKeyspace(), orderId, withTimeline);
    if (!stored) return undefined;
    return toOrderResponse(toOrderView(factsFromRow(orderId, stored.row)), stored.timeline);
  }

  /**
   * The order if `principal` may see it. Another customer's order answers 404 like an unknown one,
   * so order ids do not leak; so does an order whose order.created has not arrived (its owner is
   * not known yet) unless the caller is an admin.
   */
  async getFor(principal: Principal, orderId: string): Promise<OrderResponse> {
    const order = await this.find(orderId);
    if (!order || !mayRead(principal, order)) throw new NotFoundError(`Order ${orderId} was not found.`);
    return order;
  }

  /** One page of a customer's orders, newest first. */
  async list(principal: Principal, query: ListOrdersQuery): Promise<OrderListResponse> {
    const customerId = query.customerId ?? (isAdmin(principal) ? undefined : principal.subject);
    if (customerId === undefined) {
      throw new ValidationError([{ path: 'customerId', message: 'Required for admins.' }]);
    }
    if (!isAdmin(principal) && customerId !== principal.subject) {
      throw new ForbiddenError('Customers may list only their own orders.');
    }
    let pagingState: Buffer | undefined;
    if (query.pageState !== undefined) {
      try {
        pagingState = decodePageToken(customerId, query.pageState);
      } catch (err) {
        if (err instanceof PageTokenError)
          throw new ValidationError([{ path: 'pageState', message: err.message }]);
        throw err;
      }
    }

    const keyspace = this.generations.readKeyspace();
    let page: Awaited<ReturnType<ReadModelStore['listByCustomer']>>;
    try {
      page = await this.store.listByCustomer(keyspace, customerId, query.limit, pagingState);
    } catch (err) {
      if (pagingState && isInvalidRequest(err)) {
        throw new ValidationError([
          { path: 'pageState', message: 'is not a valid position in this listing' },
        ]);
      }
      throw err;
    }

    const orders = await Promise.all(page.entries.map((entry) => this.find(entry.orderId, false)));
    const items = page.entries.flatMap((entry, i) => {
      const order = orders[i];
      // An entry whose createdAt is not the order's (a losing duplicate order.created) is skipped.
      if (!order || order.customerId !== customerId || order.createdAt !== entry.createdAt.toISOString())
        return [];
      return [summaryOf(order)];
    });
    return {
      customerId,
      items,
      nextPageState: page.pagingState ? encodePageToken(customerId, page.pagingState) : null,
    };
  }
}

function summaryOf(order: OrderResponse): OrderSummary {
  const {
    orderId,
    customerId,
    totalAmount,
    currency,
    status,
    createdAt,
    updatedAt,
    paymentId,
    deliveryId,
    driverName,
    estimatedDeliveryTime,
  } = order;
  return {
    orderId,
    customerId,
    totalAmount,
    currency,
    status,
    createdAt,
    updatedAt,
    paymentId,
    deliveryId,
    driverName,
    estimatedDeliveryTime,
  };
}

export function mayRead(principal: Principal, order: OrderResponse): boolean {
  return isAdmin(principal) || (order.customerId !== null && order.customerId === principal.subject);
}

/** Cassandra refused the request itself (e.g. a paging state that is not one of its own). */
function isInvalidRequest(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === types.responseErrorCodes.invalid || code === types.responseErrorCodes.protocolError;
}
