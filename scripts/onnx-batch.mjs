// Rewrites an ONNX model's fixed batch dimension (1) to a symbolic one, byte for byte elsewhere (protobuf wire format).
// Used by fetch-models.mjs at set-up; the checks that make the rewrite safe for a graph live in batchBlockers().

// Field numbers from onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto…).
const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12, valueInfo: 13 };
const NODE = { input: 1, output: 2, opType: 4, attribute: 5 };
const ATTR = { name: 1, t: 5 };
const TENSOR = { dims: 1, dataType: 2, int64Data: 7, name: 8, rawData: 9 };
const VALUE_INFO = { name: 1, type: 2 };
const TYPE_TENSOR = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM = { value: 1, param: 2 };
const INT64 = 7;

function readVarint(buf, pos) {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('onnx: truncated varint');
    const b = buf[pos++];
    value |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [value, pos];
    shift += 7n;
  }
}

function encodeVarint(n) {
  const out = [];
  let v = BigInt.asUintN(64, BigInt(n));
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

/** Top-level fields of one message: number, wire type, the whole field's byte range and its payload. */
export function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, p] = readVarint(buf, pos);
    pos = p;
    const no = Number(tag >> 3n), wire = Number(tag & 7n);
    let payloadStart = pos, value;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      payloadStart = q;
      pos = q + Number(len);
    } else throw new Error(`onnx: unsupported wire type ${wire} at byte ${start}`);
    if (pos > buf.length) throw new Error(`onnx: field ${no} at byte ${start} runs past the end`);
    out.push({ no, wire, start, end: pos, value, payload: buf.subarray(payloadStart, pos) });
  }
  return out;
}

const text = (f) => Buffer.from(f.payload).toString('utf8');
const lenField = (no, payload) => Buffer.concat([encodeVarint((no << 3) | 2), encodeVarint(payload.length), payload]);

/** Copies a message, replacing the payload of the length-delimited fields for which `edit` returns a Buffer. */
function mapMessage(buf, edit) {
  const parts = [];
  for (const f of fields(buf)) {
    const replaced = f.wire === 2 ? edit(f) : undefined;
    parts.push(replaced === undefined ? buf.subarray(f.start, f.end) : lenField(f.no, replaced));
  }
  return Buffer.concat(parts);
}

function packedOrPlain(fs, no) {
  const values = [];
  for (const f of fs.filter((x) => x.no === no)) {
    if (f.wire === 0) values.push(BigInt.asIntN(64, f.value));
    else for (let p = 0; p < f.payload.length; ) {
      const [v, q] = readVarint(f.payload, p);
      values.push(BigInt.asIntN(64, v));
      p = q;
    }
  }
  return values;
}

/** An int64 tensor's values (raw_data or int64_data), or undefined for other types. */
function int64Values(tensor) {
  const fs = fields(tensor);
  if (Number(fs.find((f) => f.no === TENSOR.dataType)?.value ?? 0) !== INT64) return undefined;
  const raw = fs.find((f) => f.no === TENSOR.rawData);
  if (raw) {
    const b = Buffer.from(raw.payload);
    return Array.from({ length: b.length / 8 }, (_, i) => b.readBigInt64LE(i * 8));
  }
  return packedOrPlain(fs, TENSOR.int64Data);
}

/** Dimensions of a ValueInfoProto's tensor type: numbers, parameter names, or '?' when unset. */
function valueDims(valueInfo) {
  const type = fields(valueInfo).find((f) => f.no === VALUE_INFO.type);
  const tensorType = type && fields(type.payload).find((f) => f.no === TYPE_TENSOR);
  const shape = tensorType && fields(tensorType.payload).find((f) => f.no === TENSOR_TYPE_SHAPE);
  if (!shape) return undefined;
  return fields(shape.payload)
    .filter((f) => f.no === SHAPE_DIM)
    .map((d) => {
      const x = fields(d.payload)[0];
      return !x ? '?' : x.no === DIM.value ? Number(x.value) : text(x);
    });
}

/** What the graph holds, read once: graph inputs / outputs with their dims, nodes, constant int64 tensors. */
export function describe(model) {
  const graphField = fields(model).find((f) => f.no === MODEL_GRAPH);
  if (!graphField) throw new Error('onnx: no graph');
  const graph = fields(graphField.payload);
  const constants = new Map();
  for (const f of graph.filter((x) => x.no === GRAPH.initializer)) {
    const name = fields(f.payload).find((x) => x.no === TENSOR.name);
    if (name) constants.set(text(name), int64Values(f.payload));
  }
  const nodes = graph
    .filter((f) => f.no === GRAPH.node)
    .map((f) => {
      const fs = fields(f.payload);
      const node = {
        op: text(fs.find((x) => x.no === NODE.opType)),
        inputs: fs.filter((x) => x.no === NODE.input).map(text),
        outputs: fs.filter((x) => x.no === NODE.output).map(text),
      };
      if (node.op === 'Constant') {
        for (const a of fs.filter((x) => x.no === NODE.attribute)) {
          const af = fields(a.payload);
          const t = af.find((x) => x.no === ATTR.t);
          if (text(af.find((x) => x.no === ATTR.name)) === 'value' && t) constants.set(node.outputs[0], int64Values(t.payload));
        }
      }
      return node;
    });
  const io = (no) =>
    graph
      .filter((f) => f.no === no)
      .map((f) => ({ name: text(fields(f.payload).find((x) => x.no === VALUE_INFO.name)), dims: valueDims(f.payload) }))
      .filter((v) => !constants.has(v.name));
  return { inputs: io(GRAPH.input), outputs: io(GRAPH.output), valueInfo: graph.filter((f) => f.no === GRAPH.valueInfo).length, nodes, constants };
}

