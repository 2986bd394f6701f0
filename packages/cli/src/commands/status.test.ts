// The CLI's server-sent-events parser: frames split across chunks, comments and other events ignored.
import { describe, expect, it } from 'vitest';
import { stateEvents } from './status';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield new TextEncoder().encode(p);
}

describe('stateEvents', () => {
  it('yields the data of each state event, however the bytes arrive', async () => {
    const got: unknown[] = [];
    const body = chunks('event: state\ndata: {"state":"queued"', '}\n\n: keep-alive\n\nevent: other\ndata: 1\n\n', 'event: state\r\ndata: {"state":"completed"}\r\n\r\n');
    for await (const e of stateEvents(body)) got.push(e);
    expect(got).toEqual([{ state: 'queued' }, { state: 'completed' }]);
  });
});
