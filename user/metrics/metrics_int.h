/*
 * metrics_int.h - what the files of the metrics endpoint share.
 */
#ifndef SIPDLG_METRICS_INT_H
#define SIPDLG_METRICS_INT_H

#include "core/obuf.h"
#include "metrics/metrics.h"

/* metrics_profiles.c: sipdlg_profile_* families. */
void metrics_profiles(const struct metrics_sources *src, struct obuf *o);
/* metrics_process.c: sipdlg_process_* families. */
void metrics_process(const struct metrics_sources *src, struct obuf *o);

#endif /* SIPDLG_METRICS_INT_H */
