/* log.c - levels, a per-file tag, stderr or syslog. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "core/log.h"

static enum log_level log_threshold = LOG_LVL_INFO;
static int log_to_syslog;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error", [LOG_LVL_WARN] = "warn",
	[LOG_LVL_NOTICE] = "notice", [LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void log_setup(enum log_level level, int use_syslog)
{
	log_threshold = level;
	if (use_syslog && !log_to_syslog)
		openlog("sipdlgd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_to_syslog = use_syslog;
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

int log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "warning") == 0)
		return LOG_LVL_WARN;
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level > LOG_LVL_DEBUG)
		return "?";
	return level_names[level];
}

void log_vmsg(enum log_level level, const char *tag, const char *fmt,
	      va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE,
				    LOG_INFO, LOG_DEBUG };
	char line[1024];
	size_t n;

	if (level > log_threshold)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (log_to_syslog) {
		syslog(prio[level], "[%s] %s", tag, line);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %-6s [%s] %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		log_level_name(level), tag, line);
}

void log_msg(enum log_level level, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, tag, fmt, ap);
	va_end(ap);
}
