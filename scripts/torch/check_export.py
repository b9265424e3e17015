"""PyTorch's half of scripts/torch/check-export.ts: for each folder written by convkit's
`export --format pytorch` (model.py, weights.safetensors) plus check.safetensors (a random
input batch and convkit's output on it), build the model, load the weights by name with
strict=True, run it in eval mode and compare:

    |torch - convkit| <= 1e-5 * max(1, max |convkit|)

One JSON line per model; the exit status is 1 when any differs.
"""
import importlib.util
import json
import os
import sys

import torch

TOLERANCE = 1e-5


def check(folder):
    spec = importlib.util.spec_from_file_location(f"exported_{os.path.basename(folder).replace('-', '_')}", os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    module.load_weights(model, os.path.join(folder, "weights.safetensors"))  # strict=True
    model.eval()
    tensors, _ = module.read_safetensors(os.path.join(folder, "check.safetensors"))
    with torch.no_grad():
        out = model(tensors["input"])
    want = tensors["output"]
    if tuple(out.shape) != tuple(want.shape):
        return {"model": os.path.basename(folder), "ok": False, "error": f"shape {tuple(out.shape)} != convkit's {tuple(want.shape)}"}
    diff = (out - want).abs().max().item()
    scale = max(1.0, want.abs().max().item())
    params = sum(p.numel() for p in model.parameters())
    return {"model": os.path.basename(folder), "ok": diff <= TOLERANCE * scale, "max_abs_diff": diff, "scale": scale, "parameters": params}


def main():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    failed = False
    for folder in sys.argv[1:]:
        try:
            result = check(folder)
        except Exception as e:  # a model.py that does not load is a failure to report, not a crash
            result = {"model": os.path.basename(folder), "ok": False, "error": f"{type(e).__name__}: {e}"}
        failed |= not result["ok"]
        print(json.dumps(result), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
