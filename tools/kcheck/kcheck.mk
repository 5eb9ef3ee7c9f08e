# tools/kcheck/kcheck.mk - `make check-kernels`: boot Debian 12's 6.1
# kernel in qemu and load the XDP program there (tools/kcheck/run.sh).
#
# Included by the top-level Makefile; uses its BUILD, CC, CFLAGS and
# BPF_SKEL.  Not part of `make test`: it installs qemu and busybox-static
# and downloads a kernel package with apt.  Needs root.
#   make check-kernels                          Debian 12's current 6.1
#   make check-kernels KCHECK_KERNELS="linux-image-6.1.0-56-amd64 ..."
#   make check-kernels KCHECK_ARGS=--quick       one set of knobs only

KCHECK_DIR     := $(BUILD)/tools/kcheck
KCHECK_LOAD    := $(KCHECK_DIR)/kcheck_load
KCHECK_KERNELS ?=
KCHECK_ARGS    ?=

.PHONY: check-kernels kcheck-build
check-kernels: kcheck-build
	KCHECK_KERNELS="$(KCHECK_KERNELS)" sh tools/kcheck/run.sh $(KCHECK_ARGS)

kcheck-build: $(KCHECK_LOAD) $(BUILD)/tools/bench/bench_xdp $(BPFT_BINS)

$(KCHECK_LOAD): tools/kcheck/kcheck_load.c $(BPF_SKEL) include/sipdlg_shared.h \
		tests/lib/pkt.c tests/lib/pkt.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ tools/kcheck/kcheck_load.c tests/lib/pkt.c \
		-lbpf -lelf -lz
