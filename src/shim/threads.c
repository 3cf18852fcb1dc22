/*
 * The program's threads as the shim sees them: pthread_create, join,
 * detach and exit wrapped to log each one and to let the scheduler (sched.c)
 * hold or release them, and the tables from a pthread_t and from a thread
 * index to the thread.
 */

#include "shim.h"

#include <stdlib.h>
#include <string.h>

static atomic_long next_index = 1; /* 0 is the main thread */
atomic_long threads_created;       /* successful pthread_create calls */
atomic_long threads_ended;         /* bodies that returned or exited */
static __thread int self_ended;

/* ------------------------------------------------------------------------ */
/* pthread_t -> thread index                                                 */

/* Open addressing, never shrinking. An entry is only ever overwritten by a
 * newer (larger) index: a pthread_t value is reused only after its thread is
 * gone, and this rule keeps a late update for the old thread from hiding the
 * new one. Entries are never removed, so the table holds at most the number
 * of distinct pthread_t values, which glibc's stack cache keeps small. */
struct slot {
    uintptr_t key;
    long index;
};
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *registry;
static size_t registry_cap, registry_len;
/* Thread index -> its tinfo, for the scheduler. */
static struct tinfo **by_index;
static size_t by_index_cap;

static size_t slot_of(struct slot *tab, size_t cap, uintptr_t key) {
    size_t h = (size_t)(key * 0x9E3779B97F4A7C15ull) & (cap - 1);
    while (tab[h].key && tab[h].key != key)
        h = (h + 1) & (cap - 1);
    return h;
}

static void registry_put(pthread_t th, long index) {
    uintptr_t key = (uintptr_t)th;
    if (!key || index < 0)
        return;
    pthread_mutex_lock(&registry_lock);
    if ((registry_len + 1) * 2 > registry_cap) {
        size_t cap = registry_cap ? registry_cap * 2 : 256;
        struct slot *tab = calloc(cap, sizeof *tab);
        if (!tab) {
            pthread_mutex_unlock(&registry_lock);
            return;
        }
        for (size_t i = 0; i < registry_cap; i++)
            if (registry[i].key)
                tab[slot_of(tab, cap, registry[i].key)] = registry[i];
        free(registry);
        registry = tab;
        registry_cap = cap;
    }
    size_t h = slot_of(registry, registry_cap, key);
    if (!registry[h].key) {
        registry[h].key = key;
        registry[h].index = index;
        registry_len++;
    } else if (registry[h].index < index) {
        registry[h].index = index;
    }
    pthread_mutex_unlock(&registry_lock);
}

static long registry_get(pthread_t th) {
    uintptr_t key = (uintptr_t)th;
    long index = -1;
    pthread_mutex_lock(&registry_lock);
    if (registry_cap) {
        size_t h = slot_of(registry, registry_cap, key);
        if (registry[h].key == key)
            index = registry[h].index;
    }
    pthread_mutex_unlock(&registry_lock);
    return index;
}

int index_put(struct tinfo *t) {
    pthread_mutex_lock(&registry_lock);
    if ((size_t)t->index >= by_index_cap) {
        size_t cap = by_index_cap ? by_index_cap : 256;
        while (cap <= (size_t)t->index)
            cap *= 2;
        struct tinfo **tab = realloc(by_index, cap * sizeof *tab);
        if (!tab) {
            pthread_mutex_unlock(&registry_lock);
            return 0;
        }
        memset(tab + by_index_cap, 0, (cap - by_index_cap) * sizeof *tab);
        by_index = tab;
        by_index_cap = cap;
    }
    by_index[t->index] = t;
    pthread_mutex_unlock(&registry_lock);
    return 1;
}

struct tinfo *thread_by_index(long index) {
    struct tinfo *t = NULL;
    pthread_mutex_lock(&registry_lock);
    if (index >= 0 && (size_t)index < by_index_cap)
        t = by_index[index];
    pthread_mutex_unlock(&registry_lock);
    return t;
}

void threads_atfork_prepare(void) { pthread_mutex_lock(&registry_lock); }

void threads_atfork_parent(void) { pthread_mutex_unlock(&registry_lock); }

void threads_atfork_child(void) { pthread_mutex_unlock(&registry_lock); }

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */

uint64_t thread_cpu_ns(void) { return real_ns(CLOCK_THREAD_CPUTIME_ID); }

