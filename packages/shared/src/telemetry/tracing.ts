// OpenTelemetry traces of a process: a tracer provider exporting over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { enableBullTelemetry } from './bullmq-telemetry';

export interface Tracing {
  /** Exports what is still buffered. */
  flush(): Promise<void>;
  /** Flushes and stops exporting; the global provider stays registered (no-op spans after). */
  shutdown(): Promise<void>;
}

/** True when the environment names an OTLP endpoint (the exporter reads the standard OTEL_* variables itself). */
export function otlpConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Registers the global tracer provider (AsyncLocalStorage context, W3C trace-context propagation) for `service`.
 * Exports to `exporter` when given (tests: InMemorySpanExporter, at once), else over OTLP/HTTP protobuf in batches
 * when an endpoint is configured; otherwise registers nothing and returns null, so every span is a no-op.
 */
export function startTracing(service: string, opts: { exporter?: SpanExporter } = {}): Tracing | null {
  if (!opts.exporter && !otlpConfigured()) return null;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME || service, [ATTR_SERVICE_VERSION]: '0.1.0' }),
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(opts.exporter) : new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  enableBullTelemetry();
  return {
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
