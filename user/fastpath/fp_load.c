/*
 * fp_load.c - open the BPF object, set its run-time knobs, check the
 * environment (privileges, bpffs, old pins), load and pin.
 *
 * Each failure that a user can meet on a real box gets a message that says
 * what to do: no privileges, bpffs not mounted, pins from an incompatible
 * build, a verifier rejection (with the tail of the verifier log).
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "core/log.h"
#include "fastpath/fp_internal.h"

/* The skeleton generator emits static functions we do not call. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "sipdlg.skel.h"
#pragma GCC diagnostic pop

#define VERIFIER_LOG_BYTES (4u << 20)
#define VERIFIER_TAIL_BYTES 1200

/* libbpf's messages go into our logger, one level quieter. */
static int fp_libbpf_print(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	enum log_level ours = level == LIBBPF_WARN   ? LOG_LVL_NOTICE :
			      level == LIBBPF_INFO   ? LOG_LVL_DEBUG :
						       LOG_LVL_DEBUG + 1;
	if (ours > LOG_LVL_DEBUG)
		return 0;
	log_vmsg(ours, "libbpf", fmt, ap);
	return 0;
}

/* Effective capability bit @cap of this process, from /proc. */
static int has_cap(int cap)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff >> cap) & 1;
}

#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

static int check_privileges(char *err, size_t err_len)
{
	/* CAP_PERFMON: the program does pointer arithmetic on packet
	 * pointers (frame length), which the verifier allows only with it. */
	int sys = has_cap(CAP_SYS_ADMIN_BIT);
	int bpf = has_cap(CAP_BPF_BIT) || sys;
	int perf = has_cap(CAP_PERFMON_BIT) || sys;
	int net = has_cap(CAP_NET_ADMIN_BIT);

	if (bpf && perf && net)
		return 0;
	snprintf(err, err_len,
		 "xdp: loading and attaching the XDP program needs root or "
		 "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (running as uid %u "
		 "without%s%s%s); run sipdlgd as root or set "
		 "'xdp: {enabled: false}'",
		 (unsigned)geteuid(), bpf ? "" : " CAP_BPF",
		 perf ? "" : " CAP_PERFMON", net ? "" : " CAP_NET_ADMIN");
	return -EPERM;
}

static int is_bpffs(const char *path)
{
	struct statfs sfs;

	if (statfs(path, &sfs) != 0)
		return -errno;
	return (unsigned long)sfs.f_type == (unsigned long)BPF_FS_MAGIC;
}

/*
 * libbpf creates the pin directory itself, one level deep, so the pin
 * path must either be a directory on bpffs or sit directly in one.
 */
static int check_bpffs(const char *pin_path, char *err, size_t err_len)
{
	char parent[256];
	int r;

	r = is_bpffs(pin_path);
	if (r == 1)
		return 0;
	if (r == 0) {
		snprintf(err, err_len,
			 "xdp: pin_path %s is not on a BPF filesystem; mount "
			 "one with 'mount -t bpf bpf /sys/fs/bpf' (make run "
			 "does this) or choose a pin_path under it",
			 pin_path);
		return -ENOTDIR;
	}
	snprintf(parent, sizeof(parent), "%s", pin_path);
	r = is_bpffs(dirname(parent));
	if (r == 1)
		return 0;
	snprintf(err, err_len,
		 "xdp: bpffs is not mounted at %s (needed for pin_path %s): "
		 "run 'mount -t bpf bpf %s' (make run does this)",
		 parent, pin_path, parent);
	return -ENOENT;
}

/*
 * A pin left by another build of sipdlg whose map shape differs would make
 * libbpf fail with a terse message; say what happened and what to do.
 */
static int check_old_pins(struct fastpath *fp, char *err, size_t err_len)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, fp->obj) {
		const char *pin = bpf_map__pin_path(map);
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		int fd;

		if (!pin || access(pin, F_OK) != 0)
			continue;
		fd = bpf_obj_get(pin);
		if (fd < 0) {
			snprintf(err, err_len,
				 "xdp: cannot open pinned map %s: %s", pin,
				 strerror(errno));
			return -errno;
		}
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0 ||
		    info.type != bpf_map__type(map) ||
		    info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map) ||
		    info.max_entries != bpf_map__max_entries(map)) {
			close(fd);
			snprintf(err, err_len,
				 "xdp: pinned map %s was made by an incompatible "
				 "build (type/key/value/size differ); remove "
				 "%s to start afresh (its contents are lost)",
				 pin, fp->pin_path);
			return -EEXIST;
		}
		close(fd);
	}
	return 0;
}

