#!/usr/bin/env bash
# Regenerate the vendored front-end files that workbench reports inline (no CDN at view time).
# Run from this folder; needs npm. Checks the sha256 of each unpacked file against MANIFEST.
set -euo pipefail
tmp=$(mktemp -d)
( cd "$tmp" && npm pack --silent @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.8 >/dev/null \
  && for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done )
gzip -9 -n -c "$tmp"/jupyter-widgets-html-manager-1.0.15/package/dist/embed-amd.js > html-manager-embed-amd.js.gz
gzip -9 -n -c "$tmp"/requirejs-2.3.8/package/require.js > require.js.gz
gunzip -c html-manager-embed-amd.js.gz | sha256sum | grep -q ca87dff57c70ffb2658794fde0eab0e27e5f5472a1f5df7ab2b08e1039fc4b72
gunzip -c require.js.gz | sha256sum | grep -q c1fc6b1d53af7522f78d664922abb32acac64ed0ecccb8f907f1e6fc7262563a
rm -rf "$tmp"
echo ok
