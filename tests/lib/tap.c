// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* tap.c - TAP output shared by the BPF-tier tests (see tap.h). */
#include <stdio.h>
#include <stdlib.h>

#include "lib/tap.h"

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int libbpf_to_tap(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	fputs("# ", stderr);
	return vfprintf(stderr, fmt, ap);
}

int tap_sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		tap_diag("setup failed (%d): %s", rc, cmd);
	return rc;
}
