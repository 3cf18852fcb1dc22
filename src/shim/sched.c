/*
 * When a new thread may start, in the perturbed runs.
 *
 * "late" and "reverse": a new thread is held before its body runs, and is
 * let go, one at a time, when no thread the shim knows is running: every
 * one is blocked (an untimed futex wait, pthread_join, pthread_cond_wait),
 * held, or has ended. "late" lets the oldest go first, so the last-spawned
 * thread starts latest; "reverse" the newest. A program that waits for its
 * threads by synchronization blocks, and its threads run; one that waits by
 * time (a sleep or timed wait, skipped by virtual time; yield_now; a loop
 * on Instant) or not at all reaches its end with them still held. The
 * schedule follows from what the program does, not from the machine's
 * load, so the verdict does not change beside CPU hogs.
 *
 * Two bounds keep a correct program from waiting forever:
 *  - a process that spins (a loop on an atomic flag, `is_finished`, a
 *    `recv_timeout` retry) uses CPU without blocking; once it has used
 *    `cpu_us` of CPU since the last release, every held thread goes. CPU,
 *    not wall time, so that a loaded machine does not release early. A
 *    thread that only reads the clock (an Instant busy-wait) is waiting by
 *    time, not spinning on a flag: its CPU does not count.
 *  - a process that uses no CPU and is not seen blocked (a wait the shim
 *    does not wrap) lets them go after `idle_ms` of real time.
 *
 * "first": the spawner of a new thread waits until the thread blocks or
 * ends (or spins past the CPU bound) before it goes on: threads finish
 * their work as early as they can, the opposite of "late".
 *
 * Counting running threads: a wake (FUTEX_WAKE, a thread's end for its
 * joiners) makes the woken threads count as running at once, before they
 * return from the kernel, or the waker's end would look like everyone
 * waiting. Waiters are counted per futex word, not per thread: which
 * waiter the kernel wakes is its business; how many is what matters.
 */

#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Clock reads in a row, with no other call, that make a thread a clock
 * poller rather than a flag spinner. */
#define CLOCK_STREAK 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int tracking;
static long active; /* known threads running (or woken), not held, not ended */
static struct tinfo **held;
static size_t nheld, held_cap;
static struct tinfo **all; /* every known thread, for the spin check */
static size_t nall, all_cap;
static int watcher_present;
static uint64_t mark_cpu, mark_real; /* at the last release */

/* Blocked threads per key (a futex word, or a thread being joined). */
struct wslot {
    uintptr_t key;
    long blocked, credits;
};
static struct wslot *slots;
static size_t slot_cap, slot_len;

long raw_futex_wait(atomic_uint *word, unsigned expected, const struct timespec *rel) {
    return REAL(syscall)(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, rel, NULL, 0);
}

void raw_futex_wake(atomic_uint *word, int n) {
    REAL(syscall)(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

int sched_tracking(void) { return tracking; }

uintptr_t join_key(struct tinfo *target) { return (uintptr_t)target | 1; }

static int push(struct tinfo ***list, size_t *n, size_t *cap, struct tinfo *t) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct tinfo **grown = realloc(*list, c * sizeof *grown);
        if (!grown)
            return 0;
        *list = grown;
        *cap = c;
    }
    (*list)[(*n)++] = t;
    return 1;
}

/* ---- the table of keys ---- */

static size_t slot_hash(uintptr_t key, size_t cap) {
    return (size_t)(key * 0x9E3779B97F4A7C15ull >> 7) & (cap - 1);
}

static struct wslot *slot_find(uintptr_t key, int create) {
    if (create && (slot_len + 1) * 2 > slot_cap) {
        size_t cap = slot_cap ? slot_cap * 2 : 256;
        struct wslot *tab = calloc(cap, sizeof *tab);
        if (!tab)
            return NULL;
        for (size_t i = 0; i < slot_cap; i++) {
            if (!slots[i].key)
                continue;
            size_t h = slot_hash(slots[i].key, cap);
            while (tab[h].key)
                h = (h + 1) & (cap - 1);
            tab[h] = slots[i];
        }
        free(slots);
        slots = tab;
        slot_cap = cap;
    }
    if (!slot_cap)
        return NULL;
    size_t h = slot_hash(key, slot_cap);
    while (slots[h].key) {
        if (slots[h].key == key)
            return &slots[h];
        h = (h + 1) & (slot_cap - 1);
    }
    if (!create)
        return NULL;
    slots[h].key = key;
    slots[h].blocked = slots[h].credits = 0;
    slot_len++;
    return &slots[h];
}

