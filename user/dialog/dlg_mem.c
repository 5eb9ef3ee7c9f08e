/*
 * dlg_mem.c - the dialog core's own allocator for what a dialog keeps for
 * its whole life: the cell, the callee block, profile memberships and
 * profile values.
 *
 * Why: with malloc these small, long-lived objects land between the much
 * bigger, short-lived buffers of the set-up transactions, which the same
 * worker threads allocate at the same time.  Once the transactions are
 * freed their pages stay resident because a dialog sits in each: ~350
 * bytes of RSS per dialog above the heap in use (tools/bench/dlg_mem.c
 * "tx" mode; bench-mem).  Here dialogs live in slabs of their own, packed
 * by size class, so the pages the transactions used become wholly free and
 * go back to the system (malloc_trim, proxy.c); and an object costs its
 * size rounded to 8 bytes, with no malloc header.
 *
 * Each size class (8-byte steps up to DLG_MEM_MAX) has a mutex, a free
 * list threaded through its free objects and a bump pointer into its
 * current slab (DLG_SLAB bytes, mmap'd, untouched pages cost nothing).
 * Slabs are never unmapped: freed objects serve the next dialogs.  Larger
 * objects go to malloc.  Under valgrind objects are announced as heap
 * blocks (MALLOCLIKE/FREELIKE), so leak checks see dialogs as before.
 */
#define LOG_TAG "dialog"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dialog/dlg_int.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DLG_VALGRIND 1
#endif
#endif

#ifndef DLG_VALGRIND
#define VALGRIND_MALLOCLIKE_BLOCK(p, n, rz, z) ((void)0)
#define VALGRIND_FREELIKE_BLOCK(p, rz) ((void)0)
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)0)
#define VALGRIND_MAKE_MEM_NOACCESS(p, n) ((void)0)
#endif

#define DLG_MEM_STEP 8u
#define DLG_MEM_MAX 1024u
#define DLG_MEM_CLASSES (DLG_MEM_MAX / DLG_MEM_STEP)
#define DLG_SLAB (256u * 1024u)

struct mem_class {
	pthread_mutex_t lock;
	void *free;		/* free objects, linked by their first word */
	char *bump, *end;	/* the rest of the current slab */
};

static struct mem_class classes[DLG_MEM_CLASSES];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void mem_init(void)
{
	for (size_t i = 0; i < DLG_MEM_CLASSES; i++)
		pthread_mutex_init(&classes[i].lock, NULL);
}

static size_t class_of(size_t n)
{
	return (n + DLG_MEM_STEP - 1) / DLG_MEM_STEP - 1;
}

void *dlg_mem_alloc(size_t n)
{
	struct mem_class *k;
	size_t sz;
	void *p;

	if (n > DLG_MEM_MAX)
		return calloc(1, n);
	if (n < sizeof(void *))
		n = sizeof(void *);
	pthread_once(&once, mem_init);
	k = &classes[class_of(n)];
	sz = (class_of(n) + 1) * DLG_MEM_STEP;
	pthread_mutex_lock(&k->lock);
	p = k->free;
	if (p) {
		VALGRIND_MAKE_MEM_DEFINED(p, sizeof(void *));
		memcpy(&k->free, p, sizeof(void *));
	} else {
		if ((size_t)(k->end - k->bump) < sz) {
			void *s = mmap(NULL, DLG_SLAB, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (s == MAP_FAILED) {
				pthread_mutex_unlock(&k->lock);
				return NULL;
			}
			k->bump = s;
			k->end = k->bump + DLG_SLAB;
		}
		p = k->bump;
		k->bump += sz;
	}
	pthread_mutex_unlock(&k->lock);
	VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, 1);
	memset(p, 0, n);
	return p;
}

void dlg_mem_free(void *p, size_t n)
{
	struct mem_class *k;

	if (!p)
		return;
	if (n > DLG_MEM_MAX) {
		free(p);
		return;
	}
	if (n < sizeof(void *))
		n = sizeof(void *);
	k = &classes[class_of(n)];
	VALGRIND_FREELIKE_BLOCK(p, 0);
	pthread_mutex_lock(&k->lock);
	VALGRIND_MAKE_MEM_UNDEFINED(p, sizeof(void *));
	memcpy(p, &k->free, sizeof(void *));
	VALGRIND_MAKE_MEM_NOACCESS(p, sizeof(void *));
	k->free = p;
	pthread_mutex_unlock(&k->lock);
}
