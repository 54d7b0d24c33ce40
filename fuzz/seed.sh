#!/usr/bin/env bash
# Regenerates fuzz/corpus/{frame,fpdus,roundtrip} from every capture in captures/.
# Run from the repository root (CI runs it before fuzzing). fuzz/corpus/ is generated and
# gitignored; whatever libFuzzer added to it earlier is discarded.
set -euo pipefail

if [[ ! -d captures || ! -f fuzz/Cargo.toml ]]; then
    echo "seed.sh: run from the repository root" >&2
    exit 2
fi

for target in frame fpdus roundtrip; do
    rm -rf "fuzz/corpus/$target"
    mkdir -p "fuzz/corpus/$target"
done

cargo run --quiet -p oneshot-codec --example seed_corpus -- captures fuzz/corpus
