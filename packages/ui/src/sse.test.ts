// Event-stream frames split anywhere: comments skipped, multi-line data joined, the unfinished tail kept.
import { describe, expect, it } from 'vitest';
import { parseSse } from './sse';

describe('parseSse', () => {
  it('reads complete frames and keeps the rest for the next chunk', () => {
    const { events, rest } = parseSse(': keep-alive\n\nevent: state\ndata: {"a":1}\n\nevent: state\ndata: {"a"');
    expect(events).toEqual([{ event: 'state', data: '{"a":1}' }]);
    expect(rest).toBe('event: state\ndata: {"a"');
    const next = parseSse(`${rest}:2}\n\n`);
    expect(next.events).toEqual([{ event: 'state', data: '{"a":2}' }]);
    expect(next.rest).toBe('');
  });

  it('joins data lines, defaults the event name, accepts CRLF', () => {
    expect(parseSse('data: one\r\ndata: two\r\n\r\n').events).toEqual([{ event: 'message', data: 'one\ntwo' }]);
  });
});
