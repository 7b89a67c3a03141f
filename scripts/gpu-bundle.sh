#!/usr/bin/env bash
# A folder that runs faceprior's WebGPU pretraining and throughput benches on a bare Linux x64
# machine with Node 20 and a GPU driver, without npm (the GPU machines here have no registry):
#
#   scripts/gpu-bundle.sh [out dir, default gpu-bundle] [prior cache, default ../cache/unlabeled_faces] [faces, default 272]
#   <out dir>/gpu-run.sh [results dir]          then, on the GPU machine (docs/GPU.md)
#
# It holds the CLI and the two benches bundled by esbuild (faceprior.mjs, bench/*.mjs), the native
# packages they load at run time (webgpu's linux-x64 Dawn, sharp and libvips), the Vulkan loader
# (for machines without libvulkan1), the PyTorch reference scripts, and the first `faces` faces of
# the cache's pretraining pool (never a test face): enough for batches of 256 with 8 held out for
# previews. It refuses to finish above 60 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-gpu-bundle}
cache=${2:-../cache/unlabeled_faces}
faces=${3:-272}
limit_mib=60

die() { echo "gpu-bundle: $*" >&2; exit 1; }
[ -f "$cache/cache.json" ] || die "$cache: no cache.json, so not a prior cache. Pass a cache made by faceprior prepare (scripts/prepare-shared-data.sh makes ../cache/*)."
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || die "node_modules/webgpu/dist/linux-x64/dawn.node is missing. Run npm ci first."
[ -f node_modules/.bin/esbuild ] || die "esbuild is missing (a devDependency). Run npm ci first."

rm -rf "$out"
mkdir -p "$out/bench" "$out/lib" "$out/node_modules"

# One ESM bundle per program, with the code they share in chunks/; the banner gives the CommonJS
# packages inside (csv-parse, vega's deps) the `require` they call. Packages with native parts stay
# outside and are copied below; those only prepare and analyze need (the face teacher,
# onnxruntime-node) are left out: the bundle pretrains and benchmarks, on jax-js.
node_modules/.bin/esbuild faceprior=src/cli/main.ts bench/pretrain-throughput=bench/pretrain-throughput.ts bench/vit-throughput=bench/vit-throughput.ts \
  --bundle --platform=node --target=node20 --format=esm --splitting --chunk-names=chunks/[name]-[hash] \
  --out-extension:.js=.mjs --outdir="$out" --log-level=warning \
  --banner:js="import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);" \
  --external:webgpu --external:sharp --external:onnxruntime-node --external:@vladmandic/human
printf '{ "name": "faceprior-gpu-bundle", "version": "%s", "type": "module", "private": true }\n' "$(node -p 'require("./package.json").version')" > "$out/package.json"

copy_package() { # name [files...]: the package, or only the files named
  local name=$1; shift
  [ -d "node_modules/$name" ] || die "node_modules/$name is missing. Run npm ci first."
  mkdir -p "$out/node_modules/$name"
  if [ $# -eq 0 ]; then cp -r "node_modules/$name/." "$out/node_modules/$name/"; return; fi
  for file in "$@"; do mkdir -p "$(dirname "$out/node_modules/$name/$file")"; cp "node_modules/$name/$file" "$out/node_modules/$name/$file"; done
}
copy_package webgpu package.json index.js LICENSE.md dist/linux-x64/dawn.node
# Dawn ships with its symbol table (4 of its 21 MiB); loading needs only the dynamic symbols.
if command -v strip > /dev/null; then strip --strip-unneeded "$out/node_modules/webgpu/dist/linux-x64/dawn.node"; fi
for pkg in sharp @img/colour @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 detect-libc semver; do copy_package "$pkg"; done
rm -rf "$out/node_modules/sharp/src" "$out/node_modules/sharp/install"

vulkan=$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/ && !found { print $NF; found = 1 }')
[ -n "$vulkan" ] || die "libvulkan.so.1 not found here. apt-get install libvulkan1, then run again."
cp -L "$vulkan" "$out/lib/libvulkan.so.1"

cp bench/torch_vit_reference.py bench/torch_mae_reference.py "$out/bench/"
cp scripts/gpu-run.sh "$out/gpu-run.sh"
cp docs/GPU.md "$out/README.md"
node --input-type=module -e "
  const { writeCacheSubset } = await import('./dist/src/pretrain/cache-subset.js');
  await writeCacheSubset(process.argv[1], process.argv[2], Number(process.argv[3]));
" "$cache" "$out/cache" "$faces"

size_mib=$(( $(du -sb "$out" | cut -f1) / 1048576 ))
echo "gpu-bundle: $out, $size_mib MiB ($faces faces of $cache). Run it with $out/gpu-run.sh"
[ "$size_mib" -lt "$limit_mib" ] || die "$out is $size_mib MiB, over the $limit_mib MiB a device machine takes. Pass fewer faces."
