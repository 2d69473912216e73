#!/usr/bin/env python3
"""Soak tests of issue 8: no data loss, no leaks, bounded memory. The bounded form runs in CI
(`--quick`); the long form is run by hand and its figures go in the README.

  soak.py transfer [--size MiB] [--runs N]   random bytes both ways at once through listen/connect and
                                             through listen -k --broker; hashes compared; peak RSS
  soak.py slow [--size MiB]                  a reader that reads slowly: sockkit's RSS stays bounded
  soak.py leaks [--cycles N]                 connect/disconnect cycles against listen -k and lab-server:
                                             open descriptors and RSS before and after
  soak.py all [--quick]                      everything, long or bounded
"""
import argparse, hashlib, os, re, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOCKKIT = os.path.join(ROOT, "target", "release", "sockkit")
FAILED = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILED.append(what)


def rss_mb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(field + r":\s+(\d+)", f.read()).group(1)) / 1024


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def port_from_stderr(proc):
    line = proc.stderr.readline().decode()
    m = re.search(r"listening on .*:(\d+)", line)
    if not m:
        raise RuntimeError("no listening line: %r" % line)
    return int(m.group(1))


def check_byte(got, want):
    if got != want:
        raise RuntimeError("broker handshake: expected %r, got %r" % (want, got))


def random_file(path, mib, seed):
    """Deterministic pseudo-random bytes (Python's generator, seeded)."""
    import random
    rnd = random.Random(seed)
    with open(path, "wb") as f:
        left = mib << 20
        while left:
            n = min(left, 1 << 22)
            f.write(rnd.randbytes(n))
            left -= n


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def hashing_reader(stream, out):
    h = hashlib.sha256()
    while True:
        b = stream.read(1 << 20)
        if not b:
            break
        h.update(b)
    out.append(h.hexdigest())


def peak_watch(pids, stop, peaks):
    while not stop.is_set():
        for p in pids:
            try:
                peaks[p] = max(peaks.get(p, 0), rss_mb(p))
            except Exception:
                pass
        time.sleep(0.05)