/** Ops whose constant shape/size inputs could pin the batch to 1; the rewrite handles Reshape's leading 1 only. */
const SHAPE_OPS = new Set(['Reshape', 'Expand', 'Tile', 'ConstantOfShape', 'Resize', 'Upsample']);

/**
 * Why a batch-1 graph would not compute item-wise with a symbolic batch, as messages (empty: safe to rewrite).
 * Checked: one input and every output lead with batch 1; no intermediate shapes are stored; no shape op takes a
 * constant shape, except a Reshape whose constant shape leads with 0 (copies the batch) or with 1, which the
 * rewrite turns into 0. Shapes computed at run time (Shape → Gather → Concat) follow the batch by themselves.
 */
export function batchBlockers(model) {
  const g = describe(model);
  const problems = [];
  if (g.inputs.length !== 1) problems.push(`expected one graph input, found ${g.inputs.length}`);
  for (const v of [...g.inputs, ...g.outputs]) {
    if (!v.dims || v.dims[0] !== 1) problems.push(`${v.name}: leading dim is ${v.dims?.[0] ?? 'unknown'}, not 1`);
  }
  if (g.valueInfo > 0) problems.push(`${g.valueInfo} stored intermediate shapes (value_info) would pin the batch`);
  for (const n of g.nodes.filter((x) => SHAPE_OPS.has(x.op))) {
    for (const input of n.inputs.slice(1)) {
      if (!g.constants.has(input)) continue; // computed at run time from Shape(x): follows the batch
      const values = g.constants.get(input);
      if (n.op === 'Reshape' && values && values.length >= 2 && values[0] === 1n) continue; // rewritten to 0
      if (n.op === 'Reshape' && values && values[0] === 0n) continue;
      problems.push(`${n.op} → ${n.outputs[0]} has a constant shape input ${input} = [${values?.join(', ') ?? '?'}]`);
    }
  }
  return problems;
}

function symbolicLeadingDim(valueInfo, param) {
  return mapMessage(valueInfo, (f) =>
    f.no !== VALUE_INFO.type
      ? undefined
      : mapMessage(f.payload, (t) =>
          t.no !== TYPE_TENSOR
            ? undefined
            : mapMessage(t.payload, (s) => {
                if (s.no !== TENSOR_TYPE_SHAPE) return undefined;
                let first = true;
                return mapMessage(s.payload, (d) => {
                  if (d.no !== SHAPE_DIM || !first) return undefined;
                  first = false;
                  return lenField(DIM.param, Buffer.from(param, 'utf8'));
                });
              }),
        ),
  );
}

/** The tensor with its int64 values' leading 1 replaced by 0 (same length, so patched in place). */
function zeroLeadingOne(tensor) {
  const out = Buffer.from(tensor);
  const fs = fields(out);
  const raw = fs.find((f) => f.no === TENSOR.rawData);
  if (raw) {
    out.writeBigInt64LE(0n, raw.payload.byteOffset - out.byteOffset);
    return out;
  }
  const data = fs.find((f) => f.no === TENSOR.int64Data);
  if (!data) throw new Error('onnx: shape tensor without data');
  const at = data.wire === 0 ? data.end - 1 : data.payload.byteOffset - out.byteOffset; // the varint 0x01
  if (out[at] !== 1) throw new Error('onnx: unexpected shape encoding');
  out[at] = 0;
  return out;
}

/** The model with a symbolic leading dim `param` on its input and outputs, and Reshape-to-[1,…] made [0,…]. */
export function withSymbolicBatch(model, param = 'N') {
  const problems = batchBlockers(model);
  if (problems.length > 0) throw new Error(`onnx: batch dim cannot be made symbolic: ${problems.join('; ')}`);
  const g = describe(model);
  const reshapeShapes = new Set(
    g.nodes.filter((n) => n.op === 'Reshape' && g.constants.get(n.inputs[1])?.[0] === 1n).map((n) => n.inputs[1]),
  );
  const ioNames = new Set([...g.inputs, ...g.outputs].map((v) => v.name));
  const nameOf = (payload, no) => {
    const f = fields(payload).find((x) => x.no === no);
    return f ? text(f) : undefined;
  };
  return mapMessage(model, (m) =>
    m.no !== MODEL_GRAPH
      ? undefined
      : mapMessage(m.payload, (f) => {
          if ((f.no === GRAPH.input || f.no === GRAPH.output) && ioNames.has(nameOf(f.payload, VALUE_INFO.name))) {
            return symbolicLeadingDim(f.payload, param);
          }
          if (f.no === GRAPH.initializer && reshapeShapes.has(nameOf(f.payload, TENSOR.name))) return zeroLeadingOne(f.payload);
          if (f.no === GRAPH.node) {
            const fs = fields(f.payload);
            if (text(fs.find((x) => x.no === NODE.opType)) !== 'Constant' || !reshapeShapes.has(text(fs.find((x) => x.no === NODE.output)))) return undefined;
            return mapMessage(f.payload, (a) =>
              a.no !== NODE.attribute ? undefined : mapMessage(a.payload, (t) => (t.no === ATTR.t ? zeroLeadingOne(t.payload) : undefined)),
            );
          }
          return undefined;
        }),
  );
}
