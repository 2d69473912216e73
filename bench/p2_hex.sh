#!/usr/bin/env bash
# P2 (BENCH.md): hex display throughput, sockkit against xxd on the same random bytes.
#
# A: `xxd FILE > /dev/null`.
# B: `sockkit listen --mode hex 0 > /dev/null` receiving FILE from `sockkit connect --send-only`,
#    timed from the start of the client until the listener exits (it has rendered every byte).
# Runs alternate A B A B; the table gives the median MB/s of input (1 MB = 10^6 bytes) and min/median/max.
#
# Environment: P2_MIB (input size in MiB, default 256; e.g. P2_MIB=16 for a quick run),
# P2_RUNS (pairs, default 5, at least 5 for a reported figure), SOCKKIT (the binary; default: build
# target/release/sockkit with cargo).
set -euo pipefail

cd "$(dirname "$0")/.."
MIB=${P2_MIB:-256}
RUNS=${P2_RUNS:-5}

if ! command -v xxd >/dev/null 2>&1; then
    echo "p2: xxd is missing; installing it with apt-get (package xxd)" >&2
    if ! { apt-get install -y xxd >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y xxd >/dev/null 2>&1; }; }; then
        echo "p2: cannot install xxd; skipping P2 (no peer to compare with)" >&2
        exit 1
    fi
fi

if [[ -z "${SOCKKIT:-}" ]]; then
    cargo build --release --quiet
    SOCKKIT=target/release/sockkit
fi

WORK=$(mktemp -d)
LISTENER=
cleanup() {
    if [[ -n "$LISTENER" ]]; then kill "$LISTENER" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

INPUT=$WORK/input.bin
head -c "$((MIB * 1024 * 1024))" /dev/urandom >"$INPUT"
BYTES=$(stat -c %s "$INPUT")

now() { date +%s.%N; }

run_xxd() {
    local t0 t1
    t0=$(now)
    xxd "$INPUT" >/dev/null
    t1=$(now)
    echo "$t0 $t1"
}

run_sockkit() {
    local err=$WORK/listen.err port t0 t1 i
    : >"$err"
    "$SOCKKIT" listen --mode hex 0 </dev/null >/dev/null 2>"$err" &
    LISTENER=$!
    port=
    for ((i = 0; i < 500; i++)); do # up to 5 s for the listener to report its port
        port=$(sed -n 's/^sockkit: listening on .*:\([0-9][0-9]*\)$/\1/p' "$err")
        [[ -n "$port" ]] && break
        sleep 0.01
    done
    if [[ -z "$port" ]]; then
        echo "p2: the listener did not report its port: $(cat "$err")" >&2
        exit 1
    fi
    t0=$(now)
    "$SOCKKIT" connect --send-only 127.0.0.1 "$port" <"$INPUT"
    wait "$LISTENER"
    t1=$(now)
    LISTENER=
    echo "$t0 $t1"
}

TIMES=$WORK/times
: >"$TIMES"
for ((r = 1; r <= RUNS; r++)); do
    echo "xxd $(run_xxd)" >>"$TIMES"
    echo "sockkit $(run_sockkit)" >>"$TIMES"
    echo "p2: pair $r of $RUNS done" >&2
done

python3 - "$TIMES" "$BYTES" "$RUNS" <<'EOF'
import statistics, sys
path, size, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rates = {"xxd": [], "sockkit": []}
for line in open(path):
    name, t0, t1 = line.split()
    rates[name].append(size / (float(t1) - float(t0)) / 1e6)
peer, ours = statistics.median(rates["xxd"]), statistics.median(rates["sockkit"])
def mmm(v):
    return "%.0f / %.0f / %.0f" % (min(v), statistics.median(v), max(v))
print(f"P2 hex display: {size / 2**20:.0f} MiB of random bytes, {runs} alternating pairs (MB/s of input)")
print()
print("| workload | peer (xxd) MB/s | sockkit --mode hex MB/s | ratio | runs | xxd min/median/max | sockkit min/median/max |")
print("|---|---|---|---|---|---|---|")
print(f"| P2 hex | {peer:.0f} | {ours:.0f} | {ours / peer:.1f}x | {runs} | {mmm(rates['xxd'])} | {mmm(rates['sockkit'])} |")
print()
print(f"target: >= 10x xxd: {'met' if ours >= 10 * peer else 'NOT met'}")
EOF
