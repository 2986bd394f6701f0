// Types of onnx-batch.mjs (plain JavaScript so that npm's postinstall runs it without a TypeScript loader).
export interface WireField {
  no: number;
  wire: number;
  start: number;
  end: number;
  value: bigint | undefined;
  payload: Uint8Array;
}
export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
}
export interface GraphValue {
  name: string;
  dims: (number | string)[] | undefined;
}
export interface GraphDescription {
  inputs: GraphValue[];
  outputs: GraphValue[];
  valueInfo: number;
  nodes: GraphNode[];
  /** int64 initializers and Constant outputs by name (undefined values: not int64). */
  constants: Map<string, bigint[] | undefined>;
}
export function fields(buf: Uint8Array): WireField[];
export function describe(model: Uint8Array): GraphDescription;
export function batchBlockers(model: Uint8Array): string[];
export function withSymbolicBatch(model: Uint8Array, param?: string): Buffer;
