#!/usr/bin/env bash
# Rebuilds the Rust test canisters (engine/testdata/rust_ledger*.wasm from
# rust/ledger, rust_assets.wasm from rust/assets) with Debian's rustc 1.63 and the serde/bincode crates from
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

build() { # crate, output name, extra RUSTFLAGS
  local crate=$1 name=$2; shift 2
  echo "rustc $name ${*:-}" >&2
  (cd "$here/$crate" && RUSTFLAGS="$*" "$cargo" build --quiet --release --locked \
    --target wasm32-unknown-unknown --target-dir "$target/$name")
  cp "$target/$name/wasm32-unknown-unknown/release/rust_$crate.wasm" "$out/$name.wasm"
}

build ledger rust_ledger                                   # legacy symbol mangling (rustc's default)
build ledger rust_ledger_v0 -C symbol-mangling-version=v0  # v0 mangling, for the demangler
build ledger rust_ledger_moved --cfg moved_data            # data segments moved: layout-incompatible
build ledger rust_ledger_changed --cfg changed_checksum    # one function body changed, same layout
build assets rust_assets                                 # the asset canister pattern (certified http_request)