/* Removes an empty slot, shifting later entries of its run back. */
static void slot_drop_if_empty(struct wslot *s) {
    if (s->blocked > 0)
        return;
    size_t i = (size_t)(s - slots);
    for (;;) {
        slots[i].key = 0;
        size_t j = i;
        for (;;) {
            j = (j + 1) & (slot_cap - 1);
            if (!slots[j].key) {
                slot_len--;
                return;
            }
            size_t home = slot_hash(slots[j].key, slot_cap);
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            slots[i] = slots[j];
            i = j;
            break;
        }
    }
}

/* ---- releasing held threads ---- */

static void marks_now(void) {
    mark_cpu = real_ns(CLOCK_PROCESS_CPUTIME_ID);
    mark_real = real_ns(CLOCK_MONOTONIC);
}

static void release_at(size_t i, const char *why) {
    struct tinfo *t = held[i];
    held[i] = held[--nheld];
    t->state = T_RUNNING;
    t->released_by = why;
    active++;
    atomic_store(&t->gate, 1);
    raw_futex_wake(&t->gate, 1);
}

/* Lets one held thread go: the oldest ("late") or the newest ("reverse"). */
static void release_one(const char *why) {
    if (!nheld)
        return;
    size_t pick = 0;
    for (size_t i = 1; i < nheld; i++) {
        int newer = held[i]->index > held[pick]->index;
        if (start_mode == START_REVERSE ? newer : !newer)
            pick = i;
    }
    release_at(pick, why);
    marks_now();
}

static void release_all(const char *why) {
    while (nheld)
        release_at(nheld - 1, why);
    marks_now();
}

static void maybe_release(void) {
    if (active <= 0 && nheld)
        release_one("quiescent");
}

/* Some running thread is polling the clock and nothing else. */
static int clock_polling(void) {
    for (size_t i = 0; i < nall; i++)
        if (all[i]->state == T_RUNNING &&
            atomic_load_explicit(&all[i]->clock_streak, memory_order_relaxed) > CLOCK_STREAK)
            return 1;
    return 0;
}

/* The watcher's check: a spinning or idle process gets its threads. */
static void check_bounds(void) {
    pthread_mutex_lock(&lock);
    /* Read under the lock: a release moves the marks. */
    uint64_t cpu = real_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t now = real_ns(CLOCK_MONOTONIC);
    if (nheld && cpu >= mark_cpu && now >= mark_real) {
        if (cpu - mark_cpu >= bound_cpu_ns) {
            if (!clock_polling())
                release_all("cpu");
        } else if (now - mark_real >= bound_real_ns) {
            release_all("idle");
        }
    }
    pthread_mutex_unlock(&lock);
}

/* Under the lock: a "first" thread that waits or ends lets its spawner go. */
static void settle(struct tinfo *t) {
    if (!atomic_load(&t->settled)) {
        atomic_store(&t->settled, 1);
        raw_futex_wake(&t->settled, INT_MAX);
    }
}

/* ---- the hooks ---- */

void sched_init_main(struct tinfo *main_t) {
    atomic_store(&main_t->gate, 1);
    atomic_store(&main_t->settled, 1);
    main_t->state = T_RUNNING;
    tracking = start_mode != START_NORMAL;
    if (!tracking)
        return;
    active = 1;
    push(&all, &nall, &all_cap, main_t);
}

void sched_spawning(struct tinfo *child) {
    if (!tracking) {
        atomic_store(&child->gate, 1);
        atomic_store(&child->settled, 1);
        child->state = T_RUNNING;
        return;
    }
    pthread_mutex_lock(&lock);
    push(&all, &nall, &all_cap, child);
    if (start_mode == START_FIRST) {
        atomic_store(&child->gate, 1);
        atomic_store(&child->settled, 0);
        child->state = T_RUNNING;
        active++;
    } else {
        atomic_store(&child->settled, 1);
        if (!nheld)
            marks_now();
        if (push(&held, &nheld, &held_cap, child)) {
            child->state = T_HELD;
            child->held_since_ns = real_ns(CLOCK_MONOTONIC);
        } else {
            atomic_store(&child->gate, 1);
            child->state = T_RUNNING;
            active++;
        }
    }
    pthread_mutex_unlock(&lock);
}

void sched_spawn_failed(struct tinfo *child) {
    if (!tracking)
        return;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nheld; i++)
        if (held[i] == child) {
            held[i] = held[--nheld];
            child->state = T_RUNNING;
            active++;
            break;
        }
    if (child->state == T_RUNNING)
        active--;
    child->state = T_ENDED;
    maybe_release();
    pthread_mutex_unlock(&lock);
}

/* "first": the spawner waits for its new thread to wait or end. */
void sched_spawned(struct tinfo *child) {
    if (!tracking || start_mode != START_FIRST)
        return;
    uint64_t cpu0 = real_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t real0 = real_ns(CLOCK_MONOTONIC);
    while (!atomic_load(&child->settled)) {
        struct timespec ms = {0, 1000000};
        raw_futex_wait(&child->settled, 0, &ms);
        if (real_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0 >= bound_cpu_ns ||
            real_ns(CLOCK_MONOTONIC) - real0 >= bound_real_ns)
            break;
    }
}

