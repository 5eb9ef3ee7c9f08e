# tools/bench/bench-xdp.mk - `make bench-xdp`: ns/packet and executed BPF
# instructions of the XDP fast path through BPF_PROG_TEST_RUN (see
# tools/bench/bench_xdp.c; the counting interpreter is
# tools/bench/bpf_interp.c, see bench-icount.mk).
#
# Included by the top-level Makefile; uses its BUILD, CC, CFLAGS, CLANG,
# BPF_CFLAGS, BPFTOOL and BPF_SKEL.  Needs root to run.
#   make bench-xdp                       build and run
#   make bench-xdp BENCH_XDP_ARGS=-r100000   fewer repeats

BENCH_XDP_DIR   := $(BUILD)/tools/bench
BENCH_XDP       := $(BENCH_XDP_DIR)/bench_xdp
BENCH_FLOOR_OBJ := $(BENCH_XDP_DIR)/floor.bpf.o
BENCH_FLOOR_SKEL := $(BENCH_XDP_DIR)/floor.skel.h
BENCH_XDP_ARGS  ?=
BENCH_XDP_SRCS  := tools/bench/bench_xdp.c tools/bench/bench_pkts.c \
                   tools/bench/bpf_interp.c tools/bench/bpf_interp_env.c \
                   tools/bench/xdp_obj.c tests/lib/pkt.c

.PHONY: bench-xdp
bench-xdp: $(BENCH_XDP)
	$(BENCH_XDP) $(BENCH_XDP_ARGS)

$(BENCH_FLOOR_OBJ): tools/bench/floor.bpf.c vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_FLOOR_SKEL): $(BENCH_FLOOR_OBJ)
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_XDP): $(BENCH_XDP_SRCS) $(BPF_SKEL) $(BENCH_FLOOR_SKEL) \
	      tools/bench/bench_pkts.h tools/bench/bpf_interp.h \
	      tools/bench/bpf_interp_int.h \
	      tools/bench/xdp_obj.h include/sipdlg_shared.h \
	      include/sipdlg_hash.h tests/lib/pkt.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -I$(BENCH_XDP_DIR) -o $@ $(BENCH_XDP_SRCS) \
		-lbpf -lelf -lz
