#!/bin/bash
# bench-db-thru.sh DB_THRU "RATE..." SECONDS HOLD - run db_thru.c at each
# offered rate against one private MariaDB (tests/lib/mariadb.sh; removed
# at exit), and print its line plus the rows left (0 expected: every
# call ended).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib/mariadb.sh
mariadb_start || { echo "bench-db-thru: no MariaDB (make deps)" >&2; exit 1; }
for rate in $2; do
	"$1" "$MARIADB_URL" "$rate" "$3" "$4"
	echo "  rows left: dialog=$(mariadb_sql 'SELECT COUNT(*) FROM dialog')" \
		"dialog_vars=$(mariadb_sql 'SELECT COUNT(*) FROM dialog_vars')"
	mariadb_sql 'DELETE FROM dialog; DELETE FROM dialog_vars'
done
