/*
 * fp_attach.c - attach the XDP program to each configured interface
 * through a bpf_link, in native (driver) mode where the driver has it and
 * generic (skb) mode otherwise, or as xdp.mode says.  The link fds are not
 * pinned: if sipdlgd dies, the kernel detaches the program by itself, and
 * a box never keeps filtering with nobody to answer for it.
 */
#define LOG_TAG "fastpath"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "core/log.h"
#include "fastpath/fp_internal.h"

/* The kernel's internal ENOTSUPP can leak out of driver XDP setup. */
#define KERNEL_ENOTSUPP 524

static int link_xdp(int prog_fd, int ifindex, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);

	return fd < 0 ? -errno : fd;
}

static int attach_one(struct fastpath *fp, const char *ifname,
		      enum cfg_xdp_mode mode, char *err, size_t err_len)
{
	struct fp_iface *ifc = &fp->ifaces[fp->n_ifaces];
	int ifindex = (int)if_nametoindex(ifname);
	int fd = -EOPNOTSUPP;

	if (ifindex == 0) {
		snprintf(err, err_len,
			 "xdp: interface '%s' does not exist (xdp.interfaces)",
			 ifname);
		return -ENODEV;
	}
	if (mode != CFG_XDP_GENERIC) {
		fd = link_xdp(fp->prog_fd, ifindex, XDP_FLAGS_DRV_MODE);
		ifc->native = fd >= 0;
	}
	/* auto: fall back to generic when the driver has no XDP support. */
	if (fd < 0 && mode != CFG_XDP_NATIVE &&
	    (fd == -EOPNOTSUPP || fd == -EINVAL || fd == -KERNEL_ENOTSUPP ||
	     mode == CFG_XDP_GENERIC)) {
		fd = link_xdp(fp->prog_fd, ifindex, XDP_FLAGS_SKB_MODE);
		ifc->native = 0;
	}
	if (fd < 0) {
		if (fd == -EBUSY || fd == -EEXIST)
			snprintf(err, err_len,
				 "xdp: interface '%s' already has an XDP "
				 "program attached; remove it ('ip link set "
				 "dev %s xdp off', or stop the other sipdlgd)",
				 ifname, ifname);
		else if (mode == CFG_XDP_NATIVE &&
			 (fd == -EOPNOTSUPP || fd == -EINVAL))
			snprintf(err, err_len,
				 "xdp: the driver of '%s' has no native XDP "
				 "support (%s); use xdp.mode: generic or auto",
				 ifname, strerror(-fd));
		else
			snprintf(err, err_len,
				 "xdp: cannot attach to '%s': %s", ifname,
				 strerror(-fd));
		return fd;
	}

	snprintf(ifc->ifname, sizeof(ifc->ifname), "%s", ifname);
	ifc->ifindex = ifindex;
	ifc->link_fd = fd;
	{
		struct bpf_link_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			ifc->link_id = info.id;
	}
	fp->n_ifaces++;
	log_info("XDP attached to %s (ifindex %d, %s mode, link %u)", ifname,
		 ifindex, ifc->native ? "native" : "generic", ifc->link_id);
	return 0;
}

int fp_attach_all(struct fastpath *fp, const struct sipdlg_config *cfg,
		  char *err, size_t err_len)
{
	for (size_t i = 0; i < cfg->xdp.n_interfaces; i++) {
		int r = attach_one(fp, cfg->xdp.interfaces[i], cfg->xdp.mode,
				   err, err_len);
		if (r) {
			fp_detach_all(fp);
			return r;
		}
	}
	return 0;
}

void fp_detach_all(struct fastpath *fp)
{
	while (fp->n_ifaces > 0) {
		struct fp_iface *ifc = &fp->ifaces[--fp->n_ifaces];

		close(ifc->link_fd);
		log_info("XDP detached from %s", ifc->ifname);
	}
}

/*
 * bpf_link_update swaps the program behind an XDP link atomically: the
 * driver's pointer moves from the old program to the new, so every packet
 * runs one or the other.  BPF_F_REPLACE with the old fd makes it fail
 * rather than replace a program someone else put there.
 */
static int link_swap(int link_fd, int new_fd, int old_fd)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE,
		    .old_prog_fd = (__u32)old_fd);

	return bpf_link_update(link_fd, new_fd, &opts) == 0 ? 0 : -errno;
}

int fp_attach_replace(struct fastpath *fp, int new_prog_fd, char *err,
		      size_t err_len)
{
	for (size_t i = 0; i < fp->n_ifaces; i++) {
		int r = link_swap(fp->ifaces[i].link_fd, new_prog_fd,
				  fp->prog_fd);

		if (r == 0)
			continue;
		snprintf(err, err_len,
			 "xdp: cannot replace the program on '%s': %s",
			 fp->ifaces[i].ifname, strerror(-r));
		while (i-- > 0) {
			int e = link_swap(fp->ifaces[i].link_fd, fp->prog_fd,
					  new_prog_fd);
			if (e)
				log_err("xdp: cannot put the old program back "
					"on '%s': %s",
					fp->ifaces[i].ifname, strerror(-e));
		}
		return r;
	}
	return 0;
}
