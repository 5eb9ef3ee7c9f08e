#!/usr/bin/env python3
# xdp_lines.py - where the XDP program spends its time, per source line.
#
#   perf record -o perf.data -- build/tools/bench/bench_xdp -r 5000000 \
#       -n 3 -f PAYLOAD -p lines.txt
#   tools/bench/xdp_lines.py lines.txt perf.data [FUNC] [N]
#
# Maps every perf sample inside a bpf_prog_* symbol to the JIT line-info
# record at or before its address (lines.txt from bench_xdp -p, same run),
# and prints the share of samples per BPF function and the N hottest
# source lines (of FUNC only, if given: e.g. sd_sip_tag).  Sampling skid
# puts some cost on the line after the slow instruction.
import bisect
import collections
import subprocess
import sys

lines, data = sys.argv[1], sys.argv[2]
want = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else None
top = int(sys.argv[4]) if len(sys.argv) > 4 else 40
recs = []
for ln in open(lines):
    if ln.startswith("L "):
        _, a, loc, *src = ln.rstrip("\n").split(" ", 3)
        recs.append((int(a, 16), loc, src[0].strip() if src else ""))
recs.sort()
addrs = [r[0] for r in recs]
out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"],
                     capture_output=True, text=True, check=True).stdout
per_line, per_fn, total = collections.Counter(), collections.Counter(), 0
for ln in out.splitlines():
    f = ln.split()
    if len(f) < 2 or not f[1].startswith("bpf_prog_"):
        continue
    fn = f[1].split("_", 3)[-1]
    per_fn[fn] += 1
    if want and fn != want:
        continue
    i = bisect.bisect_right(addrs, int(f[0], 16)) - 1
    if i < 0:
        continue
    total += 1
    per_line[(recs[i][1], recs[i][2][:80])] += 1
all_bpf = sum(per_fn.values()) or 1
for fn, c in per_fn.most_common():
    print(f"{100 * c / all_bpf:5.1f}%  {fn}")
print()
for (loc, src), c in per_line.most_common(top):
    print(f"{100 * c / max(total, 1):5.1f}%  {loc:24s} {src}")
