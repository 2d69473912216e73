#!/usr/bin/env bash
# P3 (BENCH.md): pickle display. 200,000 pickled dicts (~98 bytes each, protocol 4, as Python
# writes them) are printed one repr per line.
#
#   peer:    CPython `pickle.Unpickler(...).load()` + `repr` over the same bytes, read from a file
#            (no network: the most favourable setting for the peer);
#   sockkit: `sockkit listen --recv-only --mode pickle 0` receiving the bytes over loopback TCP from
#            `sockkit connect` (end to end: accept, receive, scan, decode, repr, write).
#
# Runs alternate A B A B; the table gives messages/s (min/median/max over the pairs) and the ratio
# of medians. Both outputs are compared byte for byte. Usage: bench/p3_pickle.sh [PAIRS] [COUNT]
set -euo pipefail

PAIRS=${1:-5}
COUNT=${2:-200000}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/sockkit
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$COUNT" "$WORK/stream.bin" <<'EOF'
import pickle, sys
n, path = int(sys.argv[1]), sys.argv[2]
total = 0
with open(path, "wb") as f:
    for i in range(n):
        d = {"student_name": f"Student {i:06d}", "github_username": f"user_{i:06d}",
             "sid": 100000000 + i, "ok": i % 3 == 0}
        b = pickle.dumps(d, protocol=4)
        total += len(b)
        f.write(b)
print(f"stream: {n} pickles, {total} bytes, {total / n:.1f} bytes each", file=sys.stderr)
EOF

cat > "$WORK/peer.py" <<'EOF'
import io, pickle, sys
data = open(sys.argv[1], "rb").read()
f = io.BytesIO(data)
out = []
u = pickle.Unpickler(f)
end = len(data)
while f.tell() < end:
    out.append(repr(u.load()))
sys.stdout.write("\n".join(out) + "\n")
EOF

now() { date +%s.%N; }

run_peer() {
    local t0 t1
    t0=$(now)
    python3 "$WORK/peer.py" "$WORK/stream.bin" > "$WORK/peer.out"
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

run_sockkit() {
    local t0 t1 port pid
    rm -f "$WORK/err"
    "$BIN" listen --recv-only --mode pickle 127.0.0.1 0 < /dev/null > "$WORK/sockkit.out" 2> "$WORK/err" &
    pid=$!
    for _ in $(seq 1 500); do
        port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/err" 2>/dev/null | head -1)
        [ -n "$port" ] && break
        sleep 0.01
    done
    [ -n "$port" ] || { echo "sockkit did not report its port" >&2; kill "$pid"; exit 1; }
    t0=$(now)
    "$BIN" connect 127.0.0.1 "$port" < "$WORK/stream.bin" > /dev/null
    wait "$pid"
    t1=$(now)
    echo "$t1 - $t0" | bc -l
}

peer_times=()
sk_times=()
for i in $(seq 1 "$PAIRS"); do
    peer_times+=("$(run_peer)")
    sk_times+=("$(run_sockkit)")
    if ! cmp -s "$WORK/peer.out" "$WORK/sockkit.out"; then
        echo "OUTPUT DIFFERS (run $i):" >&2
        diff "$WORK/peer.out" "$WORK/sockkit.out" | head -5 >&2
        exit 1
    fi
done
echo "outputs identical: $(wc -l < "$WORK/peer.out") lines each" >&2

python3 - "$COUNT" "${peer_times[*]}" "${sk_times[*]}" <<'EOF'
import statistics, sys
n = int(sys.argv[1])
peer = sorted(n / float(t) for t in sys.argv[2].split())
sk = sorted(n / float(t) for t in sys.argv[3].split())
def row(name, r):
    return f"| {name:<34} | {min(r):>11,.0f} | {statistics.median(r):>11,.0f} | {max(r):>11,.0f} |"
print(f"P3 pickle display, {n} messages, {len(peer)} alternating pairs (messages/s)")
print("| who                                |         min |      median |         max |")
print("|------------------------------------|-------------|-------------|-------------|")
print(row("CPython 3 pickle.loads + repr", peer))
print(row("sockkit listen --mode pickle (TCP)", sk))
ratio = statistics.median(sk) / statistics.median(peer)
print(f"ratio of medians: {ratio:.2f}x (target >= 2.5x)")
EOF
