// A model the engine runs items through: a local ONNX session (items stacked along the batch dim), or a remote one.
import type { InferenceSession } from 'onnxruntime-node';
import type { Ort } from './runtime';

export type Outputs = Record<string, Float32Array>;

export interface OnnxModel {
  /** Outputs per item, in order; item i's input is made by inputOf(i). */
  runMany(count: number, inputOf: (i: number) => Float32Array): Promise<Outputs[]>;
}

/** One session with one float input. */
export class SessionModel implements OnnxModel {
  private readonly itemSize: number;

  /**
   * @param itemDims dims of one item, batch dim included (1); @param maxBatch items per run: 1 for a model
   * whose batch dim is fixed, up to the chosen batch size for a batch-symbolic copy.
   */
  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    private readonly itemDims: readonly number[],
    readonly maxBatch: number,
  ) {
    this.itemSize = itemDims.reduce((a, b) => a * b, 1);
  }

  /** Items go through in runs of at most maxBatch, each input made only when its run comes. */
  async runMany(count: number, inputOf: (i: number) => Float32Array): Promise<Outputs[]> {
    const results: Outputs[] = [];
    for (let from = 0; from < count; from += this.maxBatch) {
      const items = Array.from({ length: Math.min(this.maxBatch, count - from) }, (_, k) => inputOf(from + k));
      results.push(...(await this.runOnce(items)));
    }
    return results;
  }

  private async runOnce(items: readonly Float32Array[]): Promise<Outputs[]> {
    const n = items.length;
    let data: Float32Array;
    if (n === 1) data = items[0]!;
    else {
      data = new Float32Array(n * this.itemSize);
      items.forEach((item, i) => data.set(item, i * this.itemSize));
    }
    for (const item of items) {
      if (item.length !== this.itemSize) throw new Error(`model input: expected ${this.itemSize} values per item, got ${item.length}`);
    }
    const out = await this.session.run({ [this.session.inputNames[0]!]: new this.ort.Tensor('float32', data, [n, ...this.itemDims.slice(1)]) });
    const split: Outputs[] = Array.from({ length: n }, () => ({}));
    for (const [name, tensor] of Object.entries(out)) {
      const all = tensor.data as Float32Array;
      const per = all.length / n;
      for (let i = 0; i < n; i++) split[i]![name] = all.subarray(i * per, (i + 1) * per);
    }
    return split;
  }
}