/* Write @len bytes at the offset of global @name inside .rodata. */
static int rodata_set(struct bpf_object *obj, unsigned char *ro, size_t ro_sz,
		      const char *name, const void *val, size_t len)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	int id;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (unsigned i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		const char *vname = btf__name_by_offset(btf, var->name_off);

		if (strcmp(vname, name) != 0)
			continue;
		if (vs->size < len || vs->offset + len > ro_sz)
			return -E2BIG;
		memcpy(ro + vs->offset, val, len);
		return 0;
	}
	return -ENOENT;
}

static int set_knobs(struct fastpath *fp, const struct sipdlg_config *cfg,
		     char *err, size_t err_len)
{
	struct bpf_map *rodata = bpf_object__find_map_by_name(fp->obj, ".rodata");
	const void *init;
	unsigned char *ro;
	size_t sz = 0;
	__u16 ports[SIPDLG_MAX_SIP_PORTS] = { 0 };
	__u32 n = (__u32)fp->n_ports;
	__u32 drop = cfg->xdp.unknown_dialog == CFG_POLICY_DROP;
	int r;

	if (!rodata || !(init = bpf_map__initial_value(rodata, &sz))) {
		snprintf(err, err_len, "xdp: BPF object has no .rodata knobs");
		return -ENOENT;
	}
	ro = malloc(sz);
	if (!ro)
		return -ENOMEM;
	memcpy(ro, init, sz);
	for (size_t i = 0; i < fp->n_ports; i++)
		ports[i] = fp->ports[i];
	r = rodata_set(fp->obj, ro, sz, "sip_ports", ports, sizeof(ports));
	if (!r)
		r = rodata_set(fp->obj, ro, sz, "n_sip_ports", &n, sizeof(n));
	if (!r)
		r = rodata_set(fp->obj, ro, sz, "unknown_dialog_drop", &drop,
			       sizeof(drop));
	if (!r) {
		/* The cookie's parameter name, NUL-padded, and its length. */
		char name[32] = { 0 };
		__u32 len = (__u32)strlen(cfg->dialog.rr_param);
		__u32 mode = (__u32)cfg->dialog.dlg_match_mode;
		__u32 pps = cfg->xdp.max_dialog_pps;

		memcpy(name, cfg->dialog.rr_param,
		       len < sizeof(name) ? len : sizeof(name) - 1);
		/* Older objects lack these knobs: keep going without them. */
		if (rodata_set(fp->obj, ro, sz, "rr_param", name, sizeof(name)) == 0)
			rodata_set(fp->obj, ro, sz, "rr_param_len", &len,
				   sizeof(len));
		rodata_set(fp->obj, ro, sz, "dlg_match_mode", &mode, sizeof(mode));
		rodata_set(fp->obj, ro, sz, "max_dialog_pps", &pps, sizeof(pps));
	}
	if (!r)
		r = bpf_map__set_initial_value(rodata, ro, sz);
	free(ro);
	if (r)
		snprintf(err, err_len,
			 "xdp: BPF object lacks the run-time knob globals "
			 "(sip_ports, n_sip_ports, unknown_dialog_drop): %s",
			 strerror(-r));
	return r;
}

/* Copy the last lines of the verifier log, whole lines only. */
static void verifier_tail(const char *log, char *out, size_t out_len)
{
	size_t n = strlen(log);
	const char *p;

	while (n > 0 && (log[n - 1] == '\n' || log[n - 1] == '\0'))
		n--;
	p = n > VERIFIER_TAIL_BYTES ? log + n - VERIFIER_TAIL_BYTES : log;
	if (p != log) {
		const char *nl = memchr(p, '\n', (size_t)(log + n - p));
		if (nl)
			p = nl + 1;
	}
	snprintf(out, out_len, "%.*s", (int)(log + n - p), p);
}

