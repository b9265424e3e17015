#!/usr/bin/env bash
# The one prepared script for a lent GPU machine (the `device` tool: an H100, Vulkan, no network,
# perhaps no Node): the webgpu bench (bench/webgpu.ts, full sizes) and its TensorFlow.js WebGPU
# peer, results to $OUT. Two steps, because that machine can fetch nothing and the working tree
# that travels is at most 64 MiB (node_modules and the peers' folder are far over it):
#
#   1. here, in the checkout the device tool sends (the session's own), with network:
#        bash bench/webgpu-device.sh pack        # about a minute; needs node_modules and $PEERS (/tmp/peers)
#      It fills .gpu-bench/ (ignored through .git/info/exclude): the bench bundled by esbuild into one
#      file, the `webgpu` package's Linux x64 Dawn, TensorFlow.js + tfjs-backend-webgpu bundled, the
#      Vulkan/EGL loader .debs, and Node itself (xz) for a machine without one; and prints its size.
#   2. the device call (one run, timeout_s 600; the bench stops itself well inside 9 minutes):
#        carry: [".gpu-bench"]
#        command: bash bench/webgpu-device.sh run
#      (`run --quick --only gemm4096,lenet5` tries the packed bench on a software adapter.)
#      Writes $OUT/webgpu-bench.log, the JSON record and $OUT/gpu.txt (nvidia-smi, vulkaninfo lines).
set -uo pipefail
cd "$(dirname "$0")/.."
PACK=.gpu-bench

pack() {
  set -e
  local peers=${PEERS:-/tmp/peers}
  local esbuild=node_modules/.bin/esbuild
  [ -x "$esbuild" ] || { echo "pack needs node_modules (esbuild)"; exit 1; }
  [ -d "$peers/node_modules/@tensorflow/tfjs-backend-webgpu" ] || { echo "pack needs $peers/node_modules/@tensorflow/tfjs-backend-webgpu (bench/peers/README.md)"; exit 1; }
  local exclude; exclude=$(git rev-parse --git-path info/exclude)
  grep -qx "/$PACK/" "$exclude" 2>/dev/null || echo "/$PACK/" >>"$exclude"
  rm -rf "$PACK" && mkdir -p "$PACK/peers" "$PACK/debs" "$PACK/node_modules/webgpu/dist/linux-x64"
  # The bench, one file; it reads the suite's JSON files beside itself and finds the repository one folder up.
  "$esbuild" bench/run.ts --bundle --platform=node --format=esm --target=node18 --external:webgpu --log-level=error \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" --outfile="$PACK/bench.mjs"
  cp bench/workloads.json bench/webgpu-workloads.json "$PACK/" && cp bench/peers/params.json "$PACK/peers/"
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$PACK/node_modules/webgpu/"
  xz -T2 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >"$PACK/dawn.node.xz"
  # TensorFlow.js as a peers folder of two bundles; tfjs-core is tfjs's own copy (tfjs re-exports all of it).
  local tf="$PACK/tfjs/node_modules/@tensorflow" entry
  mkdir -p "$tf/tfjs" "$tf/tfjs-backend-webgpu" "$tf/tfjs-core"
  echo '{"name":"peers","private":true}' >"$PACK/tfjs/package.json"
  entry=$(mktemp -d)/entry.cjs
  echo "module.exports = require('@tensorflow/tfjs');" >"$entry"
  NODE_PATH="$peers/node_modules" "$esbuild" "$entry" --bundle --platform=node --format=cjs --minify --log-level=error --outfile="$tf/tfjs/index.js"
  echo "module.exports = require('@tensorflow/tfjs-backend-webgpu');" >"$entry"
  NODE_PATH="$peers/node_modules" "$esbuild" "$entry" --bundle --platform=node --format=cjs --minify --log-level=error --external:@tensorflow/tfjs-core --outfile="$tf/tfjs-backend-webgpu/index.js"
  echo "module.exports = require('@tensorflow/tfjs');" >"$tf/tfjs-core/index.js"
  for p in tfjs tfjs-backend-webgpu tfjs-core; do echo "{\"name\":\"@tensorflow/$p\",\"main\":\"index.js\"}" >"$tf/$p/package.json"; done
  # The loaders (the device README's list), and Node.
  mkdir -p /tmp/amd64/partial
  local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq && (cd "$PACK/debs" && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  xz -T2 -6 -c "$(command -v node)" >"$PACK/node.xz"
  du -sh "$PACK"; echo "the working tree that travels: tracked $(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1) bytes + $PACK $(du -sb "$PACK" | cut -f1) bytes (limit 67108864)"
}

run() {
  local extra=("$@")
  [ ${#extra[@]} -gt 0 ] || extra=(--secs 3)
  OUT=${OUT:-/tmp/webgpu-out}; mkdir -p "$OUT"
  [ -f "$PACK/bench.mjs" ] || { echo "no $PACK: run 'bash bench/webgpu-device.sh pack' here first and carry $PACK"; exit 1; }
  # The Vulkan loader (Dawn's native backend on Linux) and EGL, when the image lacks them.
  if ! ldconfig -p | grep -q libvulkan.so.1; then for f in "$PACK"/debs/*.deb; do dpkg -x "$f" /; done; ldconfig; fi
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && ! ls /usr/share/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  local node=node
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    xz -dc "$PACK/node.xz" >/tmp/node && chmod +x /tmp/node && node=/tmp/node
  fi
  [ -f "$PACK/node_modules/webgpu/dist/linux-x64/dawn.node" ] || xz -dc "$PACK/dawn.node.xz" >"$PACK/node_modules/webgpu/dist/linux-x64/dawn.node"
  # The peer script runs from bench/peers and imports 'webgpu' from the repository's node_modules.
  if [ ! -e node_modules/webgpu ]; then rm -f node_modules 2>/dev/null; mkdir -p node_modules; ln -sfn "../$PACK/node_modules/webgpu" node_modules/webgpu; fi
  export PATH="$(dirname "$(command -v "$node")"):$PATH"
  { nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv; "$node" --version; } >"$OUT/gpu.txt" 2>&1
  # Full sizes, 3 s of measurement per run and system: about 5 minutes on an H100; the timeout keeps the call inside its 10.
  PEERS="$PWD/$PACK/tfjs" timeout 520 "$node" "$PACK/bench.mjs" --backend=webgpu --out "$OUT" "${extra[@]}" 2>&1 | grep -v '^Warning: maxDynamic' | tee "$OUT/webgpu-bench.log"
  echo "exit ${PIPESTATUS[0]}" | tee -a "$OUT/webgpu-bench.log"
}

case "${1:-}" in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/webgpu-device.sh pack | run [bench flags, default --secs 3]"; exit 2 ;;
esac
