"""The safetensors format's reference layout, written out in Python for PyTorch 1.13.

The `safetensors` package (the Rust crate behind `safetensors.torch.save_file`) is not part of
Debian's python3-torch, so this module writes and reads the layout by hand, following the
reference serializer rule for rule:

- 8-byte little-endian header length, then the JSON header, padded with spaces to a multiple
  of 8 bytes, then the tensors' little-endian bytes;
- header: compact JSON (no spaces), `__metadata__` first (a string map; absent when there is
  none), then one entry per tensor `{"dtype", "shape", "data_offsets": [begin, end]}`;
- tensors ordered by dtype alignment, largest first (the crate's Dtype enum order, descending),
  then by name (UTF-8 bytes), and packed in that order with no gaps.

The crate keeps metadata in a hash map (its key order is arbitrary); this module, like convkit,
sorts the keys. The reader applies the reference checks: header length within the file,
valid UTF-8 JSON object, known dtypes, byte sizes that match the shapes, and tensors that tile
the data section exactly.
"""
import json
import struct

import torch

DTYPES = {
    torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16",
    torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32", torch.float32: "F32",
    torch.float64: "F64", torch.int64: "I64",
}
TORCH_DTYPES = {v: k for k, v in DTYPES.items()}
SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4,
         "F32": 4, "F64": 8, "I64": 8, "U64": 8}
# The reference crate's Dtype enum, in declaration order (the writer sorts by it, descending).
RANK = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32",
        "F32", "F64", "I64", "U64"]
# Same-size integer types, to reach the raw bytes of any dtype through numpy.
RAW = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.numel() == 0:
        return b""
    size = t.element_size()
    if t.dtype == torch.bool:
        return t.to(torch.uint8).numpy().astype("<u1").tobytes()
    return t.view(RAW[size]).numpy().astype("<i%d" % size if size > 1 else "<u1").tobytes()


def serialize(tensors, metadata=None):
    items = []
    for name, t in tensors.items():
        if t.dtype not in DTYPES:
            raise ValueError("unsupported dtype %s for %s" % (t.dtype, name))
        items.append((name, t, DTYPES[t.dtype]))
    items.sort(key=lambda it: (-RANK.index(it[2]), it[0].encode("utf-8")))
    header = {}
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=lambda k: k.encode("utf-8"))}
    payload = []
    offset = 0
    for name, t, dtype in items:
        b = tensor_bytes(t)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        payload.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(payload)


def deserialize(data):
    """Returns (tensors in file order, metadata); raises ValueError on any departure from the layout."""
    if len(data) < 8:
        raise ValueError("shorter than the header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > 100_000_000 or 8 + n > len(data):
        raise ValueError("header length %d out of range" % n)
    text = data[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with '{'")
    header = json.loads(text)
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("metadata values must be strings")
    body = data[8 + n:]
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    at = 0
    out = {}
    for name, info in entries:
        dtype, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        numel = 1
        for d in shape:
            numel *= d
        if b != at or e - b != numel * SIZES[dtype]:
            raise ValueError("tensor %s: bad data_offsets %r" % (name, info["data_offsets"]))
        at = e
        td = TORCH_DTYPES[dtype]
        if numel == 0:
            out[name] = torch.empty(shape, dtype=td)
        else:
            raw = torch.frombuffer(bytearray(body[b:e]), dtype=RAW[SIZES[dtype]] if td != torch.bool else torch.uint8)
            out[name] = (raw.to(torch.bool) if td == torch.bool else raw.view(td)).reshape(shape)
    if at != len(body):
        raise ValueError("the tensors do not cover the data section")
    return out, metadata
