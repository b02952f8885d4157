#!/usr/bin/env python3
"""TCP listener for every CPE of the Forewarn lab, in a single process.

Usage: cpe-listener.py PORT NAMESPACE_LIST_FILE PID_FILE

For each network namespace named in NAMESPACE_LIST_FILE (one per line, e.g.
fwl-agg1-l03) the process enters the namespace (setns), opens a listening TCP
socket on 0.0.0.0:PORT there, and comes back: a socket stays in the namespace
it was created in. One select loop then serves all of them, so a lab with
thousands of CPEs costs one process instead of one per CPE. A connection gets
a one-line banner naming the CPE and is closed, which is all a TCP probe
(TR-069 connection-request port 7547) needs.

Python 3.11 (Debian 12) has no os.setns, so setns(2) is called through libc.
The PID file is written once every socket listens: the lab waits for it.
"""

import ctypes
import os
import resource
import selectors
import signal
import socket
import sys

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


def enter(libc, path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    port = int(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        namespaces = [line.strip() for line in f if line.strip()]
    pid_file = sys.argv[3]

    # One descriptor per CPE: lift the soft limit to the hard one.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = len(namespaces) + 64
    if soft != resource.RLIM_INFINITY and soft < want:
        new_soft = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))

    libc = ctypes.CDLL(None, use_errno=True)
    home_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    selector = selectors.DefaultSelector()
    for name in namespaces:
        enter(libc, os.path.join(NETNS_DIR, name))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("0.0.0.0", port))
        sock.listen(64)
        sock.setblocking(False)
        label = name.split("-", 1)[1] if "-" in name else name
        selector.register(sock, selectors.EVENT_READ, f"forewarn-lab CPE {label}\r\n".encode())
    if libc.setns(home_fd, CLONE_NEWNET) != 0:
        sys.exit("setns back to the starting namespace failed")
    os.close(home_fd)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tmp = pid_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(tmp, pid_file)

    while True:
        for key, _ in selector.select():
            try:
                conn, _ = key.fileobj.accept()
            except (BlockingIOError, ConnectionAbortedError):
                continue
            try:
                conn.setblocking(False)
                conn.send(key.data)
            except OSError:
                pass
            finally:
                conn.close()


if __name__ == "__main__":
    main()
