#!/usr/bin/env python3
"""dmq_probe.py - does the box behind an address serve given dialogs?
(bench-cluster-dmq.sh)

Sends an in-dialog INFO of each dialog, as its caller would (Route with the
dialog's cookie ;did=<RH(h_entry)>.<RH(h_id)>), to PROXY:5060, with a
Request-URI that points back at this probe's second socket (LOCAL:UAS_PORT)
where it plays the callee and answers 200 to what the proxy relays; then
waits for the 200 back on LOCAL:UAC_PORT.  The boxes of the benchmark
answer 481 to an in-dialog request of a dialog they do not know
(is_known_dlg()), so a 200 means the box serving PROXY knows the dialog.
Rounds of at most 100 ms, INTERVAL ms apart, until every dialog got its 200 in one round or
WAIT ms passed.

  dmq_probe.py PROXY LOCAL UAC_PORT UAS_PORT WAIT_MS INTERVAL_MS \
      CALLID:FROMTAG:TOTAG:H_ENTRY:H_ID...

Prints "ok <epoch ns of the last 200 of the first full round> <rounds>
<epoch ns of the first 200 of any dialog>" or "timeout <rounds> <last
status of each dialog>"; exit 0 / 1.
"""
import os
import select
import socket
import sys
import time

from cluster_probe import answer, header, rhex  # beside this file


def main():
    if len(sys.argv) < 8:
        sys.stderr.write(__doc__)
        return 64
    proxy, local = sys.argv[1], sys.argv[2]
    cport, uport = int(sys.argv[3]), int(sys.argv[4])
    wait_ms, ival_ms = int(sys.argv[5]), int(sys.argv[6])
    dlgs = [a.split(":") for a in sys.argv[7:]]
    uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uac.bind((local, cport))
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind((local, uport))
    end = time.monotonic() + wait_ms / 1000.0
    rounds, seq, first = 0, 100, 0
    status = ["-"] * len(dlgs)
    while time.monotonic() < end:
        rounds += 1
        seq += 1
        pending = {}
        for i, (cid, ft, tt, he, hid) in enumerate(dlgs):
            br = "z9hG4bKdmq%d.%d.%d" % (os.getpid(), rounds, i)
            req = ("INFO sip:probe@%s:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP %s:%d;branch=%s\r\n"
                   "Route: <sip:%s;lr;did=%s.%s>\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:caller@%s>;tag=%s\r\n"
                   "To: <sip:bob@%s>;tag=%s\r\n"
                   "Call-ID: %s\r\nCSeq: %d INFO\r\n"
                   "Content-Length: 0\r\n\r\n") % (
                local, uport, local, cport, br, proxy,
                rhex(int(he)), rhex(int(hid)), local, ft, proxy, tt, cid,
                seq)
            try:
                uac.sendto(req.encode(), (proxy, 5060))
            except OSError:
                pass  # no route / neighbour yet: next round
            pending[br] = i
        got, last = {}, 0
        rend = min(end, time.monotonic() + 0.1)
        while len(got) < len(dlgs) and time.monotonic() < rend:
            r, _, _ = select.select([uac, uas], [], [],
                                    max(0.0, rend - time.monotonic()))
            for s in r:
                try:
                    data, src = s.recvfrom(65535)
                except OSError:
                    continue
                msg = data.decode(errors="replace")
                if s is uas:
                    if not msg.startswith("SIP/2.0"):
                        answer(s, msg, src)
                    continue
                if not msg.startswith("SIP/2.0"):
                    continue
                code = msg.split(" ", 2)[1]
                via = header(msg, "Via")
                br = via.partition("branch=")[2].split(";")[0]
                if br not in pending or code.startswith("1"):
                    continue
                i = pending[br]
                status[i] = code
                got[i] = code
                if code == "200":
                    last = time.time_ns()
                    first = first or last
        if len(got) == len(dlgs) and all(c == "200" for c in got.values()):
            print("ok %d %d %d" % (last, rounds, first))
            return 0
        time.sleep(ival_ms / 1000.0)
    print("timeout %d %s" % (rounds, ",".join(status)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
