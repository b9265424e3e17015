/**
 * The weight-file functions at the end of model.py: safetensors read and written in plain
 * Python (the format is an 8-byte header length, a JSON header and little-endian tensors), so
 * that the generated code needs nothing beyond torch; the `safetensors` package is not required.
 */
export const SAFETENSORS_PY = `_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
           "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """{name: tensor} and the metadata dict of a .safetensors file."""
    import json
    import struct
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        raw = bytearray(body[begin:end])
        t = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(info["shape"])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as float32 safetensors (keys sorted, offsets 8-byte aligned), atomically."""
    import json
    import os
    import struct
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", torch.float32).contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


def load_weights(model, path, strict=True):
    """Loads convkit's weights by name (each converted to the dtype the model keeps, e.g. int64 batch counts)."""
    tensors, _ = read_safetensors(path)
    own = model.state_dict()
    for name, value in TORCH_ONLY_KEYS.items():
        tensors.setdefault(name, torch.tensor(value))
    tensors = {k: v.to(own[k].dtype) if k in own else v for k, v in tensors.items()}
    model.load_state_dict(tensors, strict=strict)
    return model


def convkit_state_dict(model):
    """The model's state dict as convkit names it: float32 tensors, without PyTorch-only entries."""
    sd = model.module.state_dict() if hasattr(model, "module") else model.state_dict()
    return {k: v.detach().float().cpu() for k, v in sd.items() if k not in TORCH_ONLY_KEYS}


def save_weights(model, path, metadata=None):
    """Writes the weights as float32 safetensors that convkit loads by the same names."""
    write_safetensors(path, convkit_state_dict(model), metadata)
`;
