#!/usr/bin/env bash
# dissect-bench.sh — oneshot-dissect against tshark on the same captures, in the same run.
#
# Issue #4's targets:
#   Capture A: >= 1 GiB of 64 KiB one-shot writes (mostly full-size frames).
#   Capture B: >= 200 MB of small one-shot commands and 128-byte Sends (frames under 250 bytes).
#   B: summary and -T fields each >= 100x tshark.  A: summary >= 20x, -T fields >= 30x,
#   -V >= 10x tshark; -q (decode, reassemble, verify every CRC, count) >= 2 GB/s on one core,
#   against ~10 GB/s for reading the file from the page cache (`cat file > /dev/null`).
#   Peak memory in streaming modes independent of the capture's size.
#
# Run from the repository root:
#     bash dissect/bench/dissect-bench.sh
#
# What it does:
#   1. Builds oneshot-gen and oneshot-dissect (release) and generates A and B into $TMPDIR
#      (deterministic scenarios, printed below), classic pcap (no per-packet comments, like most real captures).
#   2. Warms the page cache (cat), then times each command RUNS times (ours) and TSHARK_RUNS
#      times (tshark), keeping the best wall time; everything pinned to one core (taskset -c 0)
#      and writing to /dev/null. Peak RSS from /usr/bin/time -v.
#   3. Prints, per capture and mode: seconds, MB/s, peak RSS for both, and the ratio
#      tshark-time / our-time next to the target; -q also against `cat`. Under the B and A
#      summary rows, a "floor" row: dissect/bench/floor.rs (reads, slices, verifies every CRC
#      and writes a line per frame, but no reassembly, analysis or tree) against the same tshark
#      time, i.e. the most any dissector could reach on this machine; likewise its -q under `cat`.
#   4. Runs ours with -q on A/4 and A (and B) to show that peak RSS does not grow with the size.
#
# Settings (environment): A_WRITES (16384 → ~1.17 GB), B_CMDS (160000 → ~210 MB), RUNS (3),
# TSHARK_RUNS (1), SKIP_V=1 (skip the -V rows, the slowest for tshark: minutes), KEEP=1 (keep
# the captures in $TMPDIR/dissect-bench for reuse). Disk: ~1.5 GB in $TMPDIR.
set -euo pipefail

[[ -f Cargo.toml && -d dissect/bench ]] || { echo "dissect-bench.sh: run from the repository root" >&2; exit 2; }
command -v tshark >/dev/null || { echo "dissect-bench.sh: tshark is needed (apt-get install tshark)" >&2; exit 2; }

A_WRITES=${A_WRITES:-16384}
B_CMDS=${B_CMDS:-160000}
RUNS=${RUNS:-3}
TSHARK_RUNS=${TSHARK_RUNS:-1}
SKIP_V=${SKIP_V:-0}
KEEP=${KEEP:-0}
GEN=$PWD/target/release/oneshot-gen
OURS=$PWD/target/release/oneshot-dissect
FLOOR=$PWD/target/release/examples/floor

echo "== building (release)"
cargo build --release -p oneshot-gen -p oneshot-dissect 2>&1 | tail -n 1
cargo build --release -p oneshot-dissect --example floor 2>&1 | tail -n 1

DIR=${TMPDIR:-/tmp}/dissect-bench
mkdir -p "$DIR"
[[ $KEEP == 1 ]] || trap 'rm -rf "$DIR"' EXIT

PIN=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then PIN=(taskset -c 0); fi

scenario_a() {
  cat <<S
seed 1
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
repeat $1 {
write 64K flow oneshot
}
S
}
scenario_b() {
  cat <<S
seed 2
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
repeat $1 {
write 128 flow oneshot
read 64 flow oneshot
send 128 se on c1
}
S
}

make_capture() { # name scenario-fn count
  local f=$DIR/$1.pcap
  if [[ ! -s $f ]]; then
    "$2" "$3" > "$DIR/$1.os"
    "$GEN" "$DIR/$1.os" -w "$f" -q
  fi
  echo "$f"
}

A=$(make_capture a scenario_a "$A_WRITES")
A4=$(make_capture a4 scenario_a $((A_WRITES / 4)))
B=$(make_capture b scenario_b "$B_CMDS")
for f in "$A" "$A4" "$B"; do
  printf '%-28s %12d bytes %9d frames, largest frame %d\n' "$(basename "$f")" "$(stat -c %s "$f")" \
    "$("$OURS" -r "$f" -T fields -e frame.number | tail -1)" \
    "$("$OURS" -r "$f" -T fields -e frame.len | sort -n | tail -1)"
done
echo "(capture B: frames under 250 bytes: $("$OURS" -r "$B" -T fields -e frame.len | awk '$1 >= 250 {n++} END {print n+0}') are not)"