/* In a new thread, before its body: waits while it is held. Returns how
 * long, and why it was let go. */
uint64_t sched_start(struct tinfo *self, const char **why) {
    if (!tracking || start_mode == START_FIRST)
        return 0;
    pthread_mutex_lock(&lock);
    if (!watcher_present && self->state == T_HELD) {
        watcher_present = 1;
        atomic_store(&self->watcher, 1);
    }
    pthread_mutex_unlock(&lock);
    while (!atomic_load(&self->gate)) {
        if (atomic_load(&self->watcher)) {
            struct timespec ms = {0, 1000000};
            raw_futex_wait(&self->gate, 0, &ms);
            check_bounds();
        } else {
            raw_futex_wait(&self->gate, 0, NULL);
        }
    }
    pthread_mutex_lock(&lock);
    if (atomic_load(&self->watcher)) {
        atomic_store(&self->watcher, 0);
        watcher_present = 0;
        if (nheld) {
            /* Another held thread takes over the watch. */
            struct tinfo *next = held[0];
            watcher_present = 1;
            atomic_store(&next->watcher, 1);
            raw_futex_wake(&next->gate, 1);
        }
    }
    /* Let go before it got here, or while it waited. */
    *why = self->released_by;
    uint64_t since = self->held_since_ns;
    pthread_mutex_unlock(&lock);
    uint64_t now = real_ns(CLOCK_MONOTONIC);
    return since && now > since ? now - since : 0;
}

/* The calling thread's body is over. */
void sched_end(void) {
    struct tinfo *self = self_t;
    if (!tracking || !self)
        return;
    pthread_mutex_lock(&lock);
    if (self->state == T_RUNNING)
        active--;
    self->state = T_ENDED;
    /* Its joiners are as good as running. */
    struct wslot *s = slot_find(join_key(self), 0);
    if (s && s->blocked > s->credits) {
        active += s->blocked - s->credits;
        s->credits = s->blocked;
    }
    settle(self);
    maybe_release();
    pthread_mutex_unlock(&lock);
}

/* The calling thread is about to wait on `key`; returns whether it counts
 * as blocked (pass that to sched_unblock). */
int sched_block(uintptr_t key) {
    struct tinfo *self = self_t;
    if (!tracking || !self)
        return 0;
    pthread_mutex_lock(&lock);
    int blocks = self->state == T_RUNNING;
    /* Joining a thread that has already ended does not wait. */
    if (blocks && (key & 1) && ((struct tinfo *)(key & ~(uintptr_t)1))->state == T_ENDED)
        blocks = 0;
    struct wslot *s = blocks ? slot_find(key, 1) : NULL;
    if (blocks && s) {
        s->blocked++;
        self->state = T_BLOCKED;
        self->key = key;
        active--;
        settle(self);
        maybe_release();
    } else {
        blocks = 0;
    }
    pthread_mutex_unlock(&lock);
    return blocks;
}

void sched_unblock(uintptr_t key, int blocked) {
    struct tinfo *self = self_t;
    if (!blocked || !self)
        return;
    pthread_mutex_lock(&lock);
    self->state = T_RUNNING;
    struct wslot *s = slot_find(key, 0);
    if (s) {
        s->blocked--;
        if (s->credits > 0)
            s->credits--; /* counted as running when it was woken */
        else
            active++;
        if (s->credits > s->blocked)
            s->credits = s->blocked;
        slot_drop_if_empty(s);
    } else {
        active++;
    }
    pthread_mutex_unlock(&lock);
}

/* Up to `n` threads waiting on `key` were woken. */
void sched_wake(uintptr_t key, long n) {
    if (!tracking || n <= 0)
        return;
    pthread_mutex_lock(&lock);
    struct wslot *s = slot_find(key, 0);
    if (s) {
        long room = s->blocked - s->credits;
        long c = n < room ? n : room;
        if (c > 0) {
            s->credits += c;
            active += c;
        }
    }
    pthread_mutex_unlock(&lock);
}

long sched_held_count(void) {
    if (!tracking)
        return 0;
    pthread_mutex_lock(&lock);
    long n = (long)nheld;
    pthread_mutex_unlock(&lock);
    return n;
}

void sched_atfork_prepare(void) { pthread_mutex_lock(&lock); }

void sched_atfork_parent(void) { pthread_mutex_unlock(&lock); }

void sched_atfork_child(void) {
    /* Only the forking thread exists in the child: nothing to schedule. */
    tracking = 0;
    pthread_mutex_unlock(&lock);
}
