# tools/bench/bench-relay.mk - the kernel relay's rows of `make bench-xdp`
# (tools/bench/bench_relay.c): ns per relayed in-dialog INFO and per
# relayed reply, in a network namespace of their own.  Needs root.
#   make bench-relay                          the rows alone
#   make bench-relay BENCH_RELAY_ARGS=-r50000 fewer repeats

BENCH_RELAY      := $(BUILD)/tools/bench/bench_relay
BENCH_RELAY_ARGS ?=

.PHONY: bench-relay
bench-relay: $(BENCH_RELAY)
	$(BENCH_RELAY) $(BENCH_RELAY_ARGS)

# make bench-xdp prints these rows too (before its own table)
bench-xdp: bench-relay

$(BENCH_RELAY): tools/bench/bench_relay.c tests/lib/pkt.c tests/lib/pkt.h \
		$(BPF_SKEL) include/sipdlg_shared.h include/sipdlg_hash.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ tools/bench/bench_relay.c tests/lib/pkt.c \
		-lbpf -lelf -lz
