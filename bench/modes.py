#!/usr/bin/env python3
"""P2 (hex display), P3 (pickle display) and P6 (UDP receive) of BENCH.md, against xxd, CPython and
nc in the same run, alternating A B, median of N.

Usage: bench/modes.py [--quick] [--runs N]
"""
import argparse, os, pickle, random, re, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOCKKIT = os.path.join(ROOT, "target", "release", "sockkit")
BLAST = os.path.join(ROOT, "target", "release", "examples", "udp_blast")


def sockkit_receive(path, mode_args, out_path):
    """Time sockkit listen (display mode) receiving the file from sockkit connect, output to out_path."""
    with open(out_path, "wb") as out:
        srv = subprocess.Popen([SOCKKIT, "listen", *mode_args, "127.0.0.1", "0"], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.PIPE)
        port = int(re.search(r":(\d+)", srv.stderr.readline().decode()).group(1))
        t = time.perf_counter()
        with open(path, "rb") as f:
            subprocess.run([SOCKKIT, "connect", "--send-only", "127.0.0.1", str(port)], stdin=f, check=True)
        srv.wait(timeout=600)
        return time.perf_counter() - t


def stats(xs):
    return "%.3g/%.3g/%.3g" % (min(xs), statistics.median(xs), max(xs))


def row(name, peer, a, b, unit, target):
    print("| %s | %s %s | %s | %s | %.2fx | %d | %s |" % (name, peer, stats(a), stats(b), unit, statistics.median(b) / statistics.median(a), len(a), target))


def p2(tmp, size, runs):
    data = os.path.join(tmp, "random.bin")
    with open(data, "wb") as f:
        rnd = random.Random(1)
        for _ in range(size >> 20):
            f.write(rnd.randbytes(1 << 20))
    a, b = [], []
    for _ in range(runs):
        t = time.perf_counter()
        with open(os.devnull, "wb") as null:
            subprocess.run(["xxd", data], stdout=null, check=True)
        a.append(size / (time.perf_counter() - t) / 1e6)
        b.append(size / sockkit_receive(data, ["--mode", "hex"], os.devnull) / 1e6)
    row("P2 hex display, %d MiB random" % (size >> 20), "xxd", a, b, "MB/s", ">= 10x")


PY_REPR = r'''
import io, pickle, sys
data = open(sys.argv[1], 'rb').read()
f = io.BytesIO(data)
out = open(sys.argv[2], 'w')
n = len(data)
while f.tell() < n:
    out.write(repr(pickle.load(f)))
    out.write('\n')
'''


def p3(tmp, count, runs):
    stream = os.path.join(tmp, "pickles.bin")
    rnd = random.Random(2)
    with open(stream, "wb") as f:
        for i in range(count):
            f.write(pickle.dumps({"student_name": "Student %d" % i, "github_username": "user%d" % rnd.randrange(10**6),
                                  "sid": rnd.randrange(10**9), "scores": [rnd.random(), i]}, protocol=4))
    avg = os.path.getsize(stream) / count
    a, b = [], []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", PY_REPR, stream, os.path.join(tmp, "py.txt")], check=True)
        a.append(count / (time.perf_counter() - t))
        b.append(count / sockkit_receive(stream, ["--mode", "pickle"], os.path.join(tmp, "sk.txt")))
    same = open(os.path.join(tmp, "py.txt"), "rb").read() == open(os.path.join(tmp, "sk.txt"), "rb").read()
    row("P3 pickle display, %d dicts of %.0f bytes" % (count, avg), "CPython loads+repr", a, b, "msg/s",
        ">= 2.5x; output identical: %s" % ("yes" if same else "NO"))


def p6(tmp, secs, runs):
    import socket
    a, b = [], []
    for _ in range(runs):
        for tool, acc in (("nc", a), ("sockkit", b)):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            out_path = os.path.join(tmp, "udp.out")
            with open(out_path, "wb") as out:
                cmd = ["nc", "-u", "-l", "127.0.0.1", str(port)] if tool == "nc" else [SOCKKIT, "udp-listen", "127.0.0.1", str(port)]
                p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.DEVNULL)
                time.sleep(0.3)  # nc cannot report readiness; both get the same head start
                subprocess.run([BLAST, "127.0.0.1:%d" % port, str(secs)], capture_output=True, check=True)
                time.sleep(0.3)
                p.kill(); p.wait()
            acc.append(os.path.getsize(out_path) / 64 / secs)
    row("P6 UDP receive, 64-byte datagrams", "nc -u -l", a, b, "datagrams/s", ">= 1x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    args, _ = ap.parse_known_args()
    runs = args.runs or (2 if args.quick else 5)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "udp_blast"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        p2(tmp, (16 if args.quick else 256) << 20, runs)
        p3(tmp, 20000 if args.quick else 200000, runs)
        p6(tmp, 1 if args.quick else 3, runs)


if __name__ == "__main__":
    main()
