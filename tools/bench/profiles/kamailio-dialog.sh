# profiles/kamailio-dialog.sh - Kamailio with the dialog module
# (kamailio/kamailio-dialog.cfg: dlg_manage, profiles caller/inbound,
# default timeout, db_mode 0).  Same knobs as profiles/kamailio.sh.
P_CFG=$BENCH_DIR/kamailio/kamailio-dialog.cfg
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/kamailio.sh"
P_LABEL=kamailio-dialog
P_REQUIRED=0
