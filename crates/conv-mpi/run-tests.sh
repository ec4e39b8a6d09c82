#!/usr/bin/env bash
# Builds conv-mpi against the system's Open MPI and runs its checks: formatting, lints, unit and
# doc tests, the comparison with the single-process call under mpirun with 1, 2 and 4 ranks
# (oversubscribed on a 2-core machine), and the smoothing example on 4 ranks.
# Installs Open MPI and libclang (rsmpi's bindings) with apt-get when they are missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# One target directory for the whole project (`rm -rf target` cleans this too).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/conv-mpi}"
# The profile the tests and examples are built in: release by default (the README's mpirun lines
# use those binaries); `.ci/run` passes `test`, whose build of conv-core's dependencies it shares.
profile="${CONV_MPI_PROFILE:-release}"
case "$profile" in
    release) built="$CARGO_TARGET_DIR/release" ;;
    test | dev) built="$CARGO_TARGET_DIR/debug" ;;
    *) built="$CARGO_TARGET_DIR/$profile" ;;
esac
cd "$here"

if ! command -v mpirun >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q 'libclang'; then
    as_root=""
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then as_root=sudo; fi
    $as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq openmpi-bin libopenmpi-dev libclang-dev
fi

# Open MPI refuses to start as root without these, and more ranks than cores without the second.
mpirun_args=(--oversubscribe)
if [ "$(id -u)" = 0 ]; then mpirun_args+=(--allow-run-as-root); fi

cargo fmt -- --check
cargo clippy --all-targets -- -D warnings
cargo test --profile "$profile"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
cargo build --profile "$profile" --examples
for ranks in 1 2 4; do
    mpirun "${mpirun_args[@]}" -np "$ranks" "$built/examples/agree"
done
out=$(mktemp -d)
mpirun "${mpirun_args[@]}" -np 4 "$built/examples/smooth" --n 48 --check --out "$out"
rm -rf "$out"
