#!/bin/bash
# test_db_mariadb.sh - the private MariaDB of tests/lib/mariadb.sh starts,
# holds Kamailio 5.6's schema, stores bytes as given, and is gone after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lib/mariadb.sh"
e2e_init

mariadb_start
rc=$?
if [ "$rc" -eq 2 ]; then
	skip "private MariaDB" "mariadb-server not installed (make deps)"
	e2e_finish
fi
[ "$rc" -eq 0 ] || { not_ok "private MariaDB starts"; e2e_finish; }
ok "private MariaDB starts on $MARIADB_SOCKET"
check_eq "version dialog=7" "7" \
	"$(mariadb_sql "SELECT table_version FROM version WHERE table_name='dialog'")"
check_eq "version dialog_vars=1" "1" \
	"$(mariadb_sql "SELECT table_version FROM version WHERE table_name='dialog_vars'")"
mariadb_sql "INSERT INTO dialog_vars (hash_entry,hash_id,dialog_key,dialog_value) VALUES (1,2,'k','q''\\\\\\\\ \xF0\x9F\x98\x80')" 
check_eq "4-byte UTF-8 and quotes stored" "1" \
	"$(mariadb_sql "SELECT COUNT(*) FROM dialog_vars WHERE dialog_key='k'")"
check "no TCP listener (skip-networking)" \
	bash -c "! grep -q 'port: [1-9]' '$MARIADB_DIR/error.log'"
dir=$MARIADB_DIR
mariadb_stop
check "stopped and removed" test ! -e "$dir"
e2e_finish
