// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bpf_icount.c - how many BPF instructions the XDP program executes for
 * a packet: a count, not a time, so it is the same on every run.
 *
 * Usage (root: the object is loaded, with its maps unpinned, to get the
 * instructions and maps exactly as the kernel has them):
 *
 *   build/tools/bench/bpf_icount                 every bench_xdp row
 *   build/tools/bench/bpf_icount -v -r 5         row 5, per function
 *   build/tools/bench/bpf_icount -f bye.sip      a UDP payload to port 5060
 *   build/tools/bench/bpf_icount -o /work/wt-kparse/build/sipdlg.bpf.o
 *
 *   -o FILE   BPF object (default build/sipdlg.bpf.o)
 *   -f FILE   the UDP payload in FILE instead of the table (bench_xdp -d
 *             DIR writes the table's payloads); -6 IPv6, -t N VLAN tags
 *   -m        MAC on (mac_enabled, the bench key; with -f only, the
 *             table's MAC row always has it)
 *   -r ROWS   only the table rows whose digits are in ROWS
 *   -d        unknown_dialog_drop = 1;  -M MODE  dlg_match_mode
 *   -n        no dialog in the "dialogs" map (default: the bench dialog)
 *   -N        do not ask the kernel's verifier (xdp_unverified.h); also
 *             the fallback, said on stderr, when the verifier refuses
 *             the object
 *   -1        count the packet's first run on the maps as loaded; the
 *             default counts a second run after it, the state the
 *             repeated runs of bench_xdp time (a BYE's event, say, is
 *             sent by the first run only)
 *   -v        instructions per function (subprogram) too
 *   -l N      and the N source lines that executed the most (.BTF.ext)
 *   -p        and every executed instruction: pc, hits, opcode, source
 *             line (a per-instruction profile to read beside
 *             llvm-objdump -d; pc counts from the entry's first)
 *
 * The interpreter's clock stands still (at load), so that the count does
 * not depend on when it is taken.
 *
 * Counts: every executed instruction is 1 (ld_imm64 too, a helper call
 * too, whatever the helper costs); the kernel later inlines some helper
 * calls (array map lookups) into a few instructions of its own, which
 * this count does not see.  Exit 0, or 1 when the interpreter failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sipdlg_shared.h"
#include "fastpath/fastpath.h"
#include "bench_pkts.h"
#include "bpf_interp.h"
#include "bpf_lines.h"
#include "xdp_obj.h"
#include "xdp_unverified.h"

struct opts {
	const char *obj;
	const char *file;
	const char *rows;
	int mac, ipv6, vlans, verbose, no_dialog, first, no_verify, top, pcs;
	struct xdp_knobs k;
};

/* An object with its interpreter and the maps we read. */
struct loaded {
	struct bpf_object *obj;	 /* loaded by the kernel, or NULL */
	struct xdp_unverified u; /* else prepared without the verifier */
	struct bpf_interp *ip;
	struct bpf_lines *lines; /* -l only */
	int counters_fd;
};

static const char *verdict(uint32_t r)
{
	static const char *const v[] = {"ABORTED", "DROP", "PASS", "TX",
					"REDIRECT"};

	return r < sizeof(v) / sizeof(v[0]) ? v[r] : "?";
}

/* The fd of map @name of @l, or -1. */
static int map_fd(const struct loaded *l, const char *name)
{
	struct bpf_map *m;

	if (!l->obj)
		return xdp_unverified_map_fd(&l->u, name);
	m = bpf_object__find_map_by_name(l->obj, name);
	return m ? bpf_map__fd(m) : -1;
}

/*
 * Load o->obj with the MAC knob @mac: through the kernel's verifier,
 * else (-N, or when the verifier refuses it) without.
 */
/*
 * Open @path, set the relay knobs (relay on, BENCH_RELAY_METHODS) and
 * load it with @k: the object or NULL.
 */
static struct bpf_object *open_load_relay(const char *path,
					  const struct xdp_knobs *k)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	uint32_t on = 1, methods = BENCH_RELAY_METHODS;

	if (!obj)
		return NULL;
	if (xdp_obj_set_knob(obj, "relay_enabled", &on, sizeof(on)) ||
	    xdp_obj_set_knob(obj, "relay_methods", &methods,
			     sizeof(methods)) ||
	    xdp_obj_load(obj, k)) {
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

static int load(const struct opts *o, int mac, int relay, struct loaded *l)
{
	struct xdp_knobs k = o->k;
	int fd;

	k.mac = (uint32_t)mac;
	memset(l, 0, sizeof(*l));
	if (relay) {
		/* the unverified path has no relay knobs: kernel only */
		l->obj = open_load_relay(o->obj, &k);
		if (!l->obj) {
			fprintf(stderr, "bpf_icount: cannot load %s with the "
					"relay on\n",
				o->obj);
			return -1;
		}
		l->ip = xdp_obj_interp(xdp_obj_prog(l->obj));
	} else if (!o->no_verify) {
		l->obj = xdp_obj_open_load(o->obj, &k);
		if (l->obj)
			l->ip = xdp_obj_interp(xdp_obj_prog(l->obj));
		else
			fprintf(stderr,
				"bpf_icount: the kernel refused %s; "
				"counting it without the verifier\n",
				o->obj);
	}
	if (!l->obj && !relay) {
		if (xdp_unverified_open(&l->u, o->obj, &k))
			return -1;
		l->ip = l->u.ip;
	}
	if (!l->ip) {
		fprintf(stderr, "bpf_icount: no interpreter: %s\n",
			strerror(errno));
		return -1;
	}
	fd = map_fd(l, "dialogs");
	if (!o->no_dialog && (fd < 0 || bench_put_dialog(fd))) {
		fprintf(stderr, "bpf_icount: cannot put the dialog: %s\n",
			fd < 0 ? "no \"dialogs\" map" : strerror(errno));
		return -1;
	}
	fd = map_fd(l, "relay_hops");
	if (relay && (fd < 0 || bench_put_relay_hops(fd, 2))) {
		fprintf(stderr, "bpf_icount: cannot put the relay hops\n");
		return -1;
	}
	l->counters_fd = map_fd(l, "counters");
	if (o->top || o->pcs) {
		l->lines = bpf_lines_new(o->obj, l->ip);
		if (!l->lines)
			fprintf(stderr, "bpf_icount: no line info in %s: %s\n",
				o->obj, strerror(errno));
	}
	return 0;
}

static void unload(struct loaded *l)
{
	bpf_lines_free(l->lines);
	if (l->obj) {
		bpf_interp_free(l->ip);
		bpf_object__close(l->obj);
	} else {
		xdp_unverified_close(&l->u); /* frees l->ip */
	}
}

/* The reason the run counted: the one "counters" key it looked up. */
static const char *reason(const struct loaded *l)
{
	for (__u32 k = 0; l->counters_fd >= 0 && k < SDR_MAX_; k++)
		if (bpf_interp_map_peek(l->ip, l->counters_fd, &k))
			return fp_reason_name(k);
	return "-";
}

struct line_sum {
	const char *file, *text;
	unsigned line;
	uint64_t insns;
};

static int by_insns(const void *a, const void *b)
{
	const struct line_sum *x = a, *y = b;

	return x->insns < y->insns ? 1 : x->insns > y->insns ? -1 : 0;
}

/* The @top source lines of the last run by executed instructions. */
static void print_lines(const struct loaded *l, int top)
{
	size_t n = bpf_interp_ninsns(l->ip), ns = 0;
	struct line_sum *s = calloc(n, sizeof(*s));

	if (!s || !l->lines) {
		free(s);
		return;
	}
	for (size_t pc = 0; pc < n; pc++) {
		uint64_t hits = bpf_interp_pc_hits(l->ip, pc);
		struct line_sum cur = {"?", "", 0, hits};
		size_t k;

		if (!hits)
			continue;
		bpf_lines_at(l->lines, pc, &cur.file, &cur.line, &cur.text);
		for (k = 0; k < ns; k++)
			if (s[k].line == cur.line &&
			    !strcmp(s[k].file, cur.file))
				break;
		if (k == ns)
			s[ns++] = cur;
		else
			s[k].insns += hits;
	}
	qsort(s, ns, sizeof(*s), by_insns);
	for (size_t k = 0; k < ns && k < (size_t)top; k++) {
		const char *t = s[k].text;

		while (*t == ' ' || *t == '\t')
			t++;
		printf("    %8llu  %s:%u  %.60s\n",
		       (unsigned long long)s[k].insns, s[k].file, s[k].line, t);
	}
	free(s);
}

/* Every instruction of the last run that executed: pc, hits, source. */
static void print_pcs(const struct loaded *l)
{
	const struct bpf_insn *in = bpf_interp_insns(l->ip);
	size_t n = bpf_interp_ninsns(l->ip);

	for (size_t pc = 0; pc < n; pc++) {
		uint64_t hits = bpf_interp_pc_hits(l->ip, pc);
		const char *file = "?", *text = "";
		unsigned int line = 0;

		if (!hits)
			continue;
		if (l->lines)
			bpf_lines_at(l->lines, pc, &file, &line, &text);
		while (*text == ' ' || *text == '\t')
			text++;
		printf("  %6zu %6llu  %02x r%u r%u %+6d %+11d  %s:%u  %.50s\n", pc,
		       (unsigned long long)hits, in[pc].code, in[pc].dst_reg,
		       in[pc].src_reg, in[pc].off, in[pc].imm, file, line, text);
	}
}

/*
 * Run @p on fresh copies of the maps (twice unless @first: the second
 * run is counted) and print one line, with @verbose the functions.
 */
static int count(struct loaded *l, const char *name, const struct pkt *p,
		 int first, int verbose, int top, int pcs)
{
	struct bpf_interp_run r;
	int rc;

	bpf_interp_maps_reset(l->ip);
	rc = bpf_interp_run_xdp(l->ip, p->buf, p->len, &r);
	if (!rc && !first)
		rc = bpf_interp_run_xdp(l->ip, p->buf, p->len, &r);
	if (rc) {
		fprintf(stderr, "bpf_icount: %s: %s (after %llu insns)\n", name,
			r.err, (unsigned long long)r.insns);
		return -1;
	}
	printf("%-38s %6zu %-8s %-20s %8llu\n", name, p->len, verdict(r.ret),
	       reason(l), (unsigned long long)r.insns);
	for (size_t i = 0; verbose && i < bpf_interp_nfuncs(l->ip); i++) {
		const struct bpf_interp_func *f = bpf_interp_func(l->ip, i);

		if (f->insns)
			printf("    %-34s %8llu\n", f->name,
			       (unsigned long long)f->insns);
	}
	if (top)
		print_lines(l, top);
	if (pcs)
		print_pcs(l);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-o OBJ] [-f PAYLOAD [-m] [-6] [-t VLANS]] "
		"[-r ROWS] [-d] [-M MODE] [-n] [-N] [-1] [-v] [-l N] [-p]\n",
		argv0);
}

int main(int argc, char **argv)
{
	struct opts o = {.obj = "build/sipdlg.bpf.o"};
	struct loaded plain = {0}, mac = {0}, relay = {0};
	int opt, rc = 1;

	o.k.sip_ports[0] = BENCH_SIP_PORT;
	o.k.mac_key[0] = BENCH_MAC_K0;
	o.k.mac_key[1] = BENCH_MAC_K1;
	while ((opt = getopt(argc, argv, "o:f:m6t:r:dM:nN1vl:p")) != -1) {
		switch (opt) {
		case 'o':
			o.obj = optarg;
			break;
		case 'f':
			o.file = optarg;
			break;
		case 'm':
			o.mac = 1;
			break;
		case '6':
			o.ipv6 = 1;
			break;
		case 't':
			o.vlans = atoi(optarg);
			break;
		case 'r':
			o.rows = optarg;
			break;
		case 'd':
			o.k.drop = 1;
			break;
		case 'M':
			o.k.match_mode = (uint32_t)atoi(optarg);
			break;
		case 'n':
			o.no_dialog = 1;
			break;
		case 'N':
			o.no_verify = 1;
			break;
		case '1':
			o.first = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'l':
			o.top = atoi(optarg);
			break;
		case 'p':
			o.pcs = 1;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc) {
		usage(argv[0]);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "bpf_icount: needs root (loads the object)\n");
		return 1;
	}
	libbpf_set_print(NULL);
	printf("%-38s %6s %-8s %-20s %8s\n", "packet", "bytes", "verdict",
	       "reason", "insns");
	if (o.file) {
		char sip[PKT_MAX];
		struct pkt_sip_opts po = {.ipv6 = o.ipv6, .vlans = o.vlans};
		FILE *f = fopen(o.file, "rb");
		struct pkt p;
		size_t n;

		if (!f) {
			perror(o.file);
			return 1;
		}
		n = fread(sip, 1, sizeof(sip) - 64, f);
		fclose(f);
		if (pkt_sip(&p, &po, sip, n) || load(&o, o.mac, 0, &plain))
			goto out;
		rc = count(&plain, o.file, &p, o.first, o.verbose, o.top, o.pcs) ? 1
									  : 0;
		goto out;
	}
	if (load(&o, 0, 0, &plain) || load(&o, 1, 0, &mac))
		goto out;
	rc = 0;
	/* the relayed rows need the kernel to load the relay-on object */
	if (load(&o, 0, 1, &relay)) {
		unload(&relay);
		memset(&relay, 0, sizeof(relay));
		rc = 1;
	}
	for (size_t i = 0; i < bench_nrows; i++) {
		const struct bench_row *r = &bench_rows[i];
		struct pkt p;

		if (r->floor || (o.rows && !strchr(o.rows, (int)('0' + i))) ||
		    (r->relay && !relay.ip))
			continue;
		if (bench_frame(r, &p) ||
		    count(r->relay ? &relay : r->mac ? &mac : &plain, r->name,
			  &p, o.first, o.verbose, o.top, o.pcs))
			rc = 1;
	}
out:
	unload(&plain);
	unload(&mac);
	unload(&relay);
	return rc;
}
