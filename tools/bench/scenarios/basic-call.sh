# scenarios/basic-call.sh - INVITE, 180, 200, ACK, BYE, 200; no call hold.
# A scenario is a pair of sipp XML files plus options (lib.sh load_scenario).
SCEN_DESC="INVITE, 180, 200, ACK, BYE, 200; no call hold"
SCEN_UAC=$BENCH_DIR/sipp/uac.xml
SCEN_UAS=$BENCH_DIR/sipp/uas.xml
SCEN_UAC_OPTS=""
SCEN_UAS_OPTS=""
