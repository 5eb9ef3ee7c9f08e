# sipdlg - SIP dialog awareness with an XDP fast path.
#
# The four-step build: clang -target bpf -> bpftool gen skeleton -> user
# objects that include the skeleton -> link.  Everything generated lives
# under build/.  `make help` lists the targets.

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   := build
PREFIX  ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
FUZZ_SECONDS ?= 60
VERSION := 0.1.0

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Iuser -I$(BUILD) \
           -DSIPDLG_VERSION='"$(VERSION)"' \
           $(shell mysql_config --include 2>/dev/null)
LDLIBS_D := -lbpf -lelf -lz -lyaml -ljansson -lpthread \
           $(shell mysql_config --libs 2>/dev/null)
# SIP over TLS (user/transport/tls_ctx.c, tp_tls*.c): OpenSSL.
LDLIBS_D += -lssl -lcrypto

# The Prometheus endpoint's HTTP server (user/metrics/).
LDLIBS_D += -lmicrohttpd

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
              -Wall -Werror -I. -Iinclude -Ibpf

BPF_SRC  := bpf/sipdlg.bpf.c
BPF_OBJ  := $(BUILD)/sipdlg.bpf.o
BPF_SKEL := $(BUILD)/sipdlg.skel.h
BPF_HDRS := $(wildcard bpf/*.h) $(wildcard include/*.h) vmlinux.h

# Daemon objects: every .c under user/ except main.c goes into a static
# library, so unit tests link the very same objects.
LIB_SRCS := $(filter-out user/main.c,$(shell find user -name '*.c' | sort))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libsipdlg.a
USER_HDRS := $(shell find user include tools -name '*.h')

CTL_SRCS := $(shell find tools/sipdlgctl -name '*.c' | sort)
CTL_OBJS := $(CTL_SRCS:%.c=$(BUILD)/%.o)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(BPFT_SRCS:tests/bpf/%.c=$(BUILD)/tests/bpf/%)
TEST_HELPER_SRCS := $(wildcard tests/lib/*.c)
# C helpers of the end-to-end scripts (e.g. the generator's sender).
E2E_SRCS := $(wildcard tests/e2e/*.c)
E2E_BINS := $(E2E_SRCS:tests/e2e/%.c=$(BUILD)/tests/e2e/%)

.PHONY: all deps run test test-unit test-bpf test-e2e test-fuzz clean install \
        vmlinux fmt help fuzz check-docs

all: $(BPF_OBJ) $(BPF_SKEL) $(BUILD)/sipdlgd $(BUILD)/sipdlgctl

help:
	@echo "make            build build/sipdlgd, build/sipdlgctl, build/sipdlg.bpf.o"
	@echo "make deps       install the Debian packages (apt-get, idempotent)"
	@echo "make run        deps + build + start sipdlgd on config/sipdlg.yaml"
	@echo "make test       deps + build + every test tier; ends 'N passed, N failed'"
	@echo "make test-unit | test-bpf | test-fuzz | test-e2e   one tier"
	@echo "make fuzz       FUZZ_SECONDS=$(FUZZ_SECONDS) per libFuzzer target"
	@echo "make check-docs README, config/sipdlg.yaml and man pages against the code"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)"
	@echo "make vmlinux    regenerate vmlinux.h from this kernel's BTF"
	@echo "make bench      every benchmark vs Kamailio (<= 25 min) -> tools/bench/results/LATEST.md"
	@echo "make bench-cps | bench-info | bench-mem | bench-forged | bench-restore | bench-xdp | bench-perf | bench-flood | bench-cluster   one"
	@echo "make soak       SOAK_SECONDS=3600 of mixed load and faults -> tools/bench/results/LATEST-soak.md"

deps:
	@sh tools/deps.sh

# --- BPF ------------------------------------------------------------------
$(BPF_OBJ): $(BPF_SRC) $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BPF_SKEL): $(BPF_OBJ)
	$(BPFTOOL) gen skeleton $< name sipdlg_bpf > $@.tmp && mv $@.tmp $@

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h.tmp
	mv vmlinux.h.tmp vmlinux.h

# --- user space -------------------------------------------------------------
$(BUILD)/%.o: %.c $(USER_HDRS) $(BPF_SKEL)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/sipdlgd: $(BUILD)/user/main.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS_D)

$(BUILD)/sipdlgctl: $(CTL_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ -ljansson

$(BUILD):
	mkdir -p $@

# --- tests ------------------------------------------------------------------
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB) $(TEST_HELPER_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(TEST_HELPER_SRCS) $(LIB) $(LDLIBS_D) -lcmocka

# The dialog core links on its own: user/dialog/ with only what lies
# beneath it (core/ log, stats and the timer wheel; sip/ messages).  Not
# from libsipdlg.a, so a core file that reaches into the proxy, dlglink/,
# the control socket, the config or the database breaks this link: the
# link is the test.
DLG_CORE_OBJS := $(filter $(BUILD)/user/dialog/% $(BUILD)/user/sip/%,$(LIB_OBJS)) \
                 $(addprefix $(BUILD)/user/core/,log.o stats.o timer.o)
$(BUILD)/tests/unit/test_dlg_core_alone: tests/unit/test_dlg_core_alone.c $(DLG_CORE_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(DLG_CORE_OBJS) -lpthread -lcmocka

$(BUILD)/tests/bpf/%: tests/bpf/%.c $(LIB) $(BPF_SKEL) $(TEST_HELPER_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(TEST_HELPER_SRCS) $(LIB) $(LDLIBS_D) -lcmocka

$(BUILD)/tests/e2e/%: tests/e2e/%.c $(LIB) $(TEST_HELPER_SRCS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(TEST_HELPER_SRCS) $(LIB) $(LDLIBS_D)

# BPF objects the tests load on purpose (e.g. one the verifier rejects).
BPF_FIXTURES := $(patsubst tests/bpf/fixtures/%.bpf.c,$(BUILD)/tests/fixtures/%.bpf.o,$(wildcard tests/bpf/fixtures/*.bpf.c))
$(BUILD)/tests/fixtures/%.bpf.o: tests/bpf/fixtures/%.bpf.c include/sipdlg_shared.h vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Small programs the e2e scripts run (attackers, probes).
E2E_HELPER_SRCS := $(wildcard tests/e2e/helpers/*.c)
E2E_HELPER_BINS := $(E2E_HELPER_SRCS:tests/e2e/helpers/%.c=$(BUILD)/tests/e2e/%)
$(BUILD)/tests/e2e/%: tests/e2e/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

test-build: all $(UNIT_BINS) $(BPFT_BINS) $(E2E_BINS) $(BPF_FIXTURES) $(E2E_HELPER_BINS)

test: deps
	@$(MAKE) --no-print-directory test-build fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/run.sh unit bpf fuzz e2e

test-unit: deps
	@$(MAKE) --no-print-directory test-build
	@sh tests/run.sh unit

test-bpf: deps
	@$(MAKE) --no-print-directory test-build
	@sh tests/run.sh bpf

test-e2e: deps
	@$(MAKE) --no-print-directory test-build
	@sh tests/run.sh e2e

# --- fuzzing (libFuzzer, clang) ---------------------------------------------
# One binary per tests/fuzz/fuzz_*.c, over the same sources as the daemon.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB_SRCS := $(wildcard user/sip/*.c)
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE \
               -Wall -Werror -Iinclude -Iuser

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_SRCS) $(USER_HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_SRCS)

fuzz-build: $(FUZZ_BINS)

# make fuzz FUZZ_SECONDS=N: run every fuzz target N seconds on its corpus,
# and the kernel-vs-parser differential test on DIFF_FUZZ_N generated
# messages (tests/bpf/test_xdp_diff.c; `make test` runs it on 20000 in
# the bpf tier, and its fuzz tier leaves it out: SIPDLG_DIFF_FUZZ_N unset).
DIFF_FUZZ_N ?= 1000000
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build $(BUILD)/tests/bpf/test_xdp_diff
	@FUZZ_SECONDS=$(FUZZ_SECONDS) SIPDLG_DIFF_FUZZ_N=$(DIFF_FUZZ_N) \
		sh tests/run.sh fuzz

test-fuzz: fuzz

# The documentation against the code (also run by test-e2e).
check-docs: all
	@bash tests/e2e/test_docs.sh

# --- running ------------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@sh tools/mount-bpffs.sh
	@mkdir -p /run/sipdlg
	exec $(BUILD)/sipdlgd -c config/sipdlg.yaml

# --- install ------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin \
	        $(DESTDIR)$(PREFIX)/lib/sipdlg $(DESTDIR)$(SYSCONFDIR)/sipdlg \
	        $(DESTDIR)$(PREFIX)/share/sipdlg/schema $(DESTDIR)$(UNITDIR) \
	        $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(BUILD)/sipdlgd $(DESTDIR)$(PREFIX)/sbin/sipdlgd
	install -m 0755 $(BUILD)/sipdlgctl $(DESTDIR)$(PREFIX)/bin/sipdlgctl
	install -m 0644 $(BPF_OBJ) $(DESTDIR)$(PREFIX)/lib/sipdlg/sipdlg.bpf.o
	install -m 0644 config/sipdlg.yaml $(DESTDIR)$(SYSCONFDIR)/sipdlg/sipdlg.yaml
	install -m 0644 config/schema/mysql.sql $(DESTDIR)$(PREFIX)/share/sipdlg/schema/mysql.sql
	install -m 0644 config/grafana-sipdlg.json $(DESTDIR)$(PREFIX)/share/sipdlg/grafana-sipdlg.json
	install -m 0644 config/schema/cluster.sql $(DESTDIR)$(PREFIX)/share/sipdlg/schema/cluster.sql
	install -m 0644 man/sipdlgd.8 man/sipdlgctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 man/sipdlg.yaml.5 $(DESTDIR)$(MANDIR)/man5/
	sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    config/sipdlgd.service.in > $(DESTDIR)$(UNITDIR)/sipdlgd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/sipdlgd.service

clean:
	rm -rf $(BUILD)

fmt:
	clang-format -i $$(find bpf user include tools tests -name '*.[ch]')

# Benchmarks (make bench, bench-cps, bench-info, bench-forged, bench-perf,
# ...) live with their scripts (tools/bench/README.md).
-include $(wildcard tools/bench/*.mk)
# make check-kernels: the XDP program on Debian 12's 6.1 kernel, in qemu.
-include $(wildcard tools/kcheck/*.mk)
