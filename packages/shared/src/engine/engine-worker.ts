// Inference worker thread: owns one FaceEngine (ONNX run() blocks its thread, not the service's event loop).
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
  // One request at a time: the pool only hands a worker its next file once it answered the last.
  port.on('message', (req: WorkerRequest) => {
    void engine.processFile(req.path, req.opts).then((result) => {
      const transfer = result.ok ? result.faces.map((f) => f.embedding.buffer as ArrayBuffer) : [];
      send({ type: 'result', id: req.id, result }, transfer);
    });
  });
  send({ type: 'ready', info: engine.info });
}

void main();
