#!/usr/bin/env python3
"""P2 (hex display), P3 (pickle display) and P6 (UDP receive) of BENCH.md, against xxd, CPython and
nc in the same run, alternating A B, median of N.

Usage: bench/modes.py [--quick] [--runs N] [--only p2,p3,p6] [--senders N] [--batch N] [--baseline SOCKKIT]

P6 prints, besides the table row, what the senders manage into a socket nobody reads (the ceiling): on
loopback the sender pays for the kernel's whole receive path, so the sender caps what any receiver can
print. A receiver's rate is only measured by senders faster than it: by default two senders, each
sending 64 datagrams a system call (sendmmsg). On a 2-core machine nc -u -l prints 99% of what one
such sender manages, so with `--senders 1` both receivers print nearly all they are sent and the row
measures the sender; `--batch 1` is one send(2) a datagram. P6 also gives each receiver's CPU time
per datagram printed, which does not depend on the senders.
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


def blast(port, secs, senders, batch):
    """Runs `senders` udp_blast processes at once; returns how many datagrams they sent in all."""
    procs = [subprocess.Popen([BLAST, "127.0.0.1:%d" % port, str(secs), str(batch)], stdout=subprocess.PIPE) for _ in range(senders)]
    return sum(int(p.communicate()[0]) for p in procs)


def free_udp_port():
    import socket
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    """User plus system CPU time of a process and all its threads, so far (Linux)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p6(tmp, secs, runs, senders, batch, baseline):
    """udp-listen against nc -u -l -k, printing to a file; also what the senders manage into a socket
    nobody reads (the ceiling: on loopback the sender pays for the kernel's whole receive path)."""
    import socket
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    ceiling = [blast(sink.getsockname()[1], secs, senders, batch) / secs for _ in range(2)]
    sink.close()
    tools = [("nc", None), ("sockkit", SOCKKIT)] + ([("baseline", baseline)] if baseline else [])
    got = {name: [] for name, _ in tools}
    cost = {name: [] for name, _ in tools}
    for _ in range(runs):
        for name, path in tools:
            port = free_udp_port()
            out_path = os.path.join(tmp, "udp.out")
            with open(out_path, "wb") as out:
                cmd = ["nc", "-u", "-l", "-k", "127.0.0.1", str(port)] if path is None else [path, "udp-listen", "127.0.0.1", str(port)]
                p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.DEVNULL)
                time.sleep(0.3)  # nc cannot report readiness; every tool gets the same head start
                sent = blast(port, secs, senders, batch)
                time.sleep(0.3)
                cpu = cpu_seconds(p.pid)
                p.kill(); p.wait()
            n = os.path.getsize(out_path) / 64
            got[name].append(n / secs)
            cost[name].append(cpu / max(n, 1) * 1e9)
            print("#   %s: %d sent, %d printed (%.0f%%), %.0f ns of CPU each" % (name, sent, n, 100 * n / max(sent, 1), cost[name][-1]), file=sys.stderr)
    label = "P6 UDP receive, 64-byte datagrams, %d sender%s, %d a call (ceiling %s/s)" % (senders, "" if senders == 1 else "s", batch, stats(ceiling))
    row(label, "nc -u -l -k", got["nc"], got["sockkit"], "datagrams/s", ">= 1.5x")
    # What each datagram cost the receiver, whatever the sender managed (lower is better).
    print("| P6 receiver's CPU per datagram printed (user + system) | nc -u -l -k %s | %s | ns | %.2fx less | %d | |" % (
        stats(cost["nc"]), stats(cost["sockkit"]), statistics.median(cost["nc"]) / statistics.median(cost["sockkit"]), len(cost["nc"])))
    if baseline:
        row(label + ", baseline " + os.path.basename(baseline), "nc -u -l -k", got["nc"], got["baseline"], "datagrams/s", "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--only", default="p2,p3,p6", help="which workloads, comma-separated")
    ap.add_argument("--senders", type=int, default=2, help="P6: udp_blast processes at once")
    ap.add_argument("--batch", type=int, default=64, help="P6: datagrams per send call (sendmmsg); 1 for send(2)")
    ap.add_argument("--baseline", help="P6: another sockkit binary measured in the same run")
    args, _ = ap.parse_known_args()
    runs = args.runs or (2 if args.quick else 5)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "udp_blast"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        only = args.only.split(",")
        if "p2" in only:
            p2(tmp, (16 if args.quick else 256) << 20, runs)
        if "p3" in only:
            p3(tmp, 20000 if args.quick else 200000, runs)
        if "p6" in only:
            p6(tmp, 1 if args.quick else 3, runs, args.senders, args.batch, args.baseline)


if __name__ == "__main__":
    main()
