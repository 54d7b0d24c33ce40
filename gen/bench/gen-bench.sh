#!/usr/bin/env bash
# gen-bench.sh — throughput and memory benchmark of oneshot-gen (see gen/bench/README.md).
#
# Requirement: writing a 1 GiB pcap of 64 KiB one-shot writes, with MPA CRCs and IP/TCP
# checksums, at >= 1.5 GB/s (decimal) on one core, with memory independent of the file's size;
# for comparison the same kind of frames are built with scapy and the ratio is printed.
#
# Run from the repository root:
#     bash gen/bench/gen-bench.sh
#
# What it does:
#   1. cargo build --release -p oneshot-gen; writes the scenario (WRITES x "write 64K" on one
#      iwarp connection) to a temp dir; writes its capture to a file once to learn its size.
#   2. Times each scenario RUNS times and keeps the best and the median wall time (this kind of
#      VM varies by +-25% between runs), all pinned to one core (taskset -c 0, when available):
#        gen -> /dev/null          the generator's own speed (bytes = the size of the file)
#        gen -> file in $TMPDIR    including the kernel's write path to a disk-backed file
#        gen -> file in /dev/shm   the same on tmpfs (when /dev/shm exists)
#        dd  -> $TMPDIR, /dev/shm  baseline: plain `dd if=/dev/zero bs=1M` (no fdatasync): the
#                                  page-cache write speed for a file of the same size
#        cat file > /dev/null      baseline: page-cache read speed of the capture just written
#        gen x1/4, x4 -> /dev/null the same scenario with WRITES/4 and WRITES*4 writes
#      Each run also records the peak RSS (/usr/bin/time -v, "Maximum resident set size"), so the
#      table shows that memory does not grow with the file's size.
#   3. Checks and times gen/bench/scapy_frames.py: its CRC-32C against RFC 3720's vectors, a
#      byte-for-byte rebuild of a small oneshot-gen capture, tshark's verdict on a small scapy
#      capture (Good CRC32, correct checksums), then SCAPY_RUNS runs of SCAPY_WRITES writes to
#      /dev/null. scapy and crc32c come from PyPI: when `import scapy` fails they are installed
#      into a venv ($GEN_BENCH_VENV, default ${TMPDIR:-/tmp}/oneshot-gen-bench-venv, kept between
#      runs as a cache).
#   4. Prints a table: scenario, bytes, best/median seconds, best/median GB/s, the ratio to the
#      1.5 GB/s target, the ratio to the scenario's baseline, and peak RSS; then the scapy ratio.
#
# Settings (environment): WRITES (16384, ~1.17 GB of pcap), RUNS (5), SCAPY_WRITES (200),
# SCAPY_RUNS (RUNS), SKIP_SCAPY=1, TARGET_GBS (1.5), TMPDIR. Disk: about 2.4 GB free in $TMPDIR
# and in /dev/shm. Time: about 2-3 minutes on 2 cores, most of it scapy.
set -euo pipefail

[[ -f Cargo.toml && -d gen/bench ]] || { echo "gen-bench.sh: run from the repository root" >&2; exit 2; }

WRITES=${WRITES:-16384}
RUNS=${RUNS:-5}
SCAPY_WRITES=${SCAPY_WRITES:-200}
SCAPY_RUNS=${SCAPY_RUNS:-$RUNS}
TARGET_GBS=${TARGET_GBS:-1.5}
SKIP_SCAPY=${SKIP_SCAPY:-0}
BENCH_DIR=gen/bench
BIN=$PWD/target/release/oneshot-gen

echo "== building oneshot-gen (release)"
cargo build --release -p oneshot-gen 2>&1 | tail -n 1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gen-bench.XXXXXX")
SHM=""
if [[ -d /dev/shm && -w /dev/shm ]]; then SHM=$(mktemp -d /dev/shm/gen-bench.XXXXXX); fi
cleanup() { rm -rf "$TMP"; [[ -z $SHM ]] || rm -rf "$SHM"; }
trap cleanup EXIT

