/*
 * log.h - the one logger of sipdlgd.
 *
 * Each .c file defines LOG_TAG before including this header; messages carry
 * that tag.  Output goes to stderr or syslog, chosen at run time.  Nothing
 * on a per-packet path logs: the hot path counts instead.
 */
#ifndef SIPDLG_LOG_H
#define SIPDLG_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN = 1,
	LOG_LVL_NOTICE = 2,
	LOG_LVL_INFO = 3,
	LOG_LVL_DEBUG = 4,
};

#ifndef LOG_TAG
#define LOG_TAG "sipdlg"
#endif

/* Set the threshold and the target (0 stderr, 1 syslog). */
void log_setup(enum log_level level, int use_syslog);
enum log_level log_get_level(void);

/* Parse "error|warn|notice|info|debug"; returns the level or -EINVAL. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *tag, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

#define log_err(...) log_msg(LOG_LVL_ERROR, LOG_TAG, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, LOG_TAG, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, LOG_TAG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, LOG_TAG, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, LOG_TAG, __VA_ARGS__)

#endif /* SIPDLG_LOG_H */
