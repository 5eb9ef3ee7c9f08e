# profiles/kamailio-forged.sh - kamailio-dialog.cfg with -A DROP_UNKNOWN:
# an in-dialog request that loose_route() takes but whose dialog the
# dialog module does not know (!is_known_dlg()) is dropped, the policy
# sipdlgd-forged applies in the kernel; and debug=-1, so that the module's
# warning for each unknown dialog is not written to the log (sipdlgd only
# counts them).  Same knobs as profiles/kamailio.sh.
P_CFG=$BENCH_DIR/kamailio/kamailio-dialog.cfg
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/kamailio.sh"
P_LABEL=kamailio-forged
P_REQUIRED=0
P_DESC="$P_DESC, -A DROP_UNKNOWN (drop in-dialog requests of unknown dialogs, debug=-1)"

eval "_kam_defines() $(declare -f kam_defines | tail -n +2)"
kam_defines() {
	_kam_defines
	printf '%s\n' -A DROP_UNKNOWN
}
