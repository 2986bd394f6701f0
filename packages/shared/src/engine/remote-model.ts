// Models that live in an inference-server thread: requests go over a MessagePort, inputs and outputs are transferred.
import type { MessagePort } from 'node:worker_threads';
import type { OnnxModel, Outputs } from './onnx-model';

export type ModelName = 'detect' | 'landmark' | 'feature';

export interface InferenceRequest {
  id: number;
  model: ModelName;
  items: Float32Array[];
}

export type InferenceReply = { id: number; outputs: Outputs[] } | { id: number; error: string };

/** The three models of one inference server, seen from one engine worker through its own port. */
export class RemoteModels {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: Outputs[]) => void; reject: (e: Error) => void }>();
  private closed: string | undefined;

  constructor(private readonly port: MessagePort) {
    port.on('message', (reply: InferenceReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.outputs);
    });
    // The server thread died or the pool closed it: nothing pending may wait forever.
    port.on('close', () => this.fail('inference server is gone'));
  }

  model(name: ModelName): OnnxModel {
    return { runMany: (count, inputOf) => this.request(name, Array.from({ length: count }, (_, i) => inputOf(i))) };
  }

  close(): void {
    this.fail('engine closed');
    this.port.close();
  }

  private request(model: ModelName, items: Float32Array[]): Promise<Outputs[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.reject(new Error(this.closed));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: InferenceRequest = { id, model, items };
      this.port.postMessage(req, items.map((x) => x.buffer as ArrayBuffer));
    });
  }

  private fail(why: string): void {
    this.closed ??= why;
    for (const w of this.pending.values()) w.reject(new Error(why));
    this.pending.clear();
  }
}
