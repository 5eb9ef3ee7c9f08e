#!/bin/bash
# bench-db-thru.sh DB_THRU CALLS WINDOW - run db_thru.c against a fresh
# private MariaDB (tests/lib/mariadb.sh; removed at exit) and print its
# line plus the rows left (0 expected: every call ended).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/lib/mariadb.sh
mariadb_start || { echo "bench-db-thru: no MariaDB (make deps)" >&2; exit 1; }
"$1" "$MARIADB_URL" "$2" "$3"
echo "rows left: dialog=$(mariadb_sql 'SELECT COUNT(*) FROM dialog')" \
	"dialog_vars=$(mariadb_sql 'SELECT COUNT(*) FROM dialog_vars')"
