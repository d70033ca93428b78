"""How a converted graph stores its weights (export_hf.py --dtype) and computes with them (--compute).

Storage: fp32 as trained; fp16 halves; q8 = 8 bits in blocks along the input (128 values a block where the width
allows, else 32) with a float scale per block; q4 = 4 bits in blocks of 32 along the input, a float scale per block.
Every matrix is rounded in PyTorch first (round_weights), so the reference logits are the stored model's.

Compute, for q8 and q4:
  kernels (default): every MatMul of a stored weight becomes onnxruntime's MatMulNBits (com.microsoft), and the
    embedding lookup gathers the packed rows of the tokens it needs and widens only those. WebGPU's MatMulNBits reads
    the packed bits in its shader; onnxruntime's CPU code (MLAS) has no packed kernel for WASM, so there it widens
    the weight for each call, into a buffer it frees: a weight wider than CHUNK_BYTES as float32 (a large vocabulary's
    head) runs as slices of its outputs. (A weight used any other way falls back to `rebuild`.)
  rebuild: standard ONNX operators (Cast, Mul; integer unpacking for 4 bits) turn each stored weight back into a
    float32 matrix at every pass: any backend runs it, at the cost of that rebuild (the bench compares both).
For fp16:
  rebuild (default): one Cast per weight widens it to float32 at every pass.
  fp16: the matrix products computed in float16 (WebGPU on an adapter with shader-f16): each MatMul reads its
    float16 weight as stored, its input cast to float16 once and its output cast back to float32; a lookup gathers
    float16 rows and widens only those. Norms, attention scores and softmax, RoPE and the residual stream stay
    float32. A tied head reads the embedding's one float16 copy through Gemm (transB), so it is stored once.

Layouts (MatMulNBits' own): for a weight W of N outputs by K inputs, B is uint8 [N, K / block, block * bits / 8]
(4 bits: two values a byte, the lower nibble first), scales float32 [N, K / block], no zero points (the kernel's
default: 2^(bits - 1), so the stored value is q + 8 for 4 bits, q + 128 for 8 bits, q symmetric around 0).
"""
from __future__ import annotations

import hashlib
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

DTYPES = ("fp32", "fp16", "q8", "q4")
COMPUTES = ("kernels", "rebuild", "fp16")
Q4_BLOCK = 32
Q8_BLOCK = 128
BITS = {"q4": 4, "q8": 8}
TWO_GB = 2 * 1024**3
CHUNK_BYTES = 64 * 1024**2  # the widest weight MatMulNBits widens at once where it has no packed kernel
MS = "com.microsoft"


def block_of(dtype: str, cols: int) -> int:
    if dtype == "q4":
        if cols % Q4_BLOCK:
            raise ValueError(f"q4 needs widths that are multiples of {Q4_BLOCK}; a weight has {cols} inputs")
        return Q4_BLOCK
    if cols % Q4_BLOCK:
        raise ValueError(f"q8 needs widths that are multiples of {Q4_BLOCK}; a weight has {cols} inputs")
    return Q8_BLOCK if cols % Q8_BLOCK == 0 else Q4_BLOCK


