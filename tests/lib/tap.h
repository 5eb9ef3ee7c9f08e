/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tap.h - TAP output shared by the tests that print their own TAP (the
 * BPF tier): diagnostics as "# " lines, libbpf's messages as the same,
 * and a shell step that says what failed.
 */
#ifndef SIPDLG_TESTS_TAP_H
#define SIPDLG_TESTS_TAP_H

#include <stdarg.h>
#include <bpf/libbpf.h>

/* One "# ..." line on stdout, flushed (TAP diagnostics). */
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libbpf_set_print() callback: warnings and info as "# " lines on stderr,
 * its debug chatter dropped. */
int libbpf_to_tap(enum libbpf_print_level level, const char *fmt, va_list ap);

/* system(@cmd); on failure a diagnostic naming the command.  Its status. */
int tap_sh(const char *cmd);

#endif
