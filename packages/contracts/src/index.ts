export {
  CONSUMING_SERVICES,
  type ConsumingService,
  consumedTopics,
  isConsumingService,
} from './consumers';
export {
  type AnyEvent,
  type CreateEventInput,
  createEvent,
  type EnvelopeIssue,
  EnvelopeValidationError,
  type EventEnvelope,
  envelopeSchema,
  type ParseEnvelopeResult,
  parseEnvelope,
  serializeEnvelope,
  stampProduced,
  validateEnvelope,
} from './envelope';
export {
  CURRENT_SCHEMA_VERSION,
  currentPayloadSchemas,
  EVENT_TYPES,
  type EventType,
  isEventType,
  knownSchemaVersions,
  type PayloadOf,
  payloadRegistry,
  payloadSchemaFor,
  type RegistryKey,
  registryKey,
} from './events';
export { applyEvent, FoldError, foldOrder, toOrderView } from './fold';
export { followUp } from './follow-up';
export {
  CURRENCIES,
  type Currency,
  currencySchema,
  fromMinorUnits,
  lineTotal,
  MONEY_PATTERN,
  type Money,
  MoneyError,
  moneyFromNumber,
  moneyInputSchema,
  moneySchema,
  sumMoney,
  toMinorUnits,
  totalOfLines,
} from './money';
export {
  type CancellationSection,
  type CompensationSection,
  type DeliverySection,
  deriveStatus,
  emptyFacts,
  type InventorySection,
  isTerminal,
  ORDER_STATUSES,
  type OrderFacts,
  type OrderSection,
  type OrderStatus,
  type OrderView,
  orderTotalAmount,
  type PaymentSection,
} from './order-facts';
export {
  idSchema,
  isoDateTimeSchema,
  itemIdSchema,
  type PricedLine,
  pricedLineSchema,
  pricedLinesOf,
  type RequestedLine,
  reasonCodeSchema,
  requestedLineSchema,
  requestedTotal,
} from './payloads/common';
export {
  DELIVERY_FAILURE_REASONS,
  deliveryAssignedV1,
  deliveryCompletedV1,
  deliveryFailedV1,
  etaUpdatedV1,
} from './payloads/delivery';
export {
  inventoryRejectedV1,
  inventoryReleasedV1,
  inventoryReservedV1,
  type LineRejection,
  lineRejectionSchema,
  REJECTION_REASONS,
  RELEASE_REASONS,
} from './payloads/inventory';
export {
  CANCELLED_BY,
  cardTokenSchema,
  type DeliveryAddress,
  deliveryAddressSchema,
  orderCancelledV1,
  orderCreatedV1,
  type PaymentMethod,
  paymentMethodSchema,
} from './payloads/order';
export {
  PAYMENT_FAILURE_REASONS,
  paymentAuthorizedV1,
  paymentFailedV1,
  paymentRefundedV1,
  REFUND_REASONS,
} from './payloads/payment';
export { freeText, plainText, type TextKind, unsafeCharacterIn } from './text';
export {
  DlqHeader,
  dlqTopic,
  isRawTopic,
  RAW_TOPICS,
  type RawTopic,
  TopicNameError,
  Topics,
  TRACEPARENT_HEADER,
  topicForEventType,
  topicOwner,
} from './topics';
