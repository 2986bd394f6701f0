import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverCallback, signCallback, verifyCallback } from './callbacks';
import { createRedisManifestPublisher, manifestChannel } from './manifest-events';

const body = '{"jobId":"j1","added":["faceset_020"]}';

describe('callback signing', () => {
  it('is HMAC-SHA256 of "<timestamp>.<body>" (checked against openssl)', () => {
    // printf '%s' '1700000000.<body>' | openssl dgst -sha256 -hmac s3cret
    expect(signCallback('s3cret', body, 1_700_000_000.9)).toEqual({
      'X-Facesets-Signature': 'sha256=dbb548221568a5e557a86b22e3a42a71231831c5a42e0e478ba4ef36df58406b',
      'X-Facesets-Timestamp': '1700000000',
    });
  });

  it('verifies fresh, untampered deliveries only', () => {
    const h = signCallback('s3cret', body, 1_700_000_000);
    const headers = { signature: h['X-Facesets-Signature'], timestamp: h['X-Facesets-Timestamp'] };
    expect(verifyCallback('s3cret', body, headers, 1_700_000_100)).toBe(true);
    expect(verifyCallback('s3cret', `${body} `, headers, 1_700_000_100)).toBe(false);
    expect(verifyCallback('other', body, headers, 1_700_000_100)).toBe(false);
    expect(verifyCallback('s3cret', body, headers, 1_700_001_000)).toBe(false); // replayed 1000 s later
    expect(verifyCallback('s3cret', body, { ...headers, timestamp: '1700000001' }, 1_700_000_100)).toBe(false);
  });
});

describe('deliverCallback', () => {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let status = 204;
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: data });
      res.statusCode = status;
      res.end();
    });
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts the raw body with a signature the receiver can verify', async () => {
    status = 204;
    await expect(deliverCallback(url, body, 's3cret', { now: () => 1_700_000_000_000 })).resolves.toEqual({ status: 204 });
    const got = received.at(-1)!;
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
    const headers = { signature: got.headers['x-facesets-signature'] as string, timestamp: got.headers['x-facesets-timestamp'] as string };
    expect(verifyCallback('s3cret', got.body, headers, 1_700_000_000)).toBe(true);
  });

  it('throws on a non-2xx answer and on an unreachable receiver, so the queue retries', async () => {
    status = 503;
    await expect(deliverCallback(url, body, 's3cret')).rejects.toThrow(/answered HTTP 503/);
    await expect(deliverCallback('http://127.0.0.1:1/none', body, undefined, { timeoutMs: 2000 })).rejects.toThrow(/callback to .* failed/);
  });
});

describe('manifest events', () => {
  it('publish JSON on facesets:manifest', async () => {
    const sent: [string, string][] = [];
    expect(manifestChannel('facesets')).toBe('facesets:manifest');
    // Pub/sub ignores the Redis database: a deployment on another database gets a channel of its own.
    expect(manifestChannel('facesets', 'redis://127.0.0.1:6379')).toBe('facesets:manifest');
    expect(manifestChannel('facesets', 'redis://127.0.0.1:6379/0')).toBe('facesets:manifest');
    expect(manifestChannel('facesets', 'redis://127.0.0.1:6379/3')).toBe('facesets:db3:manifest');
    const publish = createRedisManifestPublisher({ publish: async (c, m) => (sent.push([c, m]), 1) }, manifestChannel('facesets'));
    await publish({ outputRoot: '/out', jobId: 'j1', added: ['faceset_020'], extended: [] });
    expect(sent).toEqual([['facesets:manifest', '{"outputRoot":"/out","jobId":"j1","added":["faceset_020"],"extended":[]}']]);
  });
});
