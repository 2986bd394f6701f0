import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('engine defaults per provider', () => {
  it('CPU: a worker per core, one item per ONNX run, device 0', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ executionProvider: 'cpu', engineWorkers: availableParallelism(), engineBatchSize: 1, cudaDevices: [0] });
  });

  it('CUDA: 32 items per run, workers spread evenly over CUDA_DEVICES', () => {
    const cores = availableParallelism();
    expect(loadConfig({ EXECUTION_PROVIDER: 'cuda' })).toMatchObject({ engineBatchSize: 32, engineWorkers: cores, cudaDevices: [0] });
    const three = loadConfig({ EXECUTION_PROVIDER: 'cuda', CUDA_DEVICES: '0, 1,2' });
    expect(three.cudaDevices).toEqual([0, 1, 2]);
    expect(three.engineWorkers).toBe(Math.ceil(cores / 3) * 3);
  });

  it('explicit settings win, bad ones name the variable', () => {
    expect(loadConfig({ EXECUTION_PROVIDER: 'cuda', ENGINE_WORKERS: '2', ENGINE_BATCH_SIZE: '4' })).toMatchObject({ engineWorkers: 2, engineBatchSize: 4 });
    expect(() => loadConfig({ CUDA_DEVICES: 'gpu0' })).toThrow(ConfigError);
    expect(() => loadConfig({ CUDA_DEVICES: 'gpu0' })).toThrow(/CUDA_DEVICES/);
    expect(() => loadConfig({ ENGINE_BATCH_SIZE: '0' })).toThrow(/ENGINE_BATCH_SIZE must be an integer from 1 to 256/);
  });
});
