# tools/bench/bench-flood.mk - `make bench-flood`: the hash-flooding attack
# on the dialog table (tools/bench/dlg_flood.c): CPU of N INVITEs whose
# Call-IDs collide in Kamailio's core_hash against N random ones, in the
# dialog core alone.  Included by the top Makefile; a benchmark, not part
# of `make test`.  BENCH_FLOOD_N=30000 by default.

.PHONY: bench-flood

BENCH_FLOOD_N ?= 30000

$(BUILD)/tools/dlg_flood: tools/bench/dlg_flood.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS_D)

bench-flood: $(BUILD)/tools/dlg_flood
	@timeout -k 10 300 $(BUILD)/tools/dlg_flood $(BENCH_FLOOD_N)
