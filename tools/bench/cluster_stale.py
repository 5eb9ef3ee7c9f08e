#!/usr/bin/env python3
"""cluster_stale.py - how stale is box B's view of box A's profile count?
(bench-cluster.sh, staleness part)

Polls dlg.profile_get_size PROFILE VALUE on both control sockets over one
JSON-RPC connection each (no process per poll: about a millisecond a
poll): first A until it shows WANT (the count changed there; the change
happened between the last poll that did not show it and the first that
did), then B until it shows WANT too.

  cluster_stale.py SOCK_A SOCK_B PROFILE VALUE WANT TIMEOUT_MS

Prints "ok <ms from A's last poll before the change to B's first poll
showing it> <ms from A's first poll showing it to that>" or "timeout A|B
<last value>"; exit 0 / 1.
"""
import json
import socket
import sys
import time


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(2.0)
        self.s.connect(path)
        self.buf = b""
        self.id = 0

    def call(self, method, params):
        self.id += 1
        self.s.sendall((json.dumps({"jsonrpc": "2.0", "method": method,
                                    "params": params, "id": self.id})
                        + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("control socket closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line).get("result")


def size(ctl, prof, value):
    r = ctl.call("dlg.profile_get_size", [prof, value])
    if isinstance(r, dict):
        r = r.get("size", r.get("count"))
    return r


def main():
    if len(sys.argv) != 7:
        sys.stderr.write(__doc__)
        return 64
    a, b = Ctl(sys.argv[1]), Ctl(sys.argv[2])
    prof, value, want = sys.argv[3], sys.argv[4], int(sys.argv[5])
    end = time.monotonic() + int(sys.argv[6]) / 1000.0
    t_before = t_a = None
    v = None
    while time.monotonic() < end:
        t = time.monotonic_ns()
        v = size(a, prof, value)
        if v == want:
            t_a = t
            if t_before is None:
                t_before = t
            break
        t_before = t
    if t_a is None:
        print("timeout A %s" % v)
        return 1
    while time.monotonic() < end:
        v = size(b, prof, value)
        if v == want:
            t_b = time.monotonic_ns()
            print("ok %.1f %.1f" % ((t_b - t_before) / 1e6,
                                    (t_b - t_a) / 1e6))
            return 0
    print("timeout B %s" % v)
    return 1


if __name__ == "__main__":
    sys.exit(main())