int fp_load_object(struct fastpath *fp, const struct sipdlg_config *cfg,
		   const char *obj_path, char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .pin_root_path = cfg->xdp.pin_path,
		    .object_name = "sipdlg");
	char *vlog = NULL;
	int r;

	libbpf_set_print(fp_libbpf_print);

	r = check_privileges(err, err_len);
	if (r)
		return r;
	r = check_bpffs(cfg->xdp.pin_path, err, err_len);
	if (r)
		return r;

	if (obj_path) {
		fp->obj = bpf_object__open_file(obj_path, &opts);
	} else {
		size_t sz;
		const void *bytes = sipdlg_bpf__elf_bytes(&sz);
		fp->obj = bpf_object__open_mem(bytes, sz, &opts);
	}
	if (!fp->obj) {
		r = -errno;
		snprintf(err, err_len, "xdp: cannot open BPF object %s: %s",
			 obj_path ? obj_path : "(built in)", strerror(-r));
		fp->obj = NULL;
		return r;
	}
	fp->prog = bpf_object__find_program_by_name(fp->obj, "sipdlg_xdp");
	if (!fp->prog) {
		snprintf(err, err_len,
			 "xdp: BPF object has no program 'sipdlg_xdp'");
		return -ENOENT;
	}
	r = set_knobs(fp, cfg, err, err_len);
	if (r)
		return r;
	/* Map sizes from the config (a pin of another size is refused below
	 * with a message saying so). */
	{
		struct bpf_map *m = bpf_object__find_map_by_name(fp->obj,
								 "dialogs");
		if (m)
			bpf_map__set_max_entries(m, cfg->xdp.max_dialogs);
		m = bpf_object__find_map_by_name(fp->obj, "callids");
		if (m)
			bpf_map__set_max_entries(m, cfg->xdp.max_dialogs);
	}
	r = check_old_pins(fp, err, err_len);
	if (r)
		return r;

	/* Logs are requested only on failure (libbpf retries with level 1). */
	vlog = calloc(1, VERIFIER_LOG_BYTES);
	if (!vlog)
		return -ENOMEM;
	bpf_program__set_log_buf(fp->prog, vlog, VERIFIER_LOG_BYTES);

	r = bpf_object__load(fp->obj);
	if (r) {
		char tail[VERIFIER_TAIL_BYTES + 1];

		if (r == -EPERM || r == -EACCES) {
			if (vlog[0] == '\0') {
				snprintf(err, err_len,
					 "xdp: the kernel refused to load the "
					 "program: %s (needs root or CAP_BPF; "
					 "is unprivileged BPF or lockdown in "
					 "the way?)",
					 strerror(-r));
				goto out;
			}
		}
		verifier_tail(vlog, tail, sizeof(tail));
		if (tail[0])
			snprintf(err, err_len,
				 "xdp: the verifier rejected the program "
				 "(%s); end of the verifier log:\n%s",
				 strerror(-r), tail);
		else
			snprintf(err, err_len,
				 "xdp: loading the BPF object failed: %s "
				 "(maps pinned under %s?)",
				 strerror(-r), cfg->xdp.pin_path);
		goto out;
	}

	fp->prog_fd = bpf_program__fd(fp->prog);
	{
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fp->prog_fd, &info, &len) == 0)
			fp->prog_id = info.id;
	}
	fp->dialogs_fd = bpf_object__find_map_fd_by_name(fp->obj, "dialogs");
	fp->counters_fd = bpf_object__find_map_fd_by_name(fp->obj, "counters");
	fp->events_fd = bpf_object__find_map_fd_by_name(fp->obj, "events");
	fp->callids_fd = bpf_object__find_map_fd_by_name(fp->obj, "callids");
	if (fp->dialogs_fd < 0 || fp->counters_fd < 0 || fp->events_fd < 0) {
		snprintf(err, err_len,
			 "xdp: BPF object lacks one of the maps dialogs, "
			 "counters, events");
		r = -ENOENT;
		goto out;
	}
	log_info("BPF program loaded (id %u), maps pinned under %s",
		 fp->prog_id, cfg->xdp.pin_path);
out:
	/* libbpf keeps no pointer to the buffer after load. */
	bpf_program__set_log_buf(fp->prog, NULL, 0);
	free(vlog);
	return r;
}
