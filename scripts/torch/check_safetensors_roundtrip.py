"""safetensors between PyTorch and convkit, both ways, bit for bit.

Run from the repository root (needs /usr/bin/python3 with torch, and node with the repo's
node_modules; no build needed):

    /usr/bin/python3 scripts/torch/check_safetensors_roundtrip.py

1. PyTorch -> convkit -> PyTorch: a seeded state dict (float32 weights, batch norm buffers with
   the int64 num_batches_tracked, odd shapes, a scalar, an empty tensor, metadata) is written in
   the format's reference layout (scripts/torch/safetensors_ref.py; the `safetensors` package
   is not in Debian); convkit reads it and writes it back; the two files must be identical byte
   for byte, and the tensors PyTorch reads back must equal the originals bit for bit.
2. convkit -> PyTorch: convkit writes a model's state dict; PyTorch reads it with the reference
   reader (which checks the layout), loads it into the same architecture with
   load_state_dict(strict=True), and re-serializing that state dict in the reference layout
   gives convkit's bytes exactly.
3. .pth -> convkit: torchvision's ResNet-18 and GoogLeNet (seeded, weights=None) saved by
   torch.save in the zip format and in the legacy one are read by ck.io.loadTorch and written
   back as safetensors; every tensor must equal PyTorch's bit for bit (num_batches_tracked as I64).
4. When the `safetensors` package itself is importable (.ci/run installs it from PyPI into a
   temporary folder when it can), the reference layout of step 1 is checked against it: its
   save_file writes the same bytes as safetensors_ref.serialize, and its load_file reads
   convkit's file to the same tensors.
Exits non-zero on the first difference.
"""
import collections
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import safetensors_ref  # noqa: E402
from tiny_net import TinyNet  # noqa: E402


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    raw = safetensors_ref.RAW[a.element_size()] if a.dtype != torch.bool else torch.uint8
    return torch.equal(a.contiguous().view(raw) if a.dtype != torch.bool else a, b.contiguous().view(raw) if b.dtype != torch.bool else b)


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    torch.manual_seed(5)
    net = TinyNet()
    net.train()
    net.bn(torch.randn(2, 4, 3, 3))
    sd = collections.OrderedDict((k, v.clone()) for k, v in net.state_dict().items())
    sd["extra.odd"] = torch.randn(7, 1, 3)
    sd["extra.scalar"] = torch.tensor(-0.0)
    sd["extra.empty"] = torch.zeros(0, 4)
    sd["extra.specials"] = torch.tensor([float("nan"), float("inf"), -float("inf"), 1e-45, -3.5])
    sd["extra.steps"] = torch.tensor([0, -1, 2**31 - 1, -2**31], dtype=torch.int64)
    metadata = {"format": "pt", "note": "caf\u00e9 \"quoted\"\n"}

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "torch.safetensors")
        back = os.path.join(tmp, "convkit.safetensors")
        model = os.path.join(tmp, "convkit_model.safetensors")
        with open(src, "wb") as f:
            f.write(safetensors_ref.serialize(sd, metadata))
        vite_node = os.path.join(ROOT, "node_modules", ".bin", "vite-node")
        import torchvision  # noqa: E402  (only this part needs it)
        pth_args = []
        pth_dicts = {}
        for arch in ("resnet18", "googlenet"):
            torch.manual_seed(0)
            kw = {"aux_logits": False, "init_weights": True} if arch == "googlenet" else {}
            arch_sd = getattr(torchvision.models, arch)(weights=None, **kw).state_dict()
            for fmt in ("zip", "legacy"):
                pth = os.path.join(tmp, "%s-%s.pth" % (arch, fmt))
                torch.save(arch_sd, pth, _use_new_zipfile_serialization=(fmt == "zip"))
                pth_dicts[pth] = arch_sd
                pth_args += [pth, pth + ".safetensors"]
        subprocess.run([vite_node, os.path.join(HERE, "safetensors-roundtrip.ts"), src, back, model] + pth_args, cwd=ROOT, check=True)

        with open(src, "rb") as f:
            src_bytes = f.read()
        with open(back, "rb") as f:
            back_bytes = f.read()
        if src_bytes != back_bytes:
            fail("convkit's rewrite of a PyTorch-written file differs (%d vs %d bytes)" % (len(back_bytes), len(src_bytes)))
        tensors, meta = safetensors_ref.deserialize(back_bytes)
        if meta != metadata:
            fail("metadata changed: %r" % meta)
        for k, v in sd.items():
            if not same_bits(tensors[k], v):
                fail("tensor %s changed" % k)
        print("ok: PyTorch -> convkit -> PyTorch, %d tensors, %d bytes identical" % (len(sd), len(src_bytes)))

        with open(model, "rb") as f:
            model_bytes = f.read()
        tensors, meta = safetensors_ref.deserialize(model_bytes)
        if meta != {"written_by": "convkit"}:
            fail("metadata of convkit's model file: %r" % meta)
        target = TinyNet()
        target.load_state_dict(tensors, strict=True)
        if target.bn.num_batches_tracked.item() != 1:
            fail("num_batches_tracked is %r, expected 1" % target.bn.num_batches_tracked.item())
        again = safetensors_ref.serialize(target.state_dict(), meta)
        if again != model_bytes:
            fail("PyTorch's reference serialization of the loaded state dict differs from convkit's file")
        print("ok: convkit -> PyTorch, %d tensors loaded with strict=True, reference re-serialization identical (%d bytes)"
              % (len(tensors), len(model_bytes)))

        for pth, want in pth_dicts.items():
            with open(pth + ".safetensors", "rb") as f:
                got, _ = safetensors_ref.deserialize(f.read())
            if sorted(got) != sorted(want):
                fail("%s: convkit read keys %s" % (pth, sorted(set(got) ^ set(want))))
            for k, v in want.items():
                if not same_bits(got[k], v):
                    fail("%s: tensor %s differs" % (pth, k))
            print("ok: %s read by ck.io.loadTorch, %d tensors bit for bit" % (os.path.basename(pth), len(want)))

        check_against_package(sd, model, tmp)


def check_against_package(sd, convkit_file, tmp):
    try:
        import safetensors.torch as st  # noqa: E402
    except ImportError:
        print("note: the safetensors package is not installed; the layout was checked against safetensors_ref.py only")
        return
    # One metadata key: the package writes a map's keys in no fixed order.
    metadata = {"format": "pt"}
    path = os.path.join(tmp, "package.safetensors")
    st.save_file(sd, path, metadata=metadata)
    with open(path, "rb") as f:
        package_bytes = f.read()
    if package_bytes != safetensors_ref.serialize(sd, metadata):
        fail("the safetensors package writes other bytes than safetensors_ref.serialize")
    loaded = st.load_file(convkit_file)
    tensors, _ = safetensors_ref.deserialize(open(convkit_file, "rb").read())
    if sorted(loaded) != sorted(tensors) or not all(same_bits(loaded[k], tensors[k]) for k in tensors):
        fail("the safetensors package reads convkit's file differently")
    print("ok: the safetensors package writes the reference layout's bytes (%d) and reads convkit's file to the same %d tensors"
          % (len(package_bytes), len(loaded)))


if __name__ == "__main__":
    main()
