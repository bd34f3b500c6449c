#!/usr/bin/env bash
# Rebuilds every committed test canister from its source:
#   - every *.wat under engine/ (output: .wasm beside it, same base name,
#     with the name section kept so traps and backtraces show function names;
#     a line ";; wat2wasm-flags: --enable-tail-call ..." in a .wat file adds
#     those wat2wasm flags for that file),
#   - every *.mo in engine/testdata/ via moc.js: eop_*.mo with motoko 4.x
#     (enhanced orthogonal persistence, wasm64), the others with motoko 3.x
#     (classical persistence, wasm32),
#   - the Rust canisters of rust/ (rust/regen.sh, Debian's rustc 1.63),
#     and engine/layout's own Motoko fixtures (its testdata/regen.sh).
# Tests never run this: they read the committed .wasm files. Run it after
# editing a source and commit the outputs together with the source.
#
# Needs node and npm. The npm packages are installed at pinned versions
# into $CANSCOPE_NPM (default /tmp/npmtools) when missing; motoko 4.x sits
# beside 3.x under the alias motoko-eop (npm:motoko@4.10.0).
set -euo pipefail

WABT_VERSION=1.0.39
MOTOKO_VERSION=3.11.3
MOTOKO_EOP_VERSION=4.10.0

here=$(cd "$(dirname "$0")" && pwd)
engine=$(cd "$here/.." && pwd)
npmdir=${CANSCOPE_NPM:-/tmp/npmtools}

installed_version() { # package name -> version or empty
  local pj="$npmdir/node_modules/$1/package.json"
  [ -f "$pj" ] && node -e 'process.stdout.write(require(process.argv[1]).version)' "$pj" || true
}

need=()
[ "$(installed_version wabt)" = "$WABT_VERSION" ] || need+=("wabt@$WABT_VERSION")
[ "$(installed_version motoko)" = "$MOTOKO_VERSION" ] || need+=("motoko@$MOTOKO_VERSION")
[ "$(installed_version motoko-eop)" = "$MOTOKO_EOP_VERSION" ] || need+=("motoko-eop@npm:motoko@$MOTOKO_EOP_VERSION")
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} into $npmdir" >&2
  mkdir -p "$npmdir"
  npm install --save-exact --no-audit --no-fund --prefix "$npmdir" "${need[@]}" >&2
fi

bin="$npmdir/node_modules/.bin"

check_imports() { # wasm file: every import must come from module ic0
  local bad
  bad=$("$bin/wasm-objdump" -j Import -x "$1" 2>/dev/null | grep -- ' <- ' | grep -v ' <- ic0\.' || true)
  if [ -n "$bad" ]; then
    echo "$1 imports something other than ic0:" >&2
    echo "$bad" >&2
    exit 1
  fi
}

status=0
while IFS= read -r -d '' wat; do
  out="${wat%.wat}.wasm"
  # shellcheck disable=SC2207 # flags are plain words
  flags=($(sed -n 's/^;; *wat2wasm-flags: *//p' "$wat" | head -n 1))
  echo "wat2wasm ${flags[*]} $wat" >&2
  "$bin/wat2wasm" --debug-names "${flags[@]}" -o "$out" "$wat" || { status=1; continue; }
  "$bin/wasm-validate" "${flags[@]}" "$out" || { status=1; continue; }
  # Canister fixtures (this directory) may import only the System API.
  if [ "$(dirname "$wat")" = "$here" ]; then check_imports "$out"; fi
done < <(find "$engine" -name '*.wat' -print0 | sort -z)

while IFS= read -r -d '' mo; do
  out="${mo%.mo}.wasm"
  case "$(basename "$mo")" in
    eop_*) pkg=motoko-eop mode=eop validate=(--enable-memory64) ;;
    *) pkg=motoko mode=classical validate=() ;;
  esac
  echo "moc ($pkg $mode) $mo" >&2
  node "$here/moc.js" "$mo" "$out" "$npmdir/node_modules/$pkg" "$mode" || { status=1; continue; }
  "$bin/wasm-validate" "${validate[@]}" "$out" || { status=1; continue; }
  check_imports "$out"
  gzip -9 -n -c "$out" > "$out.gz"
done < <(find "$here" -maxdepth 1 -name '*.mo' -print0 | sort -z)

# The demo (engine/workbench/demo) embeds copies of these canisters;
# go:embed cannot reach this folder. Its tests check the copies match.
for f in incident.wasm incident_fixed.wasm motoko_v1.wasm motoko_v2.wasm; do
  cp "$here/$f" "$engine/workbench/demo/wasm/$f"
done

# The Rust canisters (rust_ledger*.wasm) need Debian's rustc 1.63; without
# it they are left as committed, with a note.
if [ -x /usr/bin/rustc ]; then
  "$here/rust/regen.sh" || status=1
else
  echo "rust/regen.sh skipped: no Debian rustc at /usr/bin/rustc (rust_ledger*.wasm left as committed)" >&2
fi

# engine/layout keeps Motoko fixtures of its own, built the same way.
"$engine/layout/testdata/regen.sh" || status=1

exit $status
