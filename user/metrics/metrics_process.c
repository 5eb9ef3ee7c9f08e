/*
 * metrics_process.c - the process's figures: CPU time, memory, file
 * descriptors (sockets among them), threads and start time, read from
 * getrusage() and /proc/self; a figure that cannot be read is left out.
 * The names follow Prometheus's process collector, with our prefix.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics/metrics_int.h"
#include "metrics/prom_text.h"

static void gauge(struct obuf *o, const char *name, const char *help,
		  double v)
{
	prom_family(o, name, "gauge", help);
	prom_sample_f64(o, name, NULL, 0, v);
}

/* Entries of /proc/self/fd, minus the one opendir() holds; -1 if
 * unreadable. */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* num_threads: field 20 of /proc/self/stat, counted after the ')' that
 * ends the command name (which may hold spaces). */
static long threads(void)
{
	char buf[1024], *p;
	long v = -1;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "re");

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			"%*u %*u %*u %*d %*d %*d %*d %ld", &v) != 1)
		v = -1;
	return v;
}

void metrics_process(const struct metrics_sources *src, struct obuf *o)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long vsz, rss;
	long page = sysconf(_SC_PAGESIZE), n;
	FILE *f;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		double cpu = (double)ru.ru_utime.tv_sec +
			     (double)ru.ru_utime.tv_usec / 1e6 +
			     (double)ru.ru_stime.tv_sec +
			     (double)ru.ru_stime.tv_usec / 1e6;

		prom_family(o, "sipdlg_process_cpu_seconds_total", "counter",
			    "User and system CPU time of sipdlgd, every "
			    "thread.");
		prom_sample_f64(o, "sipdlg_process_cpu_seconds_total", NULL,
				0, cpu);
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%lu %lu", &vsz, &rss) == 2 && page > 0) {
			gauge(o, "sipdlg_process_resident_memory_bytes",
			      "Resident set size.", (double)rss * page);
			gauge(o, "sipdlg_process_virtual_memory_bytes",
			      "Virtual memory size.", (double)vsz * page);
		}
		fclose(f);
	}
	n = open_fds();
	if (n >= 0)
		gauge(o, "sipdlg_process_open_fds", "Open file descriptors: "
		      "SIP and control sockets, TCP connections, maps, files.",
		      (double)n);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		gauge(o, "sipdlg_process_max_fds",
		      "The limit of open file descriptors (RLIMIT_NOFILE).",
		      (double)rl.rlim_cur);
	n = threads();
	if (n >= 0)
		gauge(o, "sipdlg_process_threads", "Threads of sipdlgd.",
		      (double)n);
	gauge(o, "sipdlg_process_start_time_seconds",
	      "When sipdlgd started, in seconds since the Unix epoch.",
	      (double)src->start_time);
}
