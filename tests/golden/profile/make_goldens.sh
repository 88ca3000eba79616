#!/usr/bin/env bash
# Regenerates tests/golden/profile/*.devtools.json.gz by running Chrome DevTools' own profile models
# (chrome-devtools-frontend 1.0.1705227: models/cpu_profile/*.ts) on the profile datasets.
# The peer goes into .peers/profile/ (ignored); esbuild bundles peer/devtools_profile.ts with it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
peers="$root/.peers/profile"
out="$root/tests/golden/profile"
DEVTOOLS=chrome-devtools-frontend@1.0.1705227
mkdir -p "$peers"
cd "$peers"
[ -f package.json ] || echo '{"name":"workbench-profile-peers","private":true,"version":"0.0.0"}' > package.json
if [ ! -d devtools/package/front_end/models/cpu_profile ]; then
  tgz="$(npm pack "$DEVTOOLS" --silent 2>/dev/null | tail -1)"
  mkdir -p devtools
  tar xzf "$tgz" -C devtools package/LICENSE package/front_end/models/cpu_profile package/front_end/core/platform \
      package/front_end/generated/protocol.ts package/front_end/panels/profiler/HeapProfileView.ts \
      package/front_end/panels/profiler/BottomUpProfileDataGrid.ts package/front_end/panels/profiler/TopDownProfileDataGrid.ts
fi
[ -x node_modules/.bin/esbuild ] || npm install --no-audit --no-fund --silent esbuild@0.24.2
node_modules/.bin/esbuild "$out/peer/devtools_profile.ts" --bundle --platform=node --format=esm \
    --outfile="$peers/devtools_bundle.mjs" --log-level=warning
ds="$root/datasets/profiles"
for f in cpu_slow cpu_fast trace_twin; do
  node "$peers/devtools_bundle.mjs" cpu "$ds/$f.cpuprofile" | gzip -9 -n > "$out/$f.devtools.json.gz"
done
node "$peers/devtools_bundle.mjs" heap "$ds/alloc.heapprofile" | gzip -9 -n > "$out/alloc.devtools.json.gz"
echo "peer: $DEVTOOLS (node $(node --version))" > "$out/PEER"
ls -la "$out"