/* Logs the end of the calling thread's body, once, and lets the scheduler
 * know. */
static void thread_end(const char *how) {
    if (self_ended || self_index < 1)
        return;
    self_ended = 1;
    if (log_on) {
        flush_pending();
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "end");
        put_str(&l, " how=");
        put_str(&l, how);
        put_kv_u64(&l, " cpu_ns=", thread_cpu_ns());
        emit(&l);
    }
    atomic_fetch_add(&threads_ended, 1);
    sched_end();
}

static void on_cancel(void *unused) {
    (void)unused;
    thread_end("cancel");
}

struct start_pack {
    void *(*body)(void *);
    void *arg;
    struct tinfo *info;
};

static void *trampoline(void *p) {
    struct start_pack pack = *(struct start_pack *)p;
    free(p);
    self_t = pack.info;
    self_index = pack.info->index;
    pack.info->self = pthread_self();
    registry_put(pthread_self(), self_index);

    const char *why = NULL;
    uint64_t held = sched_start(pack.info, &why);
    if (log_on) {
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "start");
        put_kv_u64(&l, " delay_ns=", held);
        if (why) {
            put_str(&l, " why=");
            put_str(&l, why);
        }
        emit(&l);
    }

    void *volatile ret = NULL;
    /* Cancellation unwinds past the normal end; the cleanup handler logs it.
     * pthread_exit is logged by its own wrapper before it unwinds. */
    pthread_cleanup_push(on_cancel, NULL);
    ret = pack.body(pack.arg);
    pthread_cleanup_pop(0);
    thread_end("return");
    return ret;
}

int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*body)(void *), void *arg) {
    pthread_create_fn real = REAL(pthread_create);
    note_call();
    struct start_pack *pack = malloc(sizeof *pack);
    struct tinfo *info = calloc(1, sizeof *info);
    if (!pack || !info) { /* untraced rather than failed */
        free(pack);
        free(info);
        return real(thread, attr, body, arg);
    }
    info->index = atomic_fetch_add(&next_index, 1);
    index_put(info);
    pack->body = body;
    pack->arg = arg;
    pack->info = info;
    /* Counted before the thread can run, so that created - ended never goes
     * below the number of bodies still running. */
    atomic_fetch_add(&threads_created, 1);
    sched_spawning(info);
    int rc = real(thread, attr, trampoline, pack);
    if (rc != 0) {
        atomic_fetch_sub(&threads_created, 1);
        sched_spawn_failed(info);
        free(pack);
        /* The tinfo stays: by_index may already point at it. */
    } else {
        registry_put(*thread, info->index);
    }
    if (log_on) {
        flush_pending();
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "spawn");
        put_kv_i64(&l, " child=", info->index);
        put_kv_i64(&l, " rc=", rc);
        emit(&l);
    }
    if (rc == 0)
        sched_spawned(info);
    return rc;
}

int pthread_join(pthread_t thread, void **ret) {
    note_call();
    long target = registry_get(thread);
    struct tinfo *t = target >= 0 ? thread_by_index(target) : NULL;
    uintptr_t key = t ? join_key(t) : 0;
    int blocked = key ? sched_block(key) : 0;
    int rc = REAL(pthread_join)(thread, ret);
    if (key)
        sched_unblock(key, blocked);
    if (log_on) {
        flush_pending();
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "join");
        put_kv_i64(&l, " target=", target);
        put_kv_i64(&l, " rc=", rc);
        emit(&l);
    }
    return rc;
}

int pthread_detach(pthread_t thread) {
    note_call();
    long target = registry_get(thread);
    int rc = REAL(pthread_detach)(thread);
    if (log_on) {
        flush_pending();
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "detach");
        put_kv_i64(&l, " target=", target);
        put_kv_i64(&l, " rc=", rc);
        emit(&l);
    }
    return rc;
}

void pthread_exit(void *ret) {
    if (self_index == 0 && !self_ended && log_on) {
        /* main leaves, the process lives on until the last thread ends */
        flush_pending();
        char buf[256];
        struct line l;
        self_ended = 1;
        begin(&l, buf, sizeof buf, "end");
        put_str(&l, " how=exit");
        put_kv_u64(&l, " cpu_ns=", thread_cpu_ns());
        emit(&l);
    }
    if (self_index == 0)
        sched_end();
    thread_end("exit");
    REAL(pthread_exit)(ret);
    __builtin_unreachable();
}
