// FileGate: shared runs overlap, a solo run waits for them and runs with nothing beside it.
import { expect, it } from 'vitest';
import { FileGate } from './file-gate';

const tick = () => new Promise((r) => setTimeout(r, 5));

it('runs shared work side by side and solo work alone, before later shared work', async () => {
  const gate = new FileGate();
  const log: string[] = [];
  let inFlight = 0;
  let soloSawOthers = false;
  const job = (name: string, solo: boolean) =>
    (solo ? gate.alone.bind(gate) : gate.shared.bind(gate))(async () => {
      inFlight += 1;
      if (solo && inFlight > 1) soloSawOthers = true;
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      inFlight -= 1;
    });
  await Promise.all([job('a', false), job('b', false), job('s', true), job('c', false)]);
  expect(soloSawOthers).toBe(false);
  expect(log).toEqual(['start a', 'start b', 'end a', 'end b', 'start s', 'end s', 'start c', 'end c']);
});
