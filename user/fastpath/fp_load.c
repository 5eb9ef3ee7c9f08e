/*
 * fp_load.c - open the BPF object, set its run-time knobs (fp_knobs.c),
 * check the environment (privileges, bpffs, old pins), load and pin; and
 * load a second program from the same object beside the first, sharing
 * all maps of the first, for a cookie MAC key rotation (fp_mac.c).  The
 * first object stays for the daemon's life: the map fds are its.
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
static int check_old_pins(struct bpf_object *obj, const char *pin_path,
			  char *err, size_t err_len)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
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
				 pin, pin_path);
			return -EEXIST;
		}
		close(fd);
	}
	return 0;
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

/*
 * Every map of @obj but its own globals (.rodata: the knobs) becomes the
 * same kernel map as @share's of that name: the pinned ones are shared
 * through their pins anyway, this also covers the unpinned ones (the
 * events ring buffer, the event budget).
 */
static int share_maps(struct bpf_object *obj, struct bpf_object *share,
		      char *err, size_t err_len)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct bpf_map *o;
		int r;

		if (bpf_map__is_internal(m))
			continue;
		o = bpf_object__find_map_by_name(share, bpf_map__name(m));
		if (!o || bpf_map__fd(o) < 0)
			continue;
		r = bpf_map__reuse_fd(m, bpf_map__fd(o));
		if (r) {
			snprintf(err, err_len, "xdp: cannot share map %s with "
				 "the running program: %s",
				 bpf_map__name(m), strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * Open the object (@obj_path, NULL = built in), set its knobs to @k, size
 * its maps, check old pins and load it (reusing the pinned maps, and all
 * of @share's maps if @share is not NULL).  On success *out is the loaded
 * object, owned by the caller.
 */
static int open_load(const struct sipdlg_config *cfg, const char *obj_path,
		     const struct fp_knobs *k, struct bpf_object *share,
		     struct bpf_object **out, char *err, size_t err_len)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts,
		    .pin_root_path = cfg->xdp.pin_path,
		    .object_name = "sipdlg");
	const char *name = obj_path ? obj_path : "(built in)";
	struct bpf_program *prog;
	struct bpf_object *obj;
	char *vlog = NULL;
	int r;

	if (obj_path) {
		obj = bpf_object__open_file(obj_path, &opts);
	} else {
		size_t sz;
		const void *bytes = sipdlg_bpf__elf_bytes(&sz);
		obj = bpf_object__open_mem(bytes, sz, &opts);
	}
	if (!obj) {
		r = -errno;
		snprintf(err, err_len, "xdp: cannot open BPF object %s: %s",
			 name, strerror(-r));
		return r;
	}
	prog = bpf_object__find_program_by_name(obj, "sipdlg_xdp");
	if (!prog) {
		snprintf(err, err_len,
			 "xdp: BPF object has no program 'sipdlg_xdp'");
		r = -ENOENT;
		goto out;
	}
	r = fp_knobs_set(obj, name, k, err, err_len);
	if (r)
		goto out;
	/* Map sizes from the config (a pin of another size is refused below
	 * with a message saying so). */
	{
		struct bpf_map *m = bpf_object__find_map_by_name(obj, "dialogs");
		if (m)
			bpf_map__set_max_entries(m, cfg->xdp.max_dialogs);
		m = bpf_object__find_map_by_name(obj, "callids");
		if (m)
			bpf_map__set_max_entries(m, cfg->xdp.max_dialogs);
	}
	r = check_old_pins(obj, cfg->xdp.pin_path, err, err_len);
	if (!r && share)
		r = share_maps(obj, share, err, err_len);
	if (r)
		goto out;

	/* Logs are requested only on failure (libbpf retries with level 1). */
	vlog = calloc(1, VERIFIER_LOG_BYTES);
	if (!vlog) {
		r = -ENOMEM;
		goto out;
	}
	bpf_program__set_log_buf(prog, vlog, VERIFIER_LOG_BYTES);

	r = bpf_object__load(obj);
	/* libbpf keeps no pointer to the buffer after load. */
	bpf_program__set_log_buf(prog, NULL, 0);
	if (r) {
		char tail[VERIFIER_TAIL_BYTES + 1];

		if ((r == -EPERM || r == -EACCES) && vlog[0] == '\0') {
			snprintf(err, err_len,
				 "xdp: the kernel refused to load the "
				 "program: %s (needs root or CAP_BPF; "
				 "is unprivileged BPF or lockdown in "
				 "the way?)",
				 strerror(-r));
			goto out;
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
	}
out:
	free(vlog);
	if (r)
		bpf_object__close(obj);
	else
		*out = obj;
	return r;
}

/* Make loaded @obj fp's program: prog, its fd and id, the map fds. */
static int take_object(struct fastpath *fp, struct bpf_object *obj,
		       char *err, size_t err_len)
{
	struct bpf_program *prog =
		bpf_object__find_program_by_name(obj, "sipdlg_xdp");
	int fds[4] = {
		bpf_object__find_map_fd_by_name(obj, "dialogs"),
		bpf_object__find_map_fd_by_name(obj, "counters"),
		bpf_object__find_map_fd_by_name(obj, "events"),
		bpf_object__find_map_fd_by_name(obj, "callids"),
	};
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	if (!prog || fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
		snprintf(err, err_len,
			 "xdp: BPF object lacks one of the maps dialogs, "
			 "counters, events");
		return -ENOENT;
	}
	fp->obj = obj;
	fp->prog = prog;
	fp->prog_fd = bpf_program__fd(prog);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fp->prog_fd, &info, &len) == 0)
		fp->prog_id = info.id;
	fp->dialogs_fd = fds[0];
	fp->counters_fd = fds[1];
	fp->events_fd = fds[2];
	fp->callids_fd = fds[3];
	return 0;
}

int fp_load_object(struct fastpath *fp, const struct sipdlg_config *cfg,
		   const char *obj_path, char *err, size_t err_len)
{
	struct bpf_object *obj = NULL;
	struct mac_state mac;
	struct fp_knobs k;
	int r;

	libbpf_set_print(fp_libbpf_print);

	r = check_privileges(err, err_len);
	if (r)
		return r;
	r = check_bpffs(cfg->xdp.pin_path, err, err_len);
	if (r)
		return r;
	if (fp->mac)
		mac_ring_state(fp->mac, &mac);
	fp_knobs_fill(&k, fp, cfg, fp->mac ? &mac : NULL);
	fp->relay_knob = k.relay_enabled != 0;
	r = open_load(cfg, obj_path, &k, NULL, &obj, err, err_len);
	explicit_bzero(&k, sizeof(k));
	explicit_bzero(&mac, sizeof(mac));
	if (r)
		return r;
	r = take_object(fp, obj, err, err_len);
	if (r) {
		bpf_object__close(obj);
		return r;
	}
	log_info("BPF program loaded (id %u), maps pinned under %s%s",
		 fp->prog_id, cfg->xdp.pin_path,
		 fp->mac ? ", cookie MAC on" : "");
	return 0;
}

int fp_load_replacement(struct fastpath *fp, const struct mac_state *mac,
			struct bpf_object **out, char *err, size_t err_len)
{
	struct fp_knobs k;
	int r;

	fp_knobs_fill(&k, fp, fp->cfg, mac);
	r = open_load(fp->cfg, fp->obj_path, &k, fp->obj, out, err, err_len);
	explicit_bzero(&k, sizeof(k));
	return r;
}
