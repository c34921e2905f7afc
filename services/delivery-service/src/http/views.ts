import type { z } from 'zod';
import type { Delivery } from '../store/deliveries';
import type { Driver } from '../store/drivers';
import type { deliverySchema, driverSchema } from './schemas';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function driverView(d: Driver): z.output<typeof driverSchema> {
  return {
    driverId: d.driverId,
    name: d.name,
    status: d.status,
    activeDeliveryId: d.activeDeliveryId,
    assignable: d.status === 'AVAILABLE' && d.activeDeliveryId === null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

export function deliveryView(d: Delivery): z.output<typeof deliverySchema> {
  return {
    deliveryId: d.deliveryId,
    orderId: d.orderId,
    status: d.status,
    driverId: d.driverId,
    driverName: d.driverName,
    estimatedDeliveryTime: iso(d.estimatedDeliveryTime),
    assignDeadline: iso(d.assignDeadline),
    assignedAt: iso(d.assignedAt),
    completedAt: iso(d.completedAt),
    failureReason: d.failureReason,
    driverPosition:
      d.driverPosition && d.positionAt
        ? { lat: d.driverPosition.lat, lng: d.driverPosition.lng, at: d.positionAt.toISOString() }
        : null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}
