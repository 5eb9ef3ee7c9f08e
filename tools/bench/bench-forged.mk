# tools/bench/bench-forged.mk - `make bench-forged`: forged in-dialog
# requests per second each proxy absorbs while 200 calls/s of real traffic
# keep < 0.1 % failures (tools/bench/bench-forged.sh), with the flooder
# tools/bench/flood.c.  Included by the top Makefile (BUILD, CC, CFLAGS).
#   make bench-forged BENCH_FORGED_LADDER="5000 20000"

BENCH_FLOOD := $(BUILD)/tools/bench/flood

.PHONY: bench-forged
bench-forged: $(BUILD)/sipdlgd $(BUILD)/sipdlgctl $(BENCH_FLOOD)
	@timeout -k 20 300 bash tools/bench/bench-forged.sh

$(BENCH_FLOOD): tools/bench/flood.c include/sipdlg_rhex.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

# The kernel relay's benchmark (bench-info-relay.sh) uses the flooder's -D mode
# and this counting sink on the callee side.
BENCH_SINK := $(BUILD)/tools/bench/relay_sink
$(BENCH_SINK): tools/bench/relay_sink.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<
