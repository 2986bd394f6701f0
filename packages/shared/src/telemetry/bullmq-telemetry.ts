// BullMQ's Telemetry on OpenTelemetry: producer and consumer spans, with the trace context carried in each job, so a
// job's trace runs from POST /jobs through the scan, every embed batch and the cluster stage.
import { context, propagation, trace, type Context, type Span as OtelSpan } from '@opentelemetry/api';
import {
  SpanKind,
  type Attributes,
  type AttributeValue,
  type ContextManager,
  type Exception,
  type Span,
  type Telemetry,
  type Time,
  type Tracer,
} from 'bullmq';

/** The operations worth a span: adding work and processing it; BullMQ's polls and timers (INTERNAL) are dropped. */
const TRACED = new Set([SpanKind.PRODUCER, SpanKind.CONSUMER]);

class OtelSpanAdapter implements Span<Context> {
  constructor(private readonly span: OtelSpan | null) {}
  setSpanOnContext(ctx: Context): Context {
    return this.span ? trace.setSpan(ctx, this.span) : ctx;
  }
  setAttribute(key: string, value: AttributeValue): void {
    this.span?.setAttribute(key, value);
  }
  setAttributes(attributes: Attributes): void {
    this.span?.setAttributes(attributes);
  }
  addEvent(name: string, attributes?: Attributes): void {
    this.span?.addEvent(name, attributes);
  }
  recordException(exception: Exception, time?: Time): void {
    this.span?.recordException(exception, time);
  }
  end(): void {
    this.span?.end();
  }
}

const contextManager: ContextManager<Context> = {
  with: (ctx, fn) => context.with(ctx, fn),
  active: () => context.active(),
  getMetadata(ctx) {
    const carrier: Record<string, string> = {};
    propagation.inject(ctx, carrier);
    return JSON.stringify(carrier);
  },
  fromMetadata(active, metadata) {
    try {
      return propagation.extract(active, JSON.parse(metadata) as Record<string, string>);
    } catch {
      return active;
    }
  },
};

let enabled: Telemetry<Context> | undefined;

/** Turns BullMQ tracing on for every queue, worker and flow producer created from now on (startTracing does). */
export function enableBullTelemetry(): void {
  enabled ??= otelTelemetry();
}

/**
 * The `telemetry` option of every Queue, Worker and FlowProducer: undefined while tracing is off, so no job carries
 * an empty trace context then.
 */
export function bullTelemetry(): { telemetry?: Telemetry<Context> } {
  return enabled ? { telemetry: enabled } : {};
}

function otelTelemetry(): Telemetry<Context> {
  const otel = trace.getTracer('facesets-bullmq');
  const tracer: Tracer<Context> = {
    startSpan(name, options, ctx) {
      if (options && !TRACED.has(options.kind)) return new OtelSpanAdapter(null);
      // BullMQ's kinds are OpenTelemetry's numbers (INTERNAL 0 … CONSUMER 4).
      return new OtelSpanAdapter(otel.startSpan(name, { kind: options?.kind as number }, ctx));
    },
  };
  return { tracer, contextManager };
}
