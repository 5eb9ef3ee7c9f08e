#!/usr/bin/env python3
"""cluster_probe.py - is a box serving given dialogs? (bench-cluster.sh;
dmq_probe.py uses its rhex, header and answer)

Sends an in-dialog INFO of each dialog, as its caller would (Route with the
dialog's cookie ;did=<RH(h_entry)>.<RH(h_id)>), to the proxy, plays the
callee on UAS_PORT (answers 200 to what the proxy relays) and waits for the
200 back on UAC_PORT.  The box under test answers an in-dialog request of a
dialog it does not know with 481 (the bench configuration's route
`in_dialog: true, is_known_dlg: false`), so a 200 means the dialog is
loaded there.  Repeats every INTERVAL ms until every dialog got its 200 in
one round, or until WAIT ms passed.

  cluster_probe.py PROXY_PORT UAC_PORT UAS_PORT WAIT_MS INTERVAL_MS \
      CALLID:FROMTAG:TOTAG:H_ENTRY:H_ID...

Prints "ok <epoch ns of the last 200 of the first full round> <rounds>" or
"timeout <rounds> <last status of each dialog>"; exit 0 / 1.
"""
import os
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def rhex(x):
    """Kamailio's int2reverse_hex: nibbles lowest first, at least one."""
    out = ""
    while True:
        out += "0123456789abcdef"[x & 15]
        x >>= 4
        if not x:
            return out


def header(msg, name):
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return ""


def answer(sock, msg, src):
    """200 to a request the proxy relayed to our callee socket (every Via
    of the request, in order)."""
    vias = [ln for ln in msg.split("\r\n") if ln.lower().startswith("via:")]
    hdrs = "\r\n".join(vias) + "\r\n" + "".join(
        "%s: %s\r\n" % (h, header(msg, h))
        for h in ("From", "To", "Call-ID", "CSeq"))
    sock.sendto(("SIP/2.0 200 OK\r\n%sContent-Length: 0\r\n\r\n"
                 % hdrs).encode(), src)


def main():
    if len(sys.argv) < 7:
        sys.stderr.write(__doc__)
        return 64
    pport, cport, uport = (int(a) for a in sys.argv[1:4])
    wait_ms, ival_ms = int(sys.argv[4]), int(sys.argv[5])
    dlgs = [a.split(":") for a in sys.argv[6:]]
    uac = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uac.bind((HOST, cport))
    uas = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    uas.bind((HOST, uport))
    end = time.monotonic() + wait_ms / 1000.0
    rounds, seq = 0, 1
    status = ["-"] * len(dlgs)
    while time.monotonic() < end:
        rounds += 1
        seq += 1
        pending = {}
        for i, (cid, ft, tt, he, hid) in enumerate(dlgs):
            br = "z9hG4bKclp%d.%d.%d" % (os.getpid(), rounds, i)
            req = ("INFO sip:uas@%s:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP %s:%d;branch=%s\r\n"
                   "Route: <sip:%s:%d;lr;did=%s.%s>\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: <sip:caller@%s>;tag=%s\r\n"
                   "To: <sip:bob@%s>;tag=%s\r\n"
                   "Call-ID: %s\r\nCSeq: %d INFO\r\n"
                   "Content-Length: 0\r\n\r\n") % (
                HOST, uport, HOST, cport, br, HOST, pport,
                rhex(int(he)), rhex(int(hid)), HOST, ft, HOST, tt, cid, seq)
            uac.sendto(req.encode(), (HOST, pport))
            pending[br] = i
        got, last = {}, 0
        rend = min(end, time.monotonic() + 0.2)
        while len(got) < len(dlgs) and time.monotonic() < rend:
            r, _, _ = select.select([uac, uas], [], [],
                                    max(0.0, rend - time.monotonic()))
            for s in r:
                data, src = s.recvfrom(65535)
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
                last = time.time_ns()
        if len(got) == len(dlgs) and all(c == "200" for c in got.values()):
            print("ok %d %d" % (last, rounds))
            return 0
        time.sleep(ival_ms / 1000.0)
    print("timeout %d %s" % (rounds, ",".join(status)))
    return 1


if __name__ == "__main__":
    sys.exit(main())
