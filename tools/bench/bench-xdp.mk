# tools/bench/bench-xdp.mk - `make bench-xdp`: ns/packet of the XDP fast
# path through BPF_PROG_TEST_RUN (see tools/bench/bench_xdp.c).
#
# Included by the top-level Makefile; uses its BUILD, CC, CFLAGS, CLANG,
# BPF_CFLAGS, BPFTOOL and BPF_SKEL.  Needs root to run.
#   make bench-xdp                       build and run
#   make bench-xdp BENCH_XDP_ARGS=-r100000   fewer repeats

BENCH_XDP_DIR   := $(BUILD)/tools/bench
BENCH_XDP       := $(BENCH_XDP_DIR)/bench_xdp
BENCH_FLOOR_OBJ := $(BENCH_XDP_DIR)/floor.bpf.o
BENCH_FLOOR_SKEL := $(BENCH_XDP_DIR)/floor.skel.h
BENCH_BOUNDS_OBJ := $(BENCH_XDP_DIR)/bounds.bpf.o
BENCH_BOUNDS_SKEL := $(BENCH_XDP_DIR)/bounds.skel.h
BENCH_XDP_ARGS  ?=

.PHONY: bench-xdp
bench-xdp: $(BENCH_XDP)
	$(BENCH_XDP) $(BENCH_XDP_ARGS)

$(BENCH_FLOOR_OBJ): tools/bench/floor.bpf.c vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_FLOOR_SKEL): $(BENCH_FLOOR_OBJ)
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_BOUNDS_OBJ): tools/bench/bounds.bpf.c vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_BOUNDS_SKEL): $(BENCH_BOUNDS_OBJ)
	$(BPFTOOL) gen skeleton $< name bounds_bpf > $@.tmp && mv $@.tmp $@

$(BENCH_XDP): tools/bench/bench_xdp.c $(BPF_SKEL) $(BENCH_FLOOR_SKEL) \
	      $(BENCH_BOUNDS_SKEL) \
	      include/sipdlg_shared.h include/sipdlg_hash.h \
	      tests/lib/pkt.c tests/lib/pkt.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -I$(BENCH_XDP_DIR) -o $@ \
		tools/bench/bench_xdp.c tests/lib/pkt.c -lbpf -lelf -lz
