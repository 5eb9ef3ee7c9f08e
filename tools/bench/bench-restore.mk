# tools/bench/bench-restore.mk - `make bench-restore`: how long sipdlgd
# takes to start with 100,000 dialogs to restore from MySQL (db_mode 1).
# Included by the top-level Makefile (uses its BUILD, CC, CFLAGS, LIB).
#
#   make bench-restore                        100,000 rows
#   make bench-restore BENCH_RESTORE_ROWS=20000
#
# Needs a MariaDB server (make deps); a private one is started on a unix
# socket in a temporary directory and removed afterwards.

BENCH_GEN_ROWS := $(BUILD)/tools/bench/gen_rows

.PHONY: bench-restore
bench-restore: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BENCH_GEN_ROWS)
	@timeout -k 20 600 bash tools/bench/bench-restore.sh

# dlg_core_hash comes from the library: the hash_entry of every generated
# row is the one sipdlgd checks at restore.
$(BENCH_GEN_ROWS): tools/bench/gen_rows.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS_D)

# `make bench-db-thru`: the database thread alone (db_thru.c), calls
# written per second in db_mode 1 on a private MariaDB (no SIP, no lock
# needed on the SIP ports, but take /tmp/sipdlg-heavy.lock: it is CPU).
BENCH_DB_THRU := $(BUILD)/tools/bench/db_thru
BENCH_DB_THRU_RATES ?= 1000 3000 6000 10000
BENCH_DB_THRU_SECS ?= 10
BENCH_DB_THRU_HOLD ?= 2

.PHONY: bench-db-thru
bench-db-thru: $(BENCH_DB_THRU)
	@timeout -k 20 600 bash tools/bench/bench-db-thru.sh $(BENCH_DB_THRU) \
		"$(BENCH_DB_THRU_RATES)" $(BENCH_DB_THRU_SECS) $(BENCH_DB_THRU_HOLD)

$(BENCH_DB_THRU): tools/bench/db_thru.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS_D)
