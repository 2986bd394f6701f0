// Infrastructure errors: what counts as "Postgres/Redis not there" and how long to wait between tries.
import { expect, it } from 'vitest';
import { infraBackoffMs, isInfrastructureError } from './infra-errors';

it('recognises refused connections, pg connection states and ioredis giving up, through causes and aggregates', () => {
  expect(isInfrastructureError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(true);
  expect(isInfrastructureError(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })]))).toBe(true);
  expect(isInfrastructureError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
  expect(isInfrastructureError(Object.assign(new Error('cannot connect'), { code: '08006' }))).toBe(true);
  expect(isInfrastructureError(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isInfrastructureError(new Error('wrapped', { cause: new Error('Connection is closed.') }))).toBe(true);
});

it('leaves bad input, SQL errors and decode failures alone', () => {
  expect(isInfrastructureError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
  expect(isInfrastructureError(Object.assign(new Error('no such file'), { code: 'ENOENT' }))).toBe(false);
  expect(isInfrastructureError(new Error('corrupt or unsupported png'))).toBe(false);
  expect(isInfrastructureError('ECONNREFUSED')).toBe(false);
});

it('backs off 1, 2, 4, 8 … seconds, capped', () => {
  expect([1, 2, 3, 4, 5, 6, 7].map((a) => infraBackoffMs(a))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  expect(infraBackoffMs(3, 3000)).toBe(3000);
});
