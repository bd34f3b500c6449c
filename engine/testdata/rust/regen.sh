#!/usr/bin/env bash
# Rebuilds the Rust test canisters (engine/testdata/rust_ledger*.wasm) from
# rust/ledger with Debian's rustc 1.63 and the serde/bincode crates from
# Debian's crate registry, offline (ledger/.cargo/config.toml). Tests never
# run this; they read the committed .wasm files.
#
# Needs: apt-get install rustc cargo libstd-rust-dev-wasm32 \
#          librust-serde-dev librust-serde-derive-dev librust-bincode-dev
# Debian's toolchain is used even where rustup's is first on PATH: the
# outputs are reproducible only with the pinned 1.63 compiler.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/.." && pwd)
export RUSTC=/usr/bin/rustc
cargo=/usr/bin/cargo
want="rustc 1.63.0"
have=$("$RUSTC" --version 2>/dev/null || true)
case "$have" in
  "$want"*) ;;
  *) echo "need Debian's $want at $RUSTC (found: ${have:-none}); see the comment at the top of $0" >&2; exit 1 ;;
esac

target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT

build() { # output name, extra RUSTFLAGS
  local name=$1; shift
  echo "rustc $name ${*:-}" >&2
  (cd "$here/ledger" && RUSTFLAGS="$*" "$cargo" build --quiet --release --locked \
    --target wasm32-unknown-unknown --target-dir "$target/$name")
  cp "$target/$name/wasm32-unknown-unknown/release/rust_ledger.wasm" "$out/$name.wasm"
}

build rust_ledger                                   # legacy symbol mangling (rustc's default)
build rust_ledger_v0 -C symbol-mangling-version=v0  # v0 mangling, for the demangler
build rust_ledger_moved --cfg moved_data            # data segments moved: layout-incompatible
build rust_ledger_changed --cfg changed_checksum    # one function body changed, same layout
