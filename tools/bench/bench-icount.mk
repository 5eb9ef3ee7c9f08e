# tools/bench/bench-icount.mk - build/tools/bench/bpf_icount: BPF
# instructions the XDP program executes per packet (tools/bench/bpf_icount.c,
# an interpreter in tools/bench/bpf_interp*.c), and the rules of the tests
# that check the interpreter against the kernel (tests/bpf/test_xdp_interp.c
# and tests/bpf/test_interp_isa.c).
#
# Included by the top-level Makefile; uses its BUILD, CC, CFLAGS, LIB,
# LDLIBS_D, TEST_HELPER_SRCS and BPF_OBJ.  Needs root to run.
#   make bpf-icount                           build and count every bench row
#   build/tools/bench/bpf_icount -v -o OBJ    another object, per function

BPF_ICOUNT      := $(BUILD)/tools/bench/bpf_icount
# the interpreter and what loads an object for it, shared with the test
ICOUNT_SRCS     := tools/bench/bpf_interp.c tools/bench/bpf_interp_env.c \
                   tools/bench/xdp_obj.c tools/bench/xdp_unverified.c \
                   tools/bench/bpf_elf.c tools/bench/bpf_lines.c \
                   tools/bench/bench_pkts.c
ICOUNT_HDRS     := tools/bench/bpf_interp.h tools/bench/bpf_interp_int.h \
                   tools/bench/xdp_obj.h tools/bench/xdp_unverified.h \
                   tools/bench/bpf_elf.h tools/bench/bpf_lines.h \
                   tools/bench/bench_pkts.h include/sipdlg_shared.h \
                   include/sipdlg_hash.h tests/lib/pkt.h

.PHONY: bpf-icount
bpf-icount: $(BPF_ICOUNT) $(BPF_OBJ)
	$(BPF_ICOUNT) -o $(BPF_OBJ)

$(BPF_ICOUNT): tools/bench/bpf_icount.c $(ICOUNT_SRCS) $(ICOUNT_HDRS) \
	       tests/lib/pkt.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -Itools/bench -o $@ tools/bench/bpf_icount.c \
		$(ICOUNT_SRCS) tests/lib/pkt.c $(LIB) $(LDLIBS_D)

# The tests that link the interpreter; these rules replace the generic one
# of tests/bpf/test_%, the binaries still come with `make test-build`.
$(BUILD)/tests/bpf/test_interp_isa: tests/bpf/test_interp_isa.c \
		tools/bench/bpf_interp.c tools/bench/bpf_interp_env.c \
		tools/bench/bpf_interp.h tools/bench/bpf_interp_int.h \
		tests/lib/tap.c tests/lib/tap.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -Itools/bench -o $@ $< \
		tools/bench/bpf_interp.c tools/bench/bpf_interp_env.c \
		tests/lib/tap.c -lbpf -lelf -lz -lcmocka

$(BUILD)/tests/bpf/test_xdp_interp: tests/bpf/test_xdp_interp.c \
		tests/bpf/xdp_diff.c tests/bpf/xdp_diff.h \
		$(BUILD)/tests/fixtures/interp_probe.bpf.o \
		$(ICOUNT_SRCS) $(ICOUNT_HDRS) $(LIB) $(BPF_SKEL) \
		$(TEST_HELPER_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -Itools/bench -o $@ $< tests/bpf/xdp_diff.c \
		$(ICOUNT_SRCS) $(TEST_HELPER_SRCS) $(LIB) $(LDLIBS_D) -lcmocka
