#!/usr/bin/env bash
# Regenerates tests/golden/profile/*.devtools.json.gz by running Chrome DevTools' own profile models
# (chrome-devtools-frontend 1.0.1705227: models/cpu_profile/*.ts) on the profile datasets, and
# *.speedscope.json.gz by running speedscope's importers (src/import/chrome.ts, v8proflog.ts) on them.
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
# speedscope's importers are not on npm as source (its package is the built app): its git tree at this
# commit, from SPEEDSCOPE_GIT (a clone or bare mirror of github.com/jlfwong/speedscope)
SPEEDSCOPE_COMMIT=3613918de0dd55a263d0d04f85b0c8c2039c7bee
if [ ! -f speedscope/src/import/chrome.ts ]; then
  mkdir -p speedscope
  git --git-dir="${SPEEDSCOPE_GIT:?set SPEEDSCOPE_GIT to a clone of jlfwong/speedscope}" archive "$SPEEDSCOPE_COMMIT" \
      LICENSE src/lib src/import/chrome.ts src/import/v8cpuFormatter.ts src/import/v8proflog.ts | tar x -C speedscope
fi
[ -x node_modules/.bin/esbuild ] || npm install --no-audit --no-fund --silent esbuild@0.24.2
for h in devtools speedscope; do
  node_modules/.bin/esbuild "$out/peer/${h}_profile.ts" --bundle --platform=node --format=esm \
      --outfile="$peers/${h}_bundle.mjs" --log-level=warning
done
ds="$root/datasets/profiles"
# DevTools on the files with each hitCount set to the node's count in `samples`: the sample convention
# workbench uses everywhere (V8 files disagree by a few hits; see workbench/io/cpuprofile.py)
for f in cpu_slow cpu_fast trace_twin; do
  node "$peers/devtools_bundle.mjs" cpu-samples "$ds/$f.cpuprofile" | gzip -9 -n > "$out/$f.devtools.json.gz"
done
# speedscope (each sample weighs the time to the next one) on the same files, a trace and a --prof log
for f in cpu_slow.cpuprofile cpu_fast.cpuprofile trace_twin.cpuprofile trace.json.gz sync_logging.v8log.json.gz; do
  node "$peers/speedscope_bundle.mjs" "$ds/$f" | gzip -9 -n > "$out/${f%%.*}.speedscope.json.gz"
done
node "$peers/devtools_bundle.mjs" heap "$ds/alloc.heapprofile" | gzip -9 -n > "$out/alloc.devtools.json.gz"
# the corpus of other projects' files: speedscope on every timed file, DevTools on the current-form
# .cpuprofile files (its legacy conversion needs whole-second times the files do not have)
corpus="$root/tests/corpus/profiles/files"
mkdir -p "$out/corpus"
rm -f "$out/corpus/"*
for f in "$corpus"/*; do
  b="$(basename "$f")"
  case "$b" in
    *.folded|*.heapprofile*) continue ;;
  esac
  # a file speedscope refuses (it throws) or reads in part (it warns) is listed, with its words
  if node "$peers/speedscope_bundle.mjs" "$f" > "$peers/ss.json" 2> "$peers/ss.err"; then
    gzip -9 -n < "$peers/ss.json" > "$out/corpus/$b.speedscope.json.gz"
    [ -s "$peers/ss.err" ] && printf '%s\twarns\t%s\n' "$b" "$(head -1 "$peers/ss.err")" >> "$out/corpus/speedscope-problems.tsv"
  else
    printf '%s\tthrows\t%s\n' "$b" "$(grep -m1 '^Error' "$peers/ss.err")" >> "$out/corpus/speedscope-problems.tsv"
  fi
  case "$b" in
    *.cpuprofile|*.cpuprofile.gz)
      if ! (gzip -dcf "$f" | head -c 200 | grep -q '"head"'); then
        node "$peers/devtools_bundle.mjs" cpu-samples "$f" \
          | python3 -c 'import json, sys; d = json.load(sys.stdin); d.pop("flame_chart"); d.pop("calltree"); json.dump(d, sys.stdout)' \
          | gzip -9 -n > "$out/corpus/$b.devtools.json.gz"
      fi ;;
  esac
done
printf 'peer: %s (node %s)\npeer: jlfwong/speedscope@%s (src/import, node %s)\n' "$DEVTOOLS" "$(node --version)" \
    "$SPEEDSCOPE_COMMIT" "$(node --version)" > "$out/PEER"
ls -la "$out"
