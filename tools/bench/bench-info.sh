#!/bin/bash
# bench-info.sh - in-dialog requests per second, side by side (`make
# bench-info`): the scenario info-call (INVITE, 200, ACK, 20 INFO each
# answered 200, BYE) through Kamailio with the dialog module and sipdlgd
# tracking dialogs (XDP off: every INFO goes through the proxy's SIP
# stack), with bench-cps.sh's ramp, search, hold and CPU run.  A rate holds
# when < 0.1 % of the calls failed: a call fails when any of its 22
# transactions does, so the criterion is stricter than 0.1 % of the INFO.
# The report (results/LATEST-info.md / .tsv) is in calls/s; INFO/s =
# calls/s x 20, and CPU per 1,000 INFO = CPU per 1,000 calls / 20 (the
# call's own set-up and BYE included).
#
# Environment: those of bench-cps.sh; the defaults here are
#   BENCH_INFO_PROFILES   "kamailio-dialog sipdlgd-dialog"
#   BENCH_INFO_BUDGET     seconds for the whole run (default 300)
#   BENCH_INFO_LADDER     calls/s (default "200 400 800 1200 1600 2400 3200")
#   BENCH_INFO_STEP_SECS / _HOLD_SECS / _CPU_SECS   5 / 10 / 10 (the hold is
#                         10 s, not 30, to fit make bench's 25 minutes)
set -u
dir=$(cd "$(dirname "$0")" && pwd)
export BENCH_PROFILES=${BENCH_INFO_PROFILES:-kamailio-dialog sipdlgd-dialog}
export BENCH_SCENARIO=info-call
export BENCH_TAG=${BENCH_INFO_TAG:-info}
export BENCH_CPS_BUDGET=${BENCH_INFO_BUDGET:-300}
export BENCH_LADDER=${BENCH_INFO_LADDER:-200 400 800 1200 1600 2400 3200}
export BENCH_SMOKE_RATE=${BENCH_INFO_SMOKE_RATE:-20}
export BENCH_STEP_SECS=${BENCH_INFO_STEP_SECS:-5}
export BENCH_HOLD_SECS=${BENCH_INFO_HOLD_SECS:-10}
export BENCH_CPU_SECS=${BENCH_INFO_CPU_SECS:-10}
export BENCH_SEARCH_STEPS=${BENCH_INFO_SEARCH_STEPS:-2}
export BENCH_SEARCH_GAP=${BENCH_INFO_SEARCH_GAP:-20}
export BENCH_SEARCH_ROUND=${BENCH_INFO_SEARCH_ROUND:-10}
# No second try of a failed step that other processes disturbed: in 240 s
# it would take the time of the hold.
export BENCH_RETRY_DISTURBED=${BENCH_INFO_RETRY_DISTURBED:-0}
exec bash "$dir/bench-cps.sh"
