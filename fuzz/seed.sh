#!/usr/bin/env bash
# Regenerates the seed corpus of every fuzz target: fuzz/corpus/{frame,fpdus,roundtrip} from
# every capture in captures/, fuzz/corpus/capture from the capture files themselves (whole, and
# cut to their first 4 KiB, which the reader ends with an error), fuzz/corpus/filter from the
# filters in fuzz/filters.txt (one per line), fuzz/corpus/stream from 4 KiB of each capture
# (any bytes make a connection there; its payloads come from the captures built into it).
# Run from the repository root (CI runs it before fuzzing). fuzz/corpus/ is generated and
# gitignored; whatever libFuzzer added to it earlier is discarded.
set -euo pipefail

if [[ ! -d captures || ! -f fuzz/Cargo.toml ]]; then
    echo "seed.sh: run from the repository root" >&2
    exit 2
fi

for target in frame fpdus roundtrip capture stream filter; do
    rm -rf "fuzz/corpus/$target"
    mkdir -p "fuzz/corpus/$target"
done

cargo run --quiet -p oneshot-codec --example seed_corpus -- captures fuzz/corpus

for c in captures/*.pcap captures/*.pcapng; do
    name=$(basename "$c")
    cp "$c" "fuzz/corpus/capture/$name"
    head -c 4096 "$c" >"fuzz/corpus/capture/4k-$name"
    # The second 4 KiB (dd, not tail | head: with pipefail, head closing the pipe early makes
    # tail die of SIGPIPE).
    dd if="$c" of="fuzz/corpus/stream/$name" bs=4096 skip=1 count=1 status=none
done

i=0
while IFS= read -r filter; do
    i=$((i + 1))
    printf '%s' "$filter" >"fuzz/corpus/filter/$i"
done <fuzz/filters.txt