def transfer(mib, runs):
    tmp = tempfile.mkdtemp()
    up, down = os.path.join(tmp, "up"), os.path.join(tmp, "down")
    random_file(up, mib, 1)
    random_file(down, mib, 2)
    hu, hd = sha(up), sha(down)
    ok, peak = 0, 0.0
    for _ in range(runs):
        srv = subprocess.Popen([SOCKKIT, "listen", "127.0.0.1", "0"], stdin=open(down, "rb"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        port = port_from_stderr(srv)
        cli = subprocess.Popen([SOCKKIT, "connect", "127.0.0.1", str(port)], stdin=open(up, "rb"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got_up, got_down, stop, peaks = [], [], threading.Event(), {}
        ts = [threading.Thread(target=hashing_reader, args=(srv.stdout, got_up)),
              threading.Thread(target=hashing_reader, args=(cli.stdout, got_down)),
              threading.Thread(target=peak_watch, args=([srv.pid, cli.pid], stop, peaks))]
        for t in ts:
            t.start()
        srv.wait(timeout=600); cli.wait(timeout=600)
        stop.set()
        for t in ts:
            t.join()
        peak = max([peak] + list(peaks.values()))
        if got_up == [hu] and got_down == [hd] and srv.returncode == 0 and cli.returncode == 0:
            ok += 1
    check(ok == runs, "listen/connect: %d MiB each way at once, hashes equal in %d of %d runs (peak RSS %.1f MB)" % (mib, ok, runs, peak))

    ok, peak = 0, 0.0
    for _ in range(runs):
        srv = subprocess.Popen([SOCKKIT, "listen", "--broker", "127.0.0.1", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        port = port_from_stderr(srv)
        # Both clients are registered before either sends its file: each hears exactly what the other
        # sends. The listener accepts in connection order and registers a client before reading it, so
        # once a hears b's byte both are in; a's byte then reaches b. (a speaking first could race b's
        # accept: the broker sends to the clients it has, and b might not be one yet.)
        a = socket.create_connection(("127.0.0.1", port), timeout=60)
        b = socket.create_connection(("127.0.0.1", port), timeout=60)
        b.sendall(b"y"); check_byte(a.recv(1), b"y")
        a.sendall(b"x"); check_byte(b.recv(1), b"x")
        got_a, got_b, stop, peaks = [], [], threading.Event(), {}

        def send(sock, path):
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)

        def recv(sock, n, out):
            h, left = hashlib.sha256(), n
            while left:
                chunk = sock.recv(min(left, 1 << 20))
                if not chunk:
                    break
                h.update(chunk); left -= len(chunk)
            out.append(h.hexdigest())

        n = mib << 20
        ts = [threading.Thread(target=send, args=(a, up)), threading.Thread(target=send, args=(b, down)),
              threading.Thread(target=recv, args=(a, n, got_a)), threading.Thread(target=recv, args=(b, n, got_b)),
              threading.Thread(target=peak_watch, args=([srv.pid], stop, peaks))]
        for t in ts:
            t.start()
        for t in ts[:4]:
            t.join()
        stop.set(); ts[4].join()
        srv.kill(); srv.wait(); a.close(); b.close()
        peak = max([peak] + list(peaks.values()))
        if got_b == [hu] and got_a == [hd]:
            ok += 1
    check(ok == runs, "listen --broker: %d MiB each way between two clients, hashes equal in %d of %d runs (peak RSS %.1f MB)" % (mib, ok, runs, peak))


def slow(mib):
    """A reader that takes its time: sockkit must not buffer the whole stream in memory."""
    srv = subprocess.Popen([SOCKKIT, "listen", "127.0.0.1", "0"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    port = port_from_stderr(srv)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    data = os.urandom(1 << 20)
    stop, peaks = threading.Event(), {}
    watcher = threading.Thread(target=peak_watch, args=([srv.pid], stop, peaks))
    watcher.start()

    def sender():
        for _ in range(mib):
            s.sendall(data)
        s.close()

    t = threading.Thread(target=sender)
    t.start()
    got = 0
    while True:
        b = srv.stdout.read1(65536)
        if not b:
            break
        got += len(b)
        time.sleep(0.002)  # the slow reader: about 30 MB/s at most
    t.join(); srv.wait(timeout=60); stop.set(); watcher.join()
    peak = peaks.get(srv.pid, 0)
    check(got == mib << 20 and peak < 64, "slow reader: %d MiB delivered whole, sockkit peak RSS %.1f MB (bound 64 MB)" % (mib, peak))


def leaks(cycles):
    for name, cmd in (("listen -k", [SOCKKIT, "listen", "-k", "--echo", "127.0.0.1", "0"]),
                      ("lab-server", [SOCKKIT, "lab-server", "--port", "0"])):
        srv = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if name == "lab-server":
            port = int(srv.stdout.readline().decode().strip().rsplit("/", 1)[1])
            threading.Thread(target=lambda: [None for _ in iter(lambda: srv.stdout.read(65536), b"")], daemon=True).start()
        else:
            port = port_from_stderr(srv)
        threading.Thread(target=lambda: [None for _ in iter(lambda: srv.stderr.read(65536), b"")], daemon=True).start()

        def cycle(n):
            for i in range(n):
                c = socket.create_connection(("127.0.0.1", port), timeout=30)
                if name == "lab-server":
                    c.recv(64)
                    if i % 3 == 0:
                        c.sendall(b"\x80\x04garbage")  # some bad ones too
                else:
                    c.sendall(b"ping")
                    c.recv(4)
                c.close()

        cycle(200)  # warm up allocator pools
        time.sleep(0.5)
        f0, r0 = fds(srv.pid), rss_mb(srv.pid)
        cycle(cycles)
        deadline = time.time() + 10
        while fds(srv.pid) > f0 and time.time() < deadline:
            time.sleep(0.05)
        f1, r1 = fds(srv.pid), rss_mb(srv.pid)
        srv.kill(); srv.wait()
        check(f1 == f0 and r1 <= r0 + 4, "%s: %d connect/disconnect cycles: descriptors %d -> %d, RSS %.1f -> %.1f MB" % (name, cycles, f0, f1, r0, r1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["transfer", "slow", "leaks", "all"])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--size", type=int, help="MiB")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--cycles", type=int)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    size = a.size or (64 if a.quick else 1024)
    runs = a.runs or (2 if a.quick else 20)
    cycles = a.cycles or (1000 if a.quick else 10000)
    if a.what in ("transfer", "all"):
        transfer(size, runs)
    if a.what in ("slow", "all"):
        slow(min(size, 256))
    if a.what in ("leaks", "all"):
        leaks(cycles)
    if FAILED:
        print("%d soak check(s) failed" % len(FAILED))
        sys.exit(1)


if __name__ == "__main__":
    main()