def quantize(w: torch.Tensor, dtype: str) -> dict:
    """One (rows, cols) weight -> its stored form and the float32 values the graph will compute with."""
    if dtype == "fp32":
        return {"stored": w, "values": w}
    if dtype == "fp16":
        half = w.to(torch.float16)
        return {"stored": half, "values": half.to(torch.float32)}
    if dtype in BITS:
        rows, cols = w.shape
        block = block_of(dtype, cols)
        top = 2 ** (BITS[dtype] - 1) - 1  # 7 or 127: symmetric, the lowest code unused
        blocks = w.reshape(rows, cols // block, block)
        scale = (blocks.abs().amax(dim=2, keepdim=True) / top).clamp_min(1e-12)
        q = torch.round(blocks / scale).clamp(-top, top).to(torch.int32)
        return {"q": q, "scale": scale, "block": block, "values": (q.to(torch.float32) * scale).reshape(rows, cols)}
    raise ValueError(dtype)


def round_weights(model: torch.nn.Module, dtype: str) -> dict[str, dict]:
    """Replaces every matrix of `model` by its stored values; returns name -> stored form."""
    stored = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 2:
                stored[name] = quantize(p.data, dtype)
                if dtype != "fp32":
                    p.data.copy_(stored[name]["values"])
    return stored


def packed(form: dict, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """MatMulNBits' B (uint8 [N, K / block, block * bits / 8]) and scales (float32 [N, K / block])."""
    q = form["q"]  # (N, K / block, block), symmetric
    if dtype == "q8":
        b = (q + 128).to(torch.uint8).numpy()
    else:
        u = (q + 8).to(torch.uint8).numpy()
        b = (u[..., 0::2] | (u[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(b), form["scale"][..., 0].numpy().astype(np.float32)


# ---- rebuild: the stored weight back to float32 with standard operators ----

def unpack_nodes(b: str, n: str, dtype: str, target: list[int], add) -> list:
    """Packed codes `b` (uint8 [..., blocks, bytes]) -> their signed values as float32 `n + "qs"`, reshaped to
    `target` ([..., blocks, block]; 0 keeps an axis of the input). Integer Div/Mul/Sub unpack 4 bits (opset 13)."""
    if dtype == "q8":
        add(np.array(128, dtype=np.float32), "128")
        return [helper.make_node("Cast", [b], [n + "qf"], to=TensorProto.FLOAT),
                helper.make_node("Sub", [n + "qf", n + "128"], [n + "qs"])]
    add(np.array(16, dtype=np.int32), "16")
    add(np.array(8, dtype=np.float32), "8")
    add(np.array([-1], dtype=np.int64), "last")
    add(np.array(target, dtype=np.int64), "target")
    return [
        helper.make_node("Cast", [b], [n + "p"], to=TensorProto.INT32),
        helper.make_node("Div", [n + "p", n + "16"], [n + "hi"]),
        helper.make_node("Mul", [n + "hi", n + "16"], [n + "hi16"]),
        helper.make_node("Sub", [n + "p", n + "hi16"], [n + "lo"]),
        helper.make_node("Unsqueeze", [n + "lo", n + "last"], [n + "lo1"]),
        helper.make_node("Unsqueeze", [n + "hi", n + "last"], [n + "hi1"]),
        helper.make_node("Concat", [n + "lo1", n + "hi1"], [n + "pairs"], axis=-1),
        helper.make_node("Reshape", [n + "pairs", n + "target"], [n + "qb"]),
        helper.make_node("Cast", [n + "qb"], [n + "qf"], to=TensorProto.FLOAT),
        helper.make_node("Sub", [n + "qf", n + "8"], [n + "qs"]),
    ]


def rebuild_nodes(form: dict, shape: tuple, out: str, inits: list, dtype: str) -> list:
    """The stored form of one weight as initializers (appended to `inits`) and the nodes that rebuild it as `out`."""
    rows, cols = shape
    n = out + "."
    add = lambda array, name: inits.append(numpy_helper.from_array(array, n + name))  # noqa: E731
    if dtype == "fp32":
        inits.append(numpy_helper.from_array(form["stored"].numpy(), out))
        return []
    if dtype == "fp16":
        add(form["stored"].numpy(), "fp16")
        return [helper.make_node("Cast", [n + "fp16"], [out], to=TensorProto.FLOAT)]
    b, scale = packed(form, dtype)
    add(b, "b")
    add(scale[..., None], "scale")
    add(np.array([rows, cols], dtype=np.int64), "shape")
    return unpack_nodes(n + "b", n, dtype, [rows, cols // form["block"], form["block"]], add) + [
        helper.make_node("Mul", [n + "qs", n + "scale"], [n + "wb"]),
        helper.make_node("Reshape", [n + "wb", n + "shape"], [out]),
    ]


# ---- kernels: MatMulNBits, and an embedding lookup of the packed rows ----

def nbits_node(a: str, b: str, scales: str, out: str, rows: int, cols: int, block: int, dtype: str):
    return helper.make_node("MatMulNBits", [a, b, scales], [out], domain=MS, K=cols, N=rows, bits=BITS[dtype],
                            block_size=block)


def matmul_nbits_nodes(node: onnx.NodeProto, b: str, scales: str, shape: tuple, block: int, dtype: str,
                       inits: list, chunk_bytes: int = CHUNK_BYTES) -> list:
    """MatMul(A, W^T) as MatMulNBits(A, B, scales), writing the MatMul's output. A product whose weight is wider than
    CHUNK_BYTES as float32 (a 151,936-token head: 622 MB) runs in slices of its outputs, concatenated: where the
    runtime has no kernel for packed bits (WASM), MatMulNBits widens its whole weight for each call, so a slice at a
    time keeps that to CHUNK_BYTES (measured on Qwen3-0.6B's shape: README)."""
    rows, cols = shape
    a, out = node.input[0], node.output[0]
    chunks = -(-rows * cols * 4 // chunk_bytes)
    if chunks <= 1:
        return [nbits_node(a, b, scales, out, rows, cols, block, dtype)]
    step = -(-rows // chunks)
    n = out + ".nbits."
    nodes, parts = [], []
    inits.append(numpy_helper.from_array(np.array([0], dtype=np.int64), n + "axis"))
    for i, start in enumerate(range(0, rows, step)):
        end = min(rows, start + step)
        inits.append(numpy_helper.from_array(np.array([start], dtype=np.int64), f"{n}{i}.start"))
        inits.append(numpy_helper.from_array(np.array([end], dtype=np.int64), f"{n}{i}.end"))
        for what, source in (("b", b), ("scales", scales)):
            nodes.append(helper.make_node("Slice", [source, f"{n}{i}.start", f"{n}{i}.end", n + "axis"],
                                          [f"{n}{i}.{what}"]))
        nodes.append(nbits_node(a, f"{n}{i}.b", f"{n}{i}.scales", f"{n}{i}.y", end - start, cols, block, dtype))
        parts.append(f"{n}{i}.y")
    return nodes + [helper.make_node("Concat", parts, [out], axis=-1)]


def packed_gather_nodes(node: onnx.NodeProto, b: str, scales: str, shape: tuple, block: int, dtype: str,
                        inits: list) -> list:
    """Gather(W, ids) over 2-D ids -> the packed rows of `ids` and their scales, widened to float32 [.., .., cols]:
    only the rows looked up are ever unpacked."""
    rows, cols = shape
    ids, out = node.input[1], node.output[0]
    n = out + ".q."
    add = lambda array, name: inits.append(numpy_helper.from_array(array, n + name))  # noqa: E731
    add(np.array([-1], dtype=np.int64), "tail")
    add(np.array([0, 0, cols], dtype=np.int64), "row")
    return [
        helper.make_node("Gather", [b, ids], [n + "b"], axis=0),
        *unpack_nodes(n + "b", n, dtype, [0, 0, cols // block, block], add),
        helper.make_node("Gather", [scales, ids], [n + "s"], axis=0),
        helper.make_node("Unsqueeze", [n + "s", n + "tail"], [n + "s1"]),
        helper.make_node("Mul", [n + "qs", n + "s1"], [n + "w"]),
        helper.make_node("Reshape", [n + "w", n + "row"], [out]),
    ]


def kernel_uses(consumers: dict[str, list[tuple[onnx.NodeProto, int]]], name: str,
                transposed: bool) -> list[onnx.NodeProto] | None:
    """The nodes reading initializer `name` (`consumers`: input name -> (node, input index), for the whole graph),
    when the kernels can take all of them: MatMuls reading it as their weight (W^T), or Gathers along axis 0 over
    2-D ids (W itself); None otherwise."""
    uses = consumers.get(name, [])
    if not uses:
        return None
    if transposed and all(node.op_type == "MatMul" and i == 1 for node, i in uses):
        return [node for node, _ in uses]
    axis = lambda node: next((a.i for a in node.attribute if a.name == "axis"), 0)  # noqa: E731
    if not transposed and all(node.op_type == "Gather" and i == 0 and axis(node) == 0 for node, i in uses):
        return [node for node, _ in uses]
    return None


# ---- fp16: the products in float16 ----

def half_cast(name: str, halves: dict[str, str]) -> list:
    """`name` as float16: one Cast per tensor however many products read it (`halves` remembers them)."""
    if name in halves:
        return []
    halves[name] = name + ".fp16"
    return [helper.make_node("Cast", [name], [halves[name]], to=TensorProto.FLOAT16)]


def half_matmul_nodes(node: onnx.NodeProto, weight: str, shape: tuple, rows_first: bool, inits: list,
                      halves: dict[str, str]) -> list:
    """MatMul(A, W^T) computed in float16 for W of `shape` (N, K), writing the MatMul's float32 output. `weight` is
    the float16 W^T [K, N] read by a MatMul, or (`rows_first`: a tied head whose rows the embedding also looks up)
    W [N, K] read by Gemm with transB over A flattened to 2-D and shaped back."""
    rows, cols = shape
    a, out = node.input[0], node.output[0]
    n = out + ".h."
    nodes = half_cast(a, halves)
    if not rows_first:
        return nodes + [helper.make_node("MatMul", [halves[a], weight], [n + "y"]),
                        helper.make_node("Cast", [n + "y"], [out], to=TensorProto.FLOAT)]
    add = lambda array, name: inits.append(numpy_helper.from_array(array, n + name))  # noqa: E731
    add(np.array([-1, cols], dtype=np.int64), "flat")
    add(np.array([0], dtype=np.int64), "zero")
    add(np.array([-1], dtype=np.int64), "last")
    add(np.array([rows], dtype=np.int64), "width")
    return nodes + [
        helper.make_node("Reshape", [halves[a], n + "flat"], [n + "a2"]),
        helper.make_node("Gemm", [n + "a2", weight], [n + "y2"], transB=1),
        helper.make_node("Shape", [a], [n + "shape"]),
        helper.make_node("Slice", [n + "shape", n + "zero", n + "last"], [n + "lead"]),
        helper.make_node("Concat", [n + "lead", n + "width"], [n + "outshape"], axis=0),
        helper.make_node("Reshape", [n + "y2", n + "outshape"], [n + "y"]),
        helper.make_node("Cast", [n + "y"], [out], to=TensorProto.FLOAT),
    ]


def half_gather_nodes(node: onnx.NodeProto, weight: str) -> list:
    """Gather(W, ids) from the float16 table: only the rows looked up are widened to float32."""
    out = node.output[0]
    return [helper.make_node("Gather", [weight, node.input[1]], [out + ".h"], axis=0),
            helper.make_node("Cast", [out + ".h"], [out], to=TensorProto.FLOAT)]


# ---- the graph ----

def fingerprint(a: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(a, dtype=np.float32).tobytes()).hexdigest() + str(a.shape)


def compress_graph(proto: onnx.ModelProto, model: torch.nn.Module, stored: dict[str, dict], dtype: str,
                   compute: str = "kernels", chunk_bytes: int = CHUNK_BYTES) -> dict[str, int]:
    """Swaps each float32 weight initializer (a parameter, or its transpose: torch.onnx stores MatMul weights as
    (in, out)) for its stored form: read by the kernels where they apply (q8, q4 with compute "kernels"), else with
    the few nodes that rebuild it at run time. A weight held twice (a tied head beside the embedding) is stored
    once. Returns how many initializers each way took."""
    params = dict(model.named_parameters())
    by_print = {}
    for name in stored:
        w = params[name].detach().numpy()
        by_print[fingerprint(w)] = (name, False)
        by_print[fingerprint(w.T)] = (name, True)
    graph = proto.graph
    consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = {}
    for node in graph.node:
        for i, x in enumerate(node.input):
            consumers.setdefault(x, []).append((node, i))
    keep, nodes, rebuilt, packs, replaced = [], [], set(), {}, {}
    counts = {"kernels": 0, "rebuilt": 0}
    hits = []
    for init in list(graph.initializer):
        hit = None
        if init.data_type == TensorProto.FLOAT and len(init.dims) == 2:
            hit = by_print.get(fingerprint(numpy_helper.to_array(init)))
        if hit is None:
            keep.append(init)
        else:
            hits.append((init, *hit))
    kernels = (dtype in BITS and compute == "kernels") or (dtype == "fp16" and compute == "fp16")
    uses_of = {init.name: kernel_uses(consumers, init.name, transposed) if kernels else None
               for init, _, transposed in hits}
    # fp16 products: a parameter whose rows are also looked up (a tied head) is stored as W once, for both
    gathered = {name for init, name, transposed in hits if not transposed and uses_of[init.name] is not None}
    halves, half_inputs = {}, {}
    for init, name, transposed in hits:
        form, shape, out = stored[name], tuple(params[name].shape), init.name
        uses = uses_of[out]
        if uses is not None and dtype == "fp16":
            if name not in halves:
                w = form["stored"].numpy()  # (N, K) float16
                halves[name] = "h." + name
                keep.append(numpy_helper.from_array(np.ascontiguousarray(w if name in gathered else w.T), halves[name]))
            for node in uses:
                replaced[node.output[0]] = (
                    half_matmul_nodes(node, halves[name], shape, name in gathered, keep, half_inputs)
                    if node.op_type == "MatMul" else half_gather_nodes(node, halves[name]))
            counts["kernels"] += 1
            continue
        if uses is not None:
            if name not in packs:  # one packed copy per parameter, for its MatMuls and its lookups alike
                b, scale = packed(form, dtype)
                packs[name] = ("q." + name + ".b", "q." + name + ".scales")
                keep += [numpy_helper.from_array(b, packs[name][0]), numpy_helper.from_array(scale, packs[name][1])]
            for node in uses:
                # the new nodes take the old node's place in the order and write its output
                if node.op_type == "MatMul":
                    replaced[node.output[0]] = matmul_nbits_nodes(node, *packs[name], shape, form["block"], dtype, keep,
                                                                  chunk_bytes)
                else:
                    replaced[node.output[0]] = packed_gather_nodes(node, *packs[name], shape, form["block"], dtype, keep)
            counts["kernels"] += 1
            continue
        counts["rebuilt"] += 1
        target = "w." + name  # the parameter's orientation, rebuilt once however many initializers hold it
        if name not in rebuilt:
            nodes += rebuild_nodes(form, shape, target, keep, dtype)
            rebuilt.add(name)
        nodes.append(helper.make_node("Transpose", [target], [out], perm=[1, 0]) if transposed
                     else helper.make_node("Identity", [target], [out]))
    if not set(stored) <= rebuilt | set(packs) | set(halves):
        raise RuntimeError(f"rounded weights not found among the graph's initializers: "
                           f"{sorted(set(stored) - rebuilt - set(packs) - set(halves))}")
    del graph.initializer[:]
    graph.initializer.extend(keep)
    order = []
    for node in graph.node:
        order += replaced.get(node.output[0], [node]) if node.op_type in ("Gather", "MatMul") else [node]
    del graph.node[:]
    graph.node.extend(nodes + order)
    if packs:
        graph_opsets = {o.domain for o in proto.opset_import}
        if MS not in graph_opsets:
            proto.opset_import.append(helper.make_opsetid(MS, 1))
    return counts


def finish_graph(path: str, model: torch.nn.Module, stored: dict, dtype: str, external: str,
                 compute: str = "kernels", chunk_bytes: int = CHUNK_BYTES) -> dict[str, int]:
    """Compress the weights of an exported graph and save it whole, or with its weights in one external file."""
    proto = onnx.load(path)  # loads any external data torch.onnx wrote beside it
    counts = compress_graph(proto, model, stored, dtype, compute, chunk_bytes)
    size = sum(len(i.raw_data) or numpy_helper.to_array(i).nbytes for i in proto.graph.initializer)
    for leftover in os.listdir(os.path.dirname(path)):
        full = os.path.join(os.path.dirname(path), leftover)
        if full != path and not leftover.endswith(".onnx"):
            os.remove(full)  # torch.onnx's one-file-per-tensor external data, now inside `proto`
    if external == "always" or (external == "auto" and size > TWO_GB - 64 * 1024**2):
        location = os.path.basename(path) + "_data"
        # small tensors (shapes, axes: shape inference reads them when the session is made) stay in the graph
        onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location=location,
                        size_threshold=1024)
        onnx.checker.check_model(path)
    else:
        onnx.save_model(proto, path)
        onnx.checker.check_model(proto)
    return counts
