#!/bin/sh
# Rebuilds the Motoko fixtures of engine/layout with the compiler the
# engine fixtures use (engine/testdata/moc.js, motoko@3.11.3 in
# $CANSCOPE_NPM, default /tmp/npmtools; engine/testdata/regen.sh installs
# it). Outputs are gzipped without timestamps, so they are reproducible.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
npm_dir=${CANSCOPE_NPM:-/tmp/npmtools}
moc_js=$here/../../testdata/moc.js
for src in "$here"/*.mo; do
	out=${src%.mo}.wasm
	node "$moc_js" "$src" "$out" "$npm_dir/node_modules/motoko"
	gzip -9 -n -f "$out"
	rm -f "${src%.mo}.did"
done
