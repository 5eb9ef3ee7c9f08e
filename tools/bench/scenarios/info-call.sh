# scenarios/info-call.sh - in-dialog requests: INVITE, 180, 200, ACK, then
# 20 INFO (each answered 200 before the next, 50 ms apart), BYE, 200; a
# call is held ~1.2 s.  bench-info.sh reports INFO/s = calls/s x 20.
SCEN_DESC="INVITE, 180, 200, ACK, 20 x (INFO, 200) 50 ms apart, BYE, 200"
SCEN_UAC=$BENCH_DIR/sipp/info_uac.xml
SCEN_UAS=$BENCH_DIR/sipp/info_uas.xml
SCEN_UAC_OPTS=""
SCEN_UAS_OPTS=""
SCEN_PER_CALL=20
SCEN_PER_CALL_WHAT=INFO
