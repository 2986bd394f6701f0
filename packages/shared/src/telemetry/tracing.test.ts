// Spans leave the process over OTLP/HTTP (protobuf) only when OTEL_EXPORTER_OTLP_ENDPOINT names a collector.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { otlpConfigured, startTracing } from './tracing';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('startTracing', () => {
  it('registers nothing without an endpoint', () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    expect(otlpConfigured()).toBe(false);
    expect(startTracing('facesets-test')).toBeNull();
    expect(trace.getTracer('t').startSpan('x').isRecording()).toBe(false);
  });

  it('posts the spans to <endpoint>/v1/traces as OTLP protobuf', async () => {
    const received: { url: string | undefined; type: string | undefined; bytes: number }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ url: req.url, type: req.headers['content-type'], bytes: Buffer.concat(chunks).length });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const tracing = startTracing('facesets-test');
    expect(tracing).not.toBeNull();
    const span = trace.getTracer('t').startSpan('a span');
    expect(span.isRecording()).toBe(true);
    span.end();
    await tracing!.shutdown();
    collector.close();
    expect(received).toEqual([{ url: '/v1/traces', type: 'application/x-protobuf', bytes: expect.any(Number) }]);
    expect(received[0]!.bytes).toBeGreaterThan(20);
  });
});
