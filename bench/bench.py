#!/usr/bin/env python3
"""sockkit against nc-openbsd, ncat and socat: P1 (bulk TCP relay), P5 (small-message latency), P7
(footprint), P8 (TLS bulk relay, a quarter of P1's size, every client verifying the server with a
CA made by openssl) and P9 (port forward, `sockkit relay` against socat's fork) of ../shared/BENCH.md,
measured in the same run, alternating A B A B, median of N.

Usage: bench/bench.py [--quick] [--runs N] [--only P1,P5,P7,P8,P9]
--quick is the short form CI runs (small sizes, 3 runs): it checks the harness works, its figures are
not the reported ones.
"""
import argparse, os, re, shutil, socket, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOCKKIT = os.path.join(ROOT, "target", "release", "sockkit")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_listening(port, timeout=10):
    needle = ":%04X " % port
    deadline = time.time() + timeout
    while time.time() < deadline:
        for t in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(t) as f:
                for line in f.readlines()[1:]:
                    cols = line.split()
                    if (cols[1] + " ").endswith(needle) and cols[3] == "0A":
                        return
        time.sleep(0.005)
    raise RuntimeError("nothing listening on %d" % port)


# Each peer: how to start a server that writes what it receives to stdout, and a client that sends its
# stdin and exits after EOF.
def servers(port):
    return {
        "sockkit": [SOCKKIT, "listen", "127.0.0.1", str(port)],
        "nc": ["nc", "-l", "127.0.0.1", str(port)],
        "ncat": ["ncat", "-l", "127.0.0.1", str(port)],
        "socat": ["socat", "-u", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr" % port, "STDOUT"],
    }


def clients(port):
    return {
        "sockkit": [SOCKKIT, "connect", "127.0.0.1", str(port)],
        "nc": ["nc", "-N", "127.0.0.1", str(port)],
        "ncat": ["ncat", "--send-only", "127.0.0.1", str(port)],
        "socat": ["socat", "-u", "STDIN", "TCP:127.0.0.1:%d" % port],
    }


def p1_once(tool, size):
    port = free_port()
    with open(os.devnull, "wb") as null:
        srv = subprocess.Popen(servers(port)[tool], stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.DEVNULL)
        wait_listening(port)
        start = time.perf_counter()
        src = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
        cli = subprocess.Popen(clients(port)[tool], stdin=src.stdout, stdout=null, stderr=subprocess.DEVNULL)
        src.stdout.close()
        srv.wait(timeout=600)
        elapsed = time.perf_counter() - start
        cli.wait(timeout=60)
        src.wait()
    return size / elapsed / 1e9


def p9_once(tool, size):
    """2 GiB from nc through a forwarder (sockkit relay or socat fork) into nc; GB/s."""
    sink_port, fwd_port = free_port(), free_port()
    with open(os.devnull, "wb") as null:
        sink = subprocess.Popen(["nc", "-l", "127.0.0.1", str(sink_port)], stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.DEVNULL)
        wait_listening(sink_port)
        fwd_cmd = {
            "sockkit": [SOCKKIT, "relay", "127.0.0.1:%d" % fwd_port, "127.0.0.1:%d" % sink_port],
            "socat": ["socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % fwd_port, "TCP:127.0.0.1:%d" % sink_port],
        }[tool]
        fwd = subprocess.Popen(fwd_cmd, stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.DEVNULL)
        wait_listening(fwd_port)
        start = time.perf_counter()
        src = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
        cli = subprocess.Popen(["nc", "-N", "127.0.0.1", str(fwd_port)], stdin=src.stdout, stdout=null, stderr=subprocess.DEVNULL)
        src.stdout.close()
        sink.wait(timeout=600)
        elapsed = time.perf_counter() - start
        cli.wait(timeout=60)
        src.wait()
        fwd.kill()
        fwd.wait()
    return size / elapsed / 1e9


def p5_driver(client_cmd, count):
    """Ping-pong 64-byte messages through a client process's stdin/stdout; returns RTTs in µs."""
    p = subprocess.Popen(client_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    msg = b"x" * 63 + b"\n"
    rtts = []
    fd_in, fd_out = p.stdin.fileno(), p.stdout.fileno()
    for i in range(count + 50):
        t = time.perf_counter()
        os.write(fd_in, msg)
        got = 0
        while got < 64:
            b = os.read(fd_out, 64 - got)
            if not b:
                raise RuntimeError("client closed early")
            got += len(b)
        if i >= 50:
            rtts.append((time.perf_counter() - t) * 1e6)
    p.stdin.close()
    p.wait(timeout=10)
    return rtts


PY_ECHO = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    b = c.recv(65536)
    if not b: break
    c.sendall(b)
"""


def p5_once(tool, count):
    port = free_port()
    if tool == "sockkit":
        srv = subprocess.Popen([SOCKKIT, "listen", "--echo", "127.0.0.1", str(port)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cli = [SOCKKIT, "connect", "127.0.0.1", str(port)]
    else:
        srv = subprocess.Popen([sys.executable, "-c", PY_ECHO, str(port)])
        cli = ["nc", "-N", "127.0.0.1", str(port)]
    wait_listening(port)
    try:
        rtts = p5_driver(cli, count)
    finally:
        srv.kill()
        srv.wait()
    rtts.sort()
    return rtts[len(rtts) // 2], rtts[int(len(rtts) * 0.99)]


def tls_files(tmp):
    """A CA and a leaf for localhost/127.0.0.1 it signed, made with openssl: (cert, key, ca)."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
    ossl("req", "-new", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost")
    with open(os.path.join(tmp, "leaf.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n")
    ossl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
         "-out", "leaf.pem", "-extfile", "leaf.ext")
    return [os.path.join(tmp, n) for n in ("leaf.pem", "leaf.key", "ca.pem")]


def p8_once(tool, size, files):
    """P1 through TLS: the same server and client shapes, each verifying the server with the CA."""
    cert, key, ca = files
    port = free_port()
    srv_cmd = {
        "sockkit": [SOCKKIT, "listen", "--tls", "--cert", cert, "--key", key, "127.0.0.1", str(port)],
        "ncat": ["ncat", "--ssl", "--ssl-cert", cert, "--ssl-key", key, "-l", "127.0.0.1", str(port)],
        "socat": ["socat", "-u", "OPENSSL-LISTEN:%d,bind=127.0.0.1,reuseaddr,cert=%s,key=%s,verify=0" % (port, cert, key), "STDOUT"],
    }[tool]
    cli_cmd = {
        "sockkit": [SOCKKIT, "connect", "--tls", "--ca", ca, "localhost", str(port)],
        "ncat": ["ncat", "--ssl", "--ssl-verify", "--ssl-trustfile", ca, "--send-only", "localhost", str(port)],
        "socat": ["socat", "-u", "STDIN", "OPENSSL:localhost:%d,cafile=%s" % (port, ca)],
    }[tool]
    with open(os.devnull, "wb") as null:
        srv = subprocess.Popen(srv_cmd, stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.DEVNULL)
        wait_listening(port)
        start = time.perf_counter()
        src = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
        cli = subprocess.Popen(cli_cmd, stdin=src.stdout, stdout=null, stderr=subprocess.DEVNULL)
        src.stdout.close()
        srv.wait(timeout=600)
        elapsed = time.perf_counter() - start
        cli.wait(timeout=60)
        src.wait()
    return size / elapsed / 1e9


def p7_rss(tool):
    port = free_port()
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    cmd = {"sockkit": [SOCKKIT, "connect", "127.0.0.1", str(port)], "nc": ["nc", "127.0.0.1", str(port)],
           "socat": ["socat", "STDIO", "TCP:127.0.0.1:%d" % port]}[tool]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c, _ = srv.accept()
    c.sendall(b"hello\n")
    time.sleep(0.3)  # let it settle into its idle state; we measure footprint, not readiness
    with open("/proc/%d/status" % p.pid) as f:
        hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
    p.kill(); p.wait(); c.close(); srv.close()
    return hwm / 1024


def p7_startup(runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([SOCKKIT, "--version"], stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return times


def stats(xs):
    return "%.3g/%.3g/%.3g" % (min(xs), statistics.median(xs), max(xs))


def row(workload, peer, peer_fig, ours, unit, runs, ratio, target):
    print("| %s | %s %s | %s | %s | %.2fx | %d | %s |" % (workload, peer, peer_fig, ours, unit, ratio, runs, target))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--only", default="P1,P5,P7")
    args = ap.parse_args()
    runs = args.runs or (3 if args.quick else 5)
    only = set(args.only.split(","))
    size = (64 << 20) if args.quick else (2 << 30)
    peers = [t for t in ("nc", "ncat", "socat") if shutil.which(t)]
    skipped = [t for t in ("nc", "ncat", "socat") if t not in peers]
    if skipped:
        print("skipped peers (not installed; run bench/setup): %s" % ", ".join(skipped))
    print("| workload | peer (min/median/max) | sockkit (min/median/max) | unit | ratio of medians | pairs | target |")
    print("|---|---|---|---|---|---|---|")
    if "P1" in only:
        for peer in peers:
            a, b = [], []
            for _ in range(runs):
                a.append(p1_once(peer, size))
                b.append(p1_once("sockkit", size))
            target = ">= 1.3x" if peer == "nc" else (">= 1x" if peer == "socat" else "-")
            row("P1 bulk %s" % ("64M" if args.quick else "2G"), peer, stats(a), stats(b), "GB/s", runs, statistics.median(b) / statistics.median(a), target)
    if "P5" in only and "nc" in peers:
        count = 300 if args.quick else 20000
        n50, n99, s50, s99 = [], [], [], []
        for _ in range(runs):
            x = p5_once("nc", count); n50.append(x[0]); n99.append(x[1])
            y = p5_once("sockkit", count); s50.append(y[0]); s99.append(y[1])
        row("P5 latency p50", "nc", stats(n50), stats(s50), "µs", runs, statistics.median(n50) / statistics.median(s50), ">= 1x (peer/ours)")
        row("P5 latency p99", "nc", stats(n99), stats(s99), "µs", runs, statistics.median(n99) / statistics.median(s99), ">= 1x (peer/ours)")
    if "P9" in only and "socat" in peers and "nc" in peers:
        a, b = [], []
        for _ in range(runs):
            a.append(p9_once("socat", size))
            b.append(p9_once("sockkit", size))
        row("P9 port forward %s" % ("64M" if args.quick else "2G"), "socat", stats(a), stats(b), "GB/s", runs, statistics.median(b) / statistics.median(a), ">= 1x")
    if "P7" in only:
        for peer in [p for p in ("nc", "socat") if p in peers]:
            a = [p7_rss(peer) for _ in range(runs)]
            b = [p7_rss("sockkit") for _ in range(runs)]
            row("P7 idle RSS", peer, stats(a), stats(b), "MB", runs, statistics.median(a) / statistics.median(b), "ours <= 8 MB")
        st = p7_startup(runs * 10)
        print("| P7 start-up | - | %s | ms | - | %d | <= 5 ms |" % (stats(st), runs * 10))
    if "P8" in only:
        import tempfile
        tls_peers = [p for p in ("ncat", "socat") if p in peers]
        tls_size = size // 4 if not args.quick else size
        with tempfile.TemporaryDirectory() as tmp:
            files = tls_files(tmp)
            ours = [p8_once("sockkit", tls_size, files) for _ in range(runs)] if not tls_peers else []
            for peer in tls_peers:
                a, b = [], []
                for _ in range(runs):
                    a.append(p8_once(peer, tls_size, files))
                    b.append(p8_once("sockkit", tls_size, files))
                ours += b
                row("P8 TLS bulk %dM" % (tls_size >> 20), peer, stats(a), stats(b), "GB/s", runs, statistics.median(b) / statistics.median(a), ">= the faster peer")
            if not tls_peers:
                print("| P8 TLS bulk %dM | - (ncat, socat not installed) | %s | GB/s | - | %d | >= the faster peer |" % (tls_size >> 20, stats(ours), runs))


if __name__ == "__main__":
    main()
