// Inference worker thread: owns one FaceEngine (ONNX run() blocks its thread, not the service's event loop).
import { basename } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { FaceEngine, type EngineInfo, type FaceEngineOptions } from './engine';
import type { FileResult, ProcessOptions } from './types';

export interface WorkerRequest {
  id: number;
  path: string;
  opts: ProcessOptions;
}

export type WorkerMessage =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; result: FileResult };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('engine-worker must run in a worker thread');
  const send = (msg: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  let engine: FaceEngine;
  try {
    engine = await FaceEngine.create(workerData as FaceEngineOptions);
  } catch (err) {
    send({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  // Test hook (FACESETS_TEST_CRASH_ON=name,…): a file of that base name kills the whole process as a native decoder
  // crash would (SIGKILL, no clean-up), so fault tests can exercise poison-file handling without a real libvips bug.
  const crashOn = new Set((process.env.FACESETS_TEST_CRASH_ON ?? '').split(',').filter(Boolean));
  // One request at a time: the pool only hands a worker its next file once it answered the last.
  port.on('message', (req: WorkerRequest) => {
    if (crashOn.has(basename(req.path))) process.kill(process.pid, 'SIGKILL');
    void engine.processFile(req.path, req.opts).then((result) => {
      const transfer = result.ok ? result.faces.map((f) => f.embedding.buffer as ArrayBuffer) : [];
      send({ type: 'result', id: req.id, result }, transfer);
    });
  });
  send({ type: 'ready', info: engine.info });
}

void main();
