// Inference-server thread: one set of sessions per GPU, fed by every engine worker; requests batch across images.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { loadSessionModels, type EngineInfo, type FaceEngineOptions } from './engine';
import type { Outputs, SessionModel } from './onnx-model';
import type { InferenceReply, InferenceRequest, ModelName } from './remote-model';

export type ServerOptions = Pick<FaceEngineOptions, 'pack' | 'intraOpThreads' | 'executionProvider' | 'batchSize' | 'deviceId'>;

export type ServerMessage = { type: 'ready'; info: EngineInfo } | { type: 'init-error'; message: string };
export interface ConnectMessage {
  type: 'connect';
  port: MessagePort;
}

interface Waiting {
  req: InferenceRequest;
  port: MessagePort;
}

/**
 * Per model, one run in flight; requests that arrive meanwhile (from any worker) wait and go together in the
 * next run, up to the batch size, so the GPU sees batches of tiles or faces from several images.
 */
class Scheduler {
  private readonly queue: Waiting[] = [];
  private busy = false;

  constructor(private readonly model: SessionModel, private readonly batch: number) {}

  push(w: Waiting): void {
    this.queue.push(w);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const taken: Waiting[] = [];
    let items = 0;
    while (this.queue.length > 0 && (taken.length === 0 || items + this.queue[0]!.req.items.length <= this.batch)) {
      const w = this.queue.shift()!;
      taken.push(w);
      items += w.req.items.length;
    }
    const inputs = taken.flatMap((w) => w.req.items);
    try {
      const outs = await this.model.runMany(inputs.length, (i) => inputs[i]!);
      let at = 0;
      for (const { req, port } of taken) {
        // Outputs of one run share buffers across requests: copy each request's part so it can be transferred.
        const mine: Outputs[] = outs.slice(at, at + req.items.length).map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.slice()])));
        at += req.items.length;
        const reply: InferenceReply = { id: req.id, outputs: mine };
        port.postMessage(reply, mine.flatMap((o) => Object.values(o).map((v) => v.buffer as ArrayBuffer)));
      }
    } catch (err) {
      for (const { req, port } of taken) port.postMessage({ id: req.id, error: (err as Error).message } satisfies InferenceReply);
    } finally {
      this.busy = false;
      void this.pump();
    }
  }
}

async function main(): Promise<void> {
  const parent = parentPort;
  if (!parent) throw new Error('inference-server must run in a worker thread');
  const opts = workerData as ServerOptions;
  let schedulers: Record<ModelName, Scheduler>;
  let info: EngineInfo;
  try {
    const loaded = await loadSessionModels(opts);
    const batch = loaded.info.batchSize;
    schedulers = {
      detect: new Scheduler(loaded.models.detect, batch),
      landmark: new Scheduler(loaded.models.landmark, batch),
      feature: new Scheduler(loaded.models.feature, batch),
    };
    info = loaded.info;
  } catch (err) {
    parent.postMessage({ type: 'init-error', message: err instanceof Error ? err.message : String(err) } satisfies ServerMessage);
    return;
  }
  parent.on('message', (msg: ConnectMessage) => {
    if (msg.type !== 'connect') return;
    msg.port.on('message', (req: InferenceRequest) => schedulers[req.model].push({ req, port: msg.port }));
  });
  parent.postMessage({ type: 'ready', info } satisfies ServerMessage);
}

void main();
