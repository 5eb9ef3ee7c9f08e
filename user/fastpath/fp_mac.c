/*
 * fp_mac.c - the cookie MAC on the fast path's side: which dialogs the
 * kernel may accept by MAC alone (the others carry SIPDLG_DLGF_NOMAC and
 * get the full tight match), and the key rotation, which reloads the XDP
 * program with new knobs while the pinned maps, and so the dialogs, stay.
 *
 * Rotation, in an order where no step leaves a legitimate request without
 * an accepted MAC, and a failure at any step undoes the earlier ones:
 *   1. load a second program with the new key current and the current
 *      one as previous (pinned maps shared, not attached yet);
 *   2. raise the floor: dialogs of the old previous key, which the new
 *      program no longer accepts, get NOMAC now (harmless for the old
 *      program: it only makes the kernel compare Call-ID and tags);
 *   3. rewrite the key file (new key, then the current one);
 *   4. swap the program on every interface with bpf_link_update: atomic
 *      per interface, no packet meets no program;
 *   5. sign new dialogs with the new key (the kernel accepts it now);
 *   6. the old program is unloaded.
 * The new program shares every map of the first object (fp->obj), the
 * events ring buffer included: map fds held anywhere stay valid, and the
 * ring buffer's reader goes on as it was.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/log.h"
#include "dialog/dlg.h"
#include "fastpath/fp_internal.h"

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

__u32 fp_mac_flags(struct fastpath *fp, struct dlg_cell *c, __u32 flags)
{
	uint32_t gen = dlg_mac_gen(c);
	bool nomac = !fp->mac || gen == 0 || gen < atomic_load(&fp->mac_floor);

	return (flags & ~SIPDLG_DLGF_NOMAC) | (nomac ? SIPDLG_DLGF_NOMAC : 0);
}

void fp_mac_init(struct fastpath *fp, struct mac_ring *mac)
{
	struct mac_state st;

	fp->mac = mac;
	if (!mac)
		return;
	mac_ring_state(mac, &st);
	atomic_store(&fp->mac_floor, st.has_prev ? st.prev_gen : st.cur_gen);
	explicit_bzero(&st, sizeof(st));
}

void fp_mac_set_table(struct fastpath *fp, struct dlg_table *t)
{
	if (fp)
		fp->dlg = t;
}

/* Bring every dialog's NOMAC bit in the map in line with the floor;
 * returns how many dialogs carry it afterwards. */
static size_t resync_flags(struct fastpath *fp)
{
	struct dlg_cursor cur = { 0, 0, false };
	struct dlg_cell *cells[256];
	size_t nomac = 0;

	if (!fp->dlg)
		return 0;
	while (!cur.done) {
		size_t n = dlg_cursor_next(fp->dlg, &cur, cells, 256);

		for (size_t i = 0; i < n; i++) {
			struct sipdlg_dlg_key k = { dlg_h_entry(cells[i]),
						    dlg_h_id(cells[i]) };
			struct sipdlg_dlg_value v;
			__u32 f;

			if (bpf_map_lookup_elem(fp->dialogs_fd, &k, &v) == 0) {
				f = fp_mac_flags(fp, cells[i], v.flags);
				nomac += (f & SIPDLG_DLGF_NOMAC) != 0;
				if (f != v.flags) {
					v.flags = f;
					bpf_map_update_elem(fp->dialogs_fd, &k,
							    &v, BPF_EXIST);
				}
			}
			dlg_unref(cells[i]);
		}
	}
	return nomac;
}

/* Undo steps 1-2 (and 3 when @old is given). */
static void rollback(struct fastpath *fp, struct bpf_object *nobj,
		     uint32_t floor, const struct mac_keys *old)
{
	char err[512];

	if (old && mac_keys_write(mac_ring_path(fp->mac), old, err,
				  sizeof(err)) != 0)
		log_err("cookie MAC: cannot restore the key file: %s", err);
	atomic_store(&fp->mac_floor, floor);
	resync_flags(fp);
	bpf_object__close(nobj);
}

int fp_rotate_key(struct fastpath *fp, struct fp_rotation *res, char *err,
		  size_t err_len)
{
	struct bpf_object *nobj = NULL, *oobj;
	struct mac_keys old, next;
	struct mac_state st;
	uint32_t floor;
	int r;

	if (!fp || !fp->mac) {
		snprintf(err, err_len, "the cookie MAC is off: set "
			 "xdp.cookie_mac.key_file to use one");
		return -EOPNOTSUPP;
	}
	mac_ring_keys(fp->mac, &old);
	r = mac_ring_next(fp->mac, &next, &st);
	if (r) {
		snprintf(err, err_len, "no random key: getrandom: %s",
			 strerror(-r));
		goto out;
	}
	r = fp_load_replacement(fp, &st, &nobj, err, err_len);		/* 1 */
	if (r)
		goto out;
	floor = atomic_exchange(&fp->mac_floor, st.prev_gen);		/* 2 */
	resync_flags(fp);
	r = mac_keys_write(mac_ring_path(fp->mac), &next, err, err_len); /* 3 */
	if (r) {
		rollback(fp, nobj, floor, NULL);
		goto out;
	}
	r = fp_attach_replace(fp,					/* 4 */
			      bpf_program__fd(bpf_object__find_program_by_name(
				      nobj, "sipdlg_xdp")),
			      err, err_len);
	if (r) {
		rollback(fp, nobj, floor, &old);
		goto out;
	}
	mac_ring_apply(fp->mac, &next);					/* 5 */
	oobj = fp->prog_obj;						/* 6 */
	if (!oobj)
		bpf_program__unload(fp->prog);	/* fp->obj keeps its maps */
	/* closes oobj once no worker writes its clock, and gives the new
	 * program its clock */
	fp_clock_set_prog_obj(fp, nobj);
	fp->prog = bpf_object__find_program_by_name(nobj, "sipdlg_xdp");
	fp->prog_fd = bpf_program__fd(fp->prog);
	fp->prog_id = prog_id_of(fp->prog_fd);
	fp->rotations++;
	res->generation = st.cur_gen;
	res->prog_id = fp->prog_id;
	res->nomac = resync_flags(fp);
	log_notice("cookie MAC: key rotated (generation %u, program %u); the "
		   "previous key is still accepted, %zu dialogs without an "
		   "accepted MAC are tight-matched",
		   res->generation, res->prog_id, res->nomac);
out:
	explicit_bzero(&old, sizeof(old));
	explicit_bzero(&next, sizeof(next));
	explicit_bzero(&st, sizeof(st));
	return r;
}

int fp_mac_info(struct fastpath *fp, struct fp_mac_info *out)
{
	struct mac_state st;

	if (!fp || !fp->mac)
		return -ENOENT;
	mac_ring_state(fp->mac, &st);
	out->key_file = mac_ring_path(fp->mac);
	out->generation = st.cur_gen;
	out->previous_key = st.has_prev;
	out->rotations = fp->rotations;
	explicit_bzero(&st, sizeof(st));
	return 0;
}