FIELDS=(-e frame.number -e frame.time_relative -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport
        -e tcp.seq -e tcp.len -e iwarp_mpa.ulpdulength -e iwarp_mpa.crc_check -e iwarp_ddp.stag
        -e iwarp_ddp.tagged_offset -e iwarp_ddp.msn -e iwarp_rdma.opcode)

# time_best RUNS cmd... → prints "seconds peak_rss_kib" of the fastest run
time_best() {
  local n=$1; shift
  local best="" rss=0
  for _ in $(seq "$n"); do
    local t0 t1 s r
    t0=$(date +%s.%N)
    /usr/bin/time -o "$DIR/rss" -f '%M' "${PIN[@]}" "$@" > /dev/null 2>&1 || true; r=$(tail -1 "$DIR/rss")
    t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [[ -z $best ]] || (( $(echo "$s < $best" | bc -l) )); then best=$s; fi
    (( r > rss )) && rss=$r
  done
  echo "$best $rss"
}

printf '\n%-4s %-10s %10s %10s %9s | %10s %10s %9s | %8s %7s\n' cap mode tshark_s MB/s RSS_MiB ours_s MB/s RSS_MiB ratio target
row() { # cap file mode target args...
  local cap=$1 file=$2 mode=$3 target=$4; shift 4
  local size ts os
  size=$(stat -c %s "$file")
  ts=($(time_best "$TSHARK_RUNS" tshark -r "$file" "$@"))
  os=($(time_best "$RUNS" "$OURS" -r "$file" "$@"))
  printf '%-4s %-10s %10.2f %10.1f %9.1f | %10.3f %10.1f %9.1f | %7.1fx %6sx\n' "$cap" "$mode" \
    "${ts[0]}" "$(echo "$size / ${ts[0]} / 1000000" | bc -l)" "$(echo "${ts[1]} / 1024" | bc -l)" \
    "${os[0]}" "$(echo "$size / ${os[0]} / 1000000" | bc -l)" "$(echo "${os[1]} / 1024" | bc -l)" \
    "$(echo "${ts[0]} / ${os[0]}" | bc -l)" "$target"
  TSHARK_LAST=${ts[0]}
}
# The floor (dissect/bench/floor.rs: read, slice, verify CRCs, write a line; no reassembly, no
# analysis, no tree) against the tshark time of the row above: the most any dissector could reach.
floor_row() { # cap file
  local size fs
  size=$(stat -c %s "$2")
  fs=($(time_best "$RUNS" "$FLOOR" "$2"))
  printf '%-4s %-10s %10s %10s %9s | %10.3f %10.1f %9.1f | %7.1fx %7s\n' "$1" floor "" "" "" \
    "${fs[0]}" "$(echo "$size / ${fs[0]} / 1000000" | bc -l)" "$(echo "${fs[1]} / 1024" | bc -l)" \
    "$(echo "$TSHARK_LAST / ${fs[0]}" | bc -l)" "(bound)"
}

cat "$A" "$B" > /dev/null
row B "$B" summary 100
floor_row B "$B"
row B "$B" fields 100 -T fields "${FIELDS[@]}"
row A "$A" summary 20
floor_row A "$A"
row A "$A" fields 30 -T fields "${FIELDS[@]}"
[[ $SKIP_V == 1 ]] || row A "$A" -V 10 -V

echo
printf '%-22s %10s %10s %10s %9s\n' "-q (ours only)" bytes seconds GB/s RSS_MiB
for f in "$A4" "$A" "$B"; do
  size=$(stat -c %s "$f")
  q=($(time_best "$RUNS" "$OURS" -r "$f" -q))
  printf '%-22s %10d %10.3f %10.2f %9.1f\n' "$(basename "$f")" "$size" "${q[0]}" \
    "$(echo "$size / ${q[0]} / 1000000000" | bc -l)" "$(echo "${q[1]} / 1024" | bc -l)"
done
c=($(time_best "$RUNS" cat "$A"))
printf '%-22s %10d %10.3f %10.2f %9.1f   (baseline: page-cache read)\n' "cat $(basename "$A")" \
  "$(stat -c %s "$A")" "${c[0]}" "$(echo "$(stat -c %s "$A") / ${c[0]} / 1000000000" | bc -l)" "$(echo "${c[1]} / 1024" | bc -l)"
c=($(time_best "$RUNS" "$FLOOR" "$A" -q))
printf '%-22s %10d %10.3f %10.2f %9.1f   (bound: floor.rs -q, read + slice + CRC only)\n' "floor -q $(basename "$A")" \
  "$(stat -c %s "$A")" "${c[0]}" "$(echo "$(stat -c %s "$A") / ${c[0]} / 1000000000" | bc -l)" "$(echo "${c[1]} / 1024" | bc -l)"
echo "targets: -q >= 2 GB/s; RSS flat from a4 to a"
