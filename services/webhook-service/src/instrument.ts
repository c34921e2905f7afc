// Imported first by main.ts: OpenTelemetry has to patch http, express and pg before they are
// loaded. Off unless the OTEL_* variables ask for export.
import { startTracing } from '@dispatch/platform/tracing';

startTracing('webhook-service');
