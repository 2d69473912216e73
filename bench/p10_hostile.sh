#!/usr/bin/env bash
# P10 (BENCH.md): the worst pickles we can construct for `--mode pickle`, each about 16 MB (the
# default --max-message), sent over loopback to `sockkit listen --recv-only --mode pickle`. For each:
# wall time from the first byte sent to sockkit's exit (so decode, print and the end-of-stream drain
# are all in it), the throughput in MB/s, peak RSS, and the first line printed. Then three clients
# at once send the worst-for-memory input to `listen -k` and the server's peak RSS is given.
# Usage: bench/p10_hostile.sh [MB]   (size of each input, default 16)
set -euo pipefail

MB=${1:-16}
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/sockkit
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Each input is one message just under --max-message (16 MiB by default).
python3 - "$MB" "$WORK" <<'EOF'
import os, struct, sys
mb, work = int(sys.argv[1]), sys.argv[2]
n = mb * 1000 * 1000
def put(name, data):
    with open(os.path.join(work, name + ".bin"), "wb") as f:
        f.write(data)
put("decimal_long", b"L" + b"9" * (n - 4) + b"L\n.")
put("decimal_int", b"I" + b"9" * (n - 3) + b"\n.")
put("long4", b"\x80\x04\x8b" + struct.pack("<I", n - 9) + b"\x99" * (n - 9) + b".")
put("float_text", b"F1." + b"1" * (n - 5) + b"\n.")
put("memoize", b"\x80\x04N" + b"\x94" * (n - 4) + b".")
put("empty_lists", b"\x80\x04" + b"]" * (n - 3) + b".")
# One shared int of 4300 digits (the most CPython prints), referenced over and over.
big = (10**4300 - 1).to_bytes(1786, "little", signed=True)
head = b"\x80\x04]\x94(\x8b" + struct.pack("<I", len(big)) + big + b"\x94"
put("shared_big_int", head + b"h\x01" * ((n - len(head) - 2) // 2) + b"e.")
# Distinct ints of 4300 digits each: one conversion each.
one = b"\x8b" + struct.pack("<I", len(big)) + big
put("distinct_big_ints", b"\x80\x04](" + one * ((n - 6) // len(one)) + b"e.")
# A list doubling 60 times through the memo: 2**60 items once expanded.
doubling = b"\x80\x04]\x94"
for i in range(60):
    doubling += b"]\x94(j" + struct.pack("<I", i) + b"j" + struct.pack("<I", i) + b"e0"
put("memo_doubling", doubling + b"j" + struct.pack("<I", 60) + b".")
# Distinct globals called, each warned about once.
calls = b"".join(b"cm%d\nf%d\n)R0" % (i, i) for i in range(n // 20))
put("distinct_globals", b"\x80\x02" + calls + b"N.")
put("nesting", b"\x80\x04" + b"]" * (n // 2 - 2) + b"a" * (n // 2 - 3) + b".")
# Dict keys whose hashes all collide (multiples of 2**61 - 1 hash to 0): stopped by the work limit.
P = 2**61 - 1
keys = b"".join(b"\x8a\x0b" + (i * P).to_bytes(11, "little", signed=True) + b"N" for i in range(1, (n - 8) // 14))
put("colliding_keys", b"\x80\x04}(" + keys + b"u.")
# A dict of a million distinct int keys: the merge pass at its largest.
ints = b"".join(b"J" + struct.pack("<i", i) + b"N" for i in range(min(1_000_000, (n - 8) // 6)))
put("big_dict", b"\x80\x04}(" + ints + b"u.")
put("small_ints", b"\x80\x04](" + b"K\x07" * ((n - 6) // 2) + b"e.")
put("random", os.urandom(n))
EOF

printf '%-18s %10s %9s %10s  %s\n' input MB time_s "MB/s" "peak RSS, first line"
for f in "$WORK"/*.bin; do
    name=$(basename "$f" .bin)
    size=$(stat -c %s "$f")
    rm -f "$WORK/err" "$WORK/time"
    t0=$(date +%s.%N)
    /usr/bin/time -f %M -o "$WORK/time" "$BIN" listen --recv-only --mode pickle 127.0.0.1 0 \
        > "$WORK/out" 2> "$WORK/err" < /dev/null &
    while ! grep -q "listening on" "$WORK/err" 2>/dev/null; do sleep 0.01; done
    port=$(grep -o "listening on [^ ]*" "$WORK/err" | head -1 | sed 's/.*://')
    "$BIN" connect --send-only 127.0.0.1 "$port" < "$f"
    wait
    t1=$(date +%s.%N)
    secs=$(echo "$t1 - $t0" | bc -l)
    rss=$(( $(tail -1 "$WORK/time") / 1024 ))
    first=$(head -c 90 "$WORK/out" | head -1)
    printf '%-18s %10.1f %9.2f %10.1f  %4d MB  %s\n' "$name" "$(echo "$size / 1000000" | bc -l)" \
        "$secs" "$(echo "$size / 1000000 / $secs" | bc -l)" "$rss" "$first"
done

echo
echo "three clients at once, each sending every input above, to listen -k --mode pickle:"
printf '\x80\x04\x8c\x03END\x94.' > "$WORK/end.marker"
/usr/bin/time -f %M -o "$WORK/time" "$BIN" listen -k --recv-only --mode pickle 127.0.0.1 0 \
    > "$WORK/kout" 2> "$WORK/err" < /dev/null &
timer=$!
while ! grep -q "listening on" "$WORK/err" 2>/dev/null; do sleep 0.01; done
port=$(grep -o "listening on [^ ]*" "$WORK/err" | head -1 | sed 's/.*://')
t0=$(date +%s.%N)
for c in 1 2 3; do
    cat "$WORK"/*.bin "$WORK/end.marker" | "$BIN" connect --send-only 127.0.0.1 "$port" &
done
# Each client's stream ends with the pickle 'END': wait until all three are printed.
while [ "$(grep -c "'END'$" "$WORK/kout" || true)" -lt 3 ]; do sleep 0.1; done
t1=$(date +%s.%N)
kill -TERM "$(pgrep -P "$timer")"
wait || true
total=$(( $(cat "$WORK"/*.bin | wc -c) * 3 ))
echo "  $(printf %.0f "$(echo "$total / 1000000" | bc -l)") MB from 3 clients in $(printf %.1f "$(echo "$t1 - $t0" | bc -l)") s, peak RSS $(( $(tail -1 "$WORK/time") / 1024 )) MB"
