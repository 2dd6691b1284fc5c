// LD_PRELOAD shim for bench/schedules.sh: counts malloc calls so the benchmark
// can show that nextFireDate(after:) does not allocate.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static size_t calls;
static void *(*real_malloc)(size_t);

void *malloc(size_t size) {
    if (!real_malloc) real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    return real_malloc(size);
}

long rb_malloc_count(void) { return (long)__atomic_load_n(&calls, __ATOMIC_RELAXED); }