PIN=()
if command -v taskset >/dev/null 2>&1 && taskset -c 0 true 2>/dev/null; then PIN=(taskset -c 0); fi
TIMEV=()
if [[ -x /usr/bin/time ]]; then TIMEV=(/usr/bin/time -v -o "$TMP/time.txt"); fi

script_for() { # script_for WRITES FILE
    cat >"$2" <<EOF
host h1 mac 02:00:00:00:00:01 ip 10.0.0.1
host h2 mac 02:00:00:00:00:02 ip 10.0.0.2
conn c1 h1:49152 -> h2:3260 iwarp
repeat $1 {
    write 64K
}
EOF
}
script_for "$WRITES" "$TMP/oneshot.txt"
script_for $((WRITES / 4)) "$TMP/oneshot-quarter.txt"
script_for $((WRITES * 4)) "$TMP/oneshot-4x.txt"

# --- measuring ---------------------------------------------------------------------------------

ROWS=()        # "name|bytes|best|median|rss_kib|baseline-name"
declare -A BEST MEDIAN

no_prep() { :; }

# measure NAME BYTES BASELINE PREP -- CMD...: runs CMD RUNS times (PREP before each, untimed),
# stdout to /dev/null; records best and median wall seconds and the largest peak RSS.
measure() {
    local name=$1 bytes=$2 base=$3 prep=$4
    shift 5
    local times=() rss=0 i t0 t1 r
    for ((i = 0; i < RUNS; i++)); do
        "$prep"
        t0=$(date +%s%N)
        "${TIMEV[@]}" "${PIN[@]}" "$@" >/dev/null
        t1=$(date +%s%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')")
        if [[ ${#TIMEV[@]} -gt 0 ]]; then
            r=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time.txt")
            if ((r > rss)); then rss=$r; fi
        fi
    done
    local stats
    stats=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %.6f", v[1], m }')
    BEST[$name]=${stats% *}
    MEDIAN[$name]=${stats#* }
    ROWS+=("$name|$bytes|${BEST[$name]}|${MEDIAN[$name]}|$rss|$base")
    printf '   %-26s runs: %s\n' "$name" "${times[*]}"
}

gbs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.4f", b / s / 1e9 }'; }

# --- 1. sizes -----------------------------------------------------------------------------------

echo "== sizing the captures ($WRITES x write 64K, and /4)"
"$BIN" "$TMP/oneshot.txt" -w "$TMP/size.pcap" -q
BYTES=$(stat -c %s "$TMP/size.pcap")
rm -f "$TMP/size.pcap"
"$BIN" "$TMP/oneshot-quarter.txt" -w "$TMP/size.pcap" -q
BYTES_Q=$(stat -c %s "$TMP/size.pcap")
rm -f "$TMP/size.pcap"
# Every write adds the same frames, so the size is affine in WRITES: s(4W) = s(W) + 4 (s(W) - s(W/4)).
BYTES_4X=$((BYTES + 4 * (BYTES - BYTES_Q)))
DD_COUNT=$(((BYTES + 1048575) / 1048576))
DD_BYTES=$((DD_COUNT * 1048576))
echo "   $BYTES bytes ($WRITES writes), $BYTES_Q (/4), $BYTES_4X (x4, computed)"

# --- 2. timings ----------------------------------------------------------------------------------

echo "== timing, $RUNS runs each, pinned: ${PIN[*]:-no (taskset missing)}"
prep_tmp() { rm -f "$TMP/out.pcap" "$TMP/dd.bin"; sync; }
prep_shm() { rm -f "$SHM/out.pcap" "$SHM/dd.bin"; }

measure "gen -> /dev/null" "$BYTES" - no_prep -- "$BIN" "$TMP/oneshot.txt" -w /dev/null -q
measure "dd -> \$TMPDIR file" "$DD_BYTES" - prep_tmp -- dd if=/dev/zero of="$TMP/dd.bin" bs=1M count="$DD_COUNT" status=none
measure "gen -> \$TMPDIR file" "$BYTES" "dd -> \$TMPDIR file" prep_tmp -- "$BIN" "$TMP/oneshot.txt" -w "$TMP/out.pcap" -q
measure "cat \$TMPDIR file" "$BYTES" - no_prep -- cat "$TMP/out.pcap"
rm -f "$TMP/out.pcap" "$TMP/dd.bin"
if [[ -n $SHM ]]; then
    measure "dd -> /dev/shm file" "$DD_BYTES" - prep_shm -- dd if=/dev/zero of="$SHM/dd.bin" bs=1M count="$DD_COUNT" status=none
    measure "gen -> /dev/shm file" "$BYTES" "dd -> /dev/shm file" prep_shm -- "$BIN" "$TMP/oneshot.txt" -w "$SHM/out.pcap" -q
    measure "cat /dev/shm file" "$BYTES" - no_prep -- cat "$SHM/out.pcap"
    rm -f "$SHM/out.pcap" "$SHM/dd.bin"
fi
measure "gen /4 -> /dev/null" "$BYTES_Q" - no_prep -- "$BIN" "$TMP/oneshot-quarter.txt" -w /dev/null -q
measure "gen x4 -> /dev/null" "$BYTES_4X" - no_prep -- "$BIN" "$TMP/oneshot-4x.txt" -w /dev/null -q

# --- 3. scapy ----------------------------------------------------------------------------------

SCAPY_LINE=""
scapy_python() {
    local py=python3 venv=${GEN_BENCH_VENV:-${TMPDIR:-/tmp}/oneshot-gen-bench-venv}
    if python3 -c 'import scapy' 2>/dev/null; then
        if python3 -c 'import crc32c' 2>/dev/null || python3 -c 'import google_crc32c' 2>/dev/null; then
            echo python3
            return
        fi
    fi
    py=$venv/bin/python
    if ! "$py" -c 'import scapy, crc32c' 2>/dev/null && ! "$py" -c 'import scapy, google_crc32c' 2>/dev/null; then
        echo "   installing scapy and crc32c into $venv" >&2
        python3 -m venv "$venv" >&2 || return 1
        "$py" -m pip install -q scapy crc32c >&2 || "$py" -m pip install -q scapy google-crc32c >&2 || return 1
    fi
    echo "$py"
}

if [[ $SKIP_SCAPY != 1 ]]; then
    echo "== scapy ($SCAPY_RUNS runs of $SCAPY_WRITES writes)"
    if PY=$(scapy_python); then
        "$PY" "$BENCH_DIR/scapy_frames.py" selftest | sed 's/^/   /'
        script_for 2 "$TMP/two.txt"
        "$BIN" "$TMP/two.txt" -w "$TMP/gen-two.pcap" -q
        "$PY" "$BENCH_DIR/scapy_frames.py" compare "$TMP/gen-two.pcap" | sed 's/^/   /'
        "$PY" "$BENCH_DIR/scapy_frames.py" bench --writes 2 -w "$TMP/scapy-two.pcap" >/dev/null
        if [[ $(stat -c %s "$TMP/scapy-two.pcap") != $(stat -c %s "$TMP/gen-two.pcap") ]]; then
            echo "   note: scapy's 2-write capture and oneshot-gen's differ in size" >&2
        fi
        if command -v tshark >/dev/null 2>&1; then
            tshark -r "$TMP/scapy-two.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -V 2>/dev/null |
                grep -oE 'Good CRC32|Bad CRC32|\[correct\]|\[incorrect\]|Bad checksum' | sort | uniq -c |
                awk '{ $1 = $1; s = s (s ? ", " : "") $0 } END { print "   tshark on scapy'"'"'s 2-write capture: " s }' || true
        fi
        scapy_times=()
        while read -r _ _ _ frames _ sbytes _ secs; do
            scapy_times+=("$secs")
            SCAPY_BYTES=$sbytes
            SCAPY_FRAMES=$frames
        done < <("${TIMEV[@]}" "${PIN[@]}" "$PY" "$BENCH_DIR/scapy_frames.py" bench --writes "$SCAPY_WRITES" --runs "$SCAPY_RUNS" -w /dev/null)
        srss=0
        if [[ ${#TIMEV[@]} -gt 0 ]]; then srss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$TMP/time.txt"); fi
        printf '   %-26s runs: %s\n' "scapy -> /dev/null" "${scapy_times[*]}"
        stats=$(printf '%s\n' "${scapy_times[@]}" | sort -g | awk '{ v[NR] = $1 } END {
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %.6f", v[1], m }')
        BEST[scapy]=${stats% *}
        MEDIAN[scapy]=${stats#* }
        ROWS+=("scapy -> /dev/null|$SCAPY_BYTES|${BEST[scapy]}|${MEDIAN[scapy]}|$srss|-")
        SCAPY_LINE="$SCAPY_FRAMES frames"
    else
        echo "   scapy unavailable: skipped" >&2
    fi
fi

# --- 4. the table --------------------------------------------------------------------------------

echo
echo "== oneshot-gen: $WRITES x 64 KiB one-shot writes (CRC-32C on, IP/TCP checksums), $(date -u +%Y-%m-%d)"
echo "   $(lscpu 2>/dev/null | grep 'Model name' | sed 's/  */ /g'), nproc $(nproc), ${PIN[*]:-unpinned}; GB = 1e9 bytes"
printf '%-22s %12s %8s %8s %8s %8s %8s %8s %7s %7s %8s\n' \
    scenario bytes best_s med_s best_GB/s med_GB/s best/tgt med/tgt b/base m/base peak_RSS
for row in "${ROWS[@]}"; do
    IFS='|' read -r name bytes best med rss base <<<"$row"
    bg=$(gbs "$bytes" "$best")
    mg=$(gbs "$bytes" "$med")
    if [[ $name == gen* ]]; then
        tb=$(awk -v g="$bg" -v t="$TARGET_GBS" 'BEGIN { printf "%.2fx", g / t }')
        tm=$(awk -v g="$mg" -v t="$TARGET_GBS" 'BEGIN { printf "%.2fx", g / t }')
    else
        tb=-; tm=-
    fi
    if [[ $base != - ]]; then
        for r in "${ROWS[@]}"; do
            IFS='|' read -r bn bb bbest bmed _ _ <<<"$r"
            if [[ $bn == "$base" ]]; then
                rb=$(awk -v g="$bg" -v b="$(gbs "$bb" "$bbest")" 'BEGIN { printf "%.2f", g / b }')
                rm_=$(awk -v g="$mg" -v b="$(gbs "$bb" "$bmed")" 'BEGIN { printf "%.2f", g / b }')
            fi
        done
    else
        rb=-; rm_=-
    fi
    if ((rss > 0)); then rs=$(awk -v k="$rss" 'BEGIN { printf "%.1fMiB", k / 1024 }'); else rs=-; fi
    printf '%-22s %12s %8.3f %8.3f %8s %8s %8s %8s %7s %7s %8s\n' \
        "$name" "$bytes" "$best" "$med" "$bg" "$mg" "$tb" "$tm" "$rb" "$rm_" "$rs"
done
echo "   target ${TARGET_GBS} GB/s; b/base, m/base: gen -> file against dd -> the same place (best/best, median/median)"
if [[ -n $SCAPY_LINE ]]; then
    gb=$(gbs "$BYTES" "${BEST[gen -> /dev/null]}")
    gm=$(gbs "$BYTES" "${MEDIAN[gen -> /dev/null]}")
    sb=$(gbs "$SCAPY_BYTES" "${BEST[scapy]}")
    sm=$(gbs "$SCAPY_BYTES" "${MEDIAN[scapy]}")
    awk -v gb="$gb" -v gm="$gm" -v sb="$sb" -v sm="$sm" -v n="$SCAPY_WRITES" -v f="$SCAPY_LINE" 'BEGIN {
        printf "scapy (%d writes, %s, to /dev/null): %.2f MB/s best, %.2f MB/s median\n", n, f, sb * 1000, sm * 1000
        printf "oneshot-gen / scapy (to /dev/null): %.0fx best/best, %.0fx median/median\n", gb / sb, gm / sm }'
fi
