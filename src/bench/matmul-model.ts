// A one-node ONNX model, C = A @ B with dynamic shapes, encoded by hand (protobuf wire format), so the
// benchmark can measure the plain-matmul peak of a backend without shipping another file.

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const enc = new TextEncoder();
/** Length-delimited field. */
const field = (no: number, bytes: number[] | Uint8Array) => [
  ...varint((no << 3) | 2),
  ...varint(bytes.length),
  ...bytes,
];
const str = (no: number, s: string) => field(no, enc.encode(s));
const int = (no: number, n: number) => [...varint(no << 3), ...varint(n)];

function tensorInput(name: string, dims: string[]): number[] {
  const shape = dims.flatMap((d) => field(1, str(2, d))); // TensorShapeProto.dim { dim_param }
  const tensorType = [...int(1, 1), ...field(2, shape)]; // elem_type FLOAT, shape
  return [...str(1, name), ...field(2, field(1, tensorType))]; // ValueInfoProto { name, type { tensor_type } }
}

export function matmulModel(): Uint8Array {
  const node = [...str(1, 'A'), ...str(1, 'B'), ...str(2, 'C'), ...str(4, 'MatMul')];
  const graph = [
    ...field(1, node),
    ...str(2, 'matmul'),
    ...field(11, tensorInput('A', ['M', 'K'])),
    ...field(11, tensorInput('B', ['K', 'N'])),
    ...field(12, tensorInput('C', ['M', 'N'])),
  ];
  const opset = [...str(1, ''), ...int(2, 17)];
  return Uint8Array.from([...int(1, 8), ...str(2, 'diffusion-demo-bench'), ...field(7, graph), ...field(8, opset)]);
}
