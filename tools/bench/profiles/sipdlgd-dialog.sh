# profiles/sipdlgd-dialog.sh - sipdlgd tracking dialogs (sipdlg-dialog.yaml:
# dlg_manage, profiles caller/inbound, default timeout, db_mode 0; XDP off).
P_YAML=$BENCH_DIR/sipdlg-dialog.yaml
# shellcheck disable=SC1091
. "$BENCH_DIR/profiles/sipdlgd.sh"
P_LABEL=sipdlgd-dialog
