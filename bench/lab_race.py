#!/usr/bin/env python3
"""The early-record race of issue 15: a student client that sends its record before reading the
welcome (`send` first, then `recv` twice) hangs for ever when its first `recv()` returns the welcome and
the acknowledgement together. This counts how often that happens against sockkit's lab-server and
against the course's Python server (thread per client), alternating, in the same run.

Usage: bench/lab_race.py [--runs N] [--sockkit PATH]
Prints, per server, the number of handshakes whose first recv() held both messages.
"""
import argparse, os, pickle, socket, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PY_SERVER = r'''
import pickle, socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(128)
print('PORT', s.getsockname()[1], flush=True)
def serve(conn, addr):
    conn.send(pickle.dumps({'clientid': addr[1]}))
    while True:
        data = conn.recv(1024)
        if not data: break
        st = pickle.loads(data)
        print(f"Connected: Student: {st['student_name']}, Github Username: {st['github_username']}, sid: {st['sid']}", flush=True)
        conn.send(pickle.dumps(1))
    conn.close()
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c, a), daemon=True).start()
'''


def start(kind, sockkit):
    if kind == "python":
        p = subprocess.Popen([sys.executable, "-u", "-c", PY_SERVER], stdout=subprocess.PIPE, text=True)
        port = int(p.stdout.readline().split()[1])
    else:
        p = subprocess.Popen([sockkit, "lab-server", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = int(p.stdout.readline().strip().rsplit("/", 1)[1])
    subprocess.Popen(["cat"], stdin=p.stdout, stdout=subprocess.DEVNULL)
    return p, port


def one(port):
    """The buggy student: send first, then recv. True when the first recv got both messages."""
    s = socket.create_connection(("127.0.0.1", port))
    s.send(pickle.dumps({'student_name': 'Early Bird', 'github_username': 'eb', 'sid': 1}))
    s.settimeout(10)
    data = s.recv(4096)
    joined = len(data) > 29
    if not joined:
        s.recv(4096)  # the acknowledgement arrives on its own
    s.close()
    return joined


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--sockkit", default=os.path.join(ROOT, "target", "release", "sockkit"))
    args = ap.parse_args()
    servers = {k: start(k, args.sockkit) for k in ("python", "sockkit")}
    joined = {"python": 0, "sockkit": 0}
    try:
        for _ in range(args.runs):
            for kind, (_, port) in servers.items():
                joined[kind] += one(port)
    finally:
        for p, _ in servers.values():
            p.kill()
            p.wait()
    for kind, n in joined.items():
        print("%-8s welcome and ack in one recv(): %d of %d" % (kind, n, args.runs))


if __name__ == "__main__":
    main()
