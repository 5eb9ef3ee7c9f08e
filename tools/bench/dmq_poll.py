#!/usr/bin/env python3
"""dmq_poll.py - poll Kamailio boxes over their jsonrpcs datagram sockets
(bench-cluster-dmq.sh; kamcmd costs a process per poll, this ~1 ms).

  dmq_poll.py lag SOCK_A SOCK_B TARGET WAIT_MS
      dlg.stats_active of A and B back to back until A's "ongoing"
      (confirmed, ACKed) reaches TARGET, or stays put for 3 s (calls that
      failed: A's last value is the target then), and B's "all" (dialogs it
      lists in any state: a replicated one can be stuck in another) reaches
      A's value.  Prints
      "ok <ns A reached> <ns B reached> <largest A-B seen> <rounds> <A's
      value>" or "timeout <A> <B>"; exit 0 / 1.
  dmq_poll.py le SOCK MAX WAIT_MS METHOD [PARAM...]
      METHOD until the number it answers (its "count", "all" or the
      result itself) is <= MAX.  Prints "ok <ns> <value> <rounds>" or
      "timeout <value>".
  dmq_poll.py get SOCK METHOD [PARAM...]
      one call, the JSON result.
"""
import json
import os
import socket
import sys
import tempfile
import time


class Rpc:
    def __init__(self, path):
        self.path = path
        self.me = os.path.join(tempfile.gettempdir(),
                               "dmqpoll.%d.%d" % (os.getpid(), id(self)))
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(self.me)
        self.s.settimeout(2.0)
        self.n = 0

    def call(self, method, *params):
        self.n += 1
        req = {"jsonrpc": "2.0", "method": method, "id": self.n}
        if params:
            req["params"] = list(params)
        try:
            self.s.sendto(json.dumps(req).encode(), self.path)
            while True:
                rep = json.loads(self.s.recv(1 << 20).decode())
                if rep.get("id") == self.n:
                    return rep.get("result")
        except (OSError, ValueError):
            return None

    def close(self):
        self.s.close()
        try:
            os.unlink(self.me)
        except OSError:
            pass


def number(res):
    if isinstance(res, dict):
        for k in ("count", "all"):
            if k in res:
                return int(res[k])
        return None
    if isinstance(res, (int, float)):
        return int(res)
    return None


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 64
    mode = sys.argv[1]
    if mode == "lag":
        a, b = Rpc(sys.argv[2]), Rpc(sys.argv[3])
        target, wait = int(sys.argv[4]), int(sys.argv[5])
        end = time.monotonic() + wait / 1000.0
        ta = tb = 0
        va = vb = None
        maxdiff, rounds = 0, 0
        last_va, last_change, t_change = None, time.monotonic(), 0
        last_vb, tb_change = None, 0

        def stat(rpc, key):
            res = rpc.call("dlg.stats_active")
            return int(res[key]) if isinstance(res, dict) else None
        try:
            while time.monotonic() < end:
                rounds += 1
                va = stat(a, "ongoing")
                now = time.time_ns()
                if va != last_va:
                    last_va, last_change, t_change = va, time.monotonic(), now
                if not ta and va is not None and (
                        va >= target or
                        (va > 0 and time.monotonic() - last_change > 3)):
                    ta, target = t_change, va
                vb = stat(b, "all")
                now = time.time_ns()
                if vb != last_vb:
                    last_vb, tb_change = vb, now
                if va is not None and vb is not None:
                    maxdiff = max(maxdiff, va - vb)
                if rounds % 50 == 1:  # a trace for the run directory
                    sys.stderr.write("%d %s %s\n" % (now, va, vb))
                if ta and not tb and vb is not None and vb >= target:
                    tb = tb_change  # when B first showed this value
                if ta and tb:
                    print("ok %d %d %d %d %d" % (ta, tb, maxdiff, rounds,
                                                 target))
                    return 0
                time.sleep(0.002)
        finally:
            a.close()
            b.close()
        print("timeout %s %s" % (va, vb))
        return 1
    if mode == "le":
        r = Rpc(sys.argv[2])
        most, wait = int(sys.argv[3]), int(sys.argv[4])
        method, params = sys.argv[5], sys.argv[6:]
        end = time.monotonic() + wait / 1000.0
        v, rounds = None, 0
        try:
            while time.monotonic() < end:
                rounds += 1
                v = number(r.call(method, *params))
                if v is not None and v <= most:
                    print("ok %d %d %d" % (time.time_ns(), v, rounds))
                    return 0
                time.sleep(0.01)
        finally:
            r.close()
        print("timeout %s" % v)
        return 1
    if mode == "get":
        r = Rpc(sys.argv[2])
        try:
            print(json.dumps(r.call(sys.argv[3], *sys.argv[4:])))
        finally:
            r.close()
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main())
