#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each) with the committed seed corpora.
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). A crash leaves its input
# in fuzz/artifacts/<target>/; turn it into a regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
for target in conv_frontend conv_views geometry idx_reader cifar_reader gzip_readers digits_csv profile_reader \
    weights_file layers fourier_constructors; do
    mkdir -p "corpus/$target"
    echo "=== $target ($seconds s)"
    cargo +nightly fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10
done
