# tools/bench/bench-mem.mk - `make bench-mem`: memory per dialog with
# 100,000 confirmed dialogs held, Kamailio (dialog module) vs sipdlgd
# (tools/bench/bench-mem.sh).  Included by the top Makefile; a benchmark,
# not part of `make test`.  Knobs: environment, e.g.
#   make bench-mem BENCH_MEM_DIALOGS=50000 BENCH_MEM_RATE=1500

.PHONY: bench-mem

# The script plans for 720 s; timeout is the hard stop (its traps still
# stop every process it started).
bench-mem:
	@timeout -k 20 780 bash tools/bench/bench-mem.sh

# build/tools/dlg_mem [N]: bytes per confirmed dialog in the dialog core
# alone (no network), with a breakdown of one cell (tools/bench/dlg_mem.c).
.PHONY: bench-mem-core
$(BUILD)/tools/dlg_mem: tools/bench/dlg_mem.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS_D)

bench-mem-core: $(BUILD)/tools/dlg_mem
	@$(BUILD)/tools/dlg_mem 100000
