#!/bin/bash
# `make install` honours PREFIX and DESTDIR and installs every file.
. "$(dirname "$0")/lib.sh"
e2e_init
D="$E2E_TMP/dest"
if make -C "$E2E_ROOT" --no-print-directory install PREFIX=/usr DESTDIR="$D" >"$E2E_TMP/install.log" 2>&1; then
	ok "make install PREFIX=/usr DESTDIR=... succeeds"
else
	not_ok "make install PREFIX=/usr DESTDIR=... succeeds" "$(tail -n 20 "$E2E_TMP/install.log")"
fi
for f in usr/sbin/sipdlgd usr/bin/sipdlgctl usr/lib/sipdlg/sipdlg.bpf.o \
	etc/sipdlg/sipdlg.yaml usr/share/sipdlg/schema/mysql.sql \
	usr/lib/systemd/system/sipdlgd.service usr/share/man/man8/sipdlgd.8 \
	usr/share/man/man8/sipdlgctl.8 usr/share/man/man5/sipdlg.yaml.5; do
	check "installs /$f" test -s "$D/$f"
done
check "installs the Grafana dashboard" test -s "$D/usr/share/sipdlg/grafana-sipdlg.json"
check "the unit runs the installed daemon" grep -q 'ExecStart=/usr/sbin/sipdlgd -c /etc/sipdlg/sipdlg.yaml' "$D/usr/lib/systemd/system/sipdlgd.service"
check "the installed config is valid" "$D/usr/sbin/sipdlgd" -c "$D/etc/sipdlg/sipdlg.yaml" --check
# The installed man pages render without a warning, by groff and by man.
for f in usr/share/man/man8/sipdlgd.8 usr/share/man/man8/sipdlgctl.8 \
	usr/share/man/man5/sipdlg.yaml.5; do
	out=$(groff -man -ww -z "$D/$f" 2>&1)
	check_eq "groff -man -ww renders /$f without warnings" "" "$out"
	out=$(MANWIDTH=80 man --warnings -l "$D/$f" 2>&1 >"$E2E_TMP/page.txt")
	check_eq "man --warnings -l renders /$f without warnings" "" "$out"
	check "man -l /$f prints its NAME section" grep -q '^NAME' "$E2E_TMP/page.txt"
done
make -C "$E2E_ROOT" --no-print-directory install PREFIX=/opt/sd DESTDIR="$D/2" >/dev/null 2>&1
check "PREFIX=/opt/sd puts the config under /opt/sd/etc" test -s "$D/2/opt/sd/etc/sipdlg/sipdlg.yaml"
check "and the daemon under /opt/sd/sbin" test -x "$D/2/opt/sd/sbin/sipdlgd"
check "and the man pages under /opt/sd/share/man" test -s "$D/2/opt/sd/share/man/man5/sipdlg.yaml.5"
e2e_finish
