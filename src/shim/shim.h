/*
 * Shared declarations of the timing shim (libgrader_perturb). The shim is
 * six files linked into one library:
 *
 *   perturb.c  the real functions, configuration, fork, load and exit
 *   log.c      trace lines, built without stdio or malloc, and sent
 *   threads.c  threads (create, start, join, detach, exit) and the tables
 *              from a pthread_t and from an index to the thread
 *   output.c   output attribution: who wrote which bytes of fd 1 and 2
 *   vtime.c    virtual time: clocks, sleeps, timed waits, sched_yield, and
 *              the futex calls std makes through syscall()
 *   sched.c    when new threads may start: held until every running thread
 *              waits ("late", "reverse"), or run before their spawner goes
 *              on ("first")
 *
 * See perturb.c for what the shim is for and the trace format.
 */
#ifndef GRADER_SHIM_H
#define GRADER_SHIM_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/* Descriptors the grader hands the program (src/perturb.rs has the same
 * numbers): the configuration, a pipe the constructor reads and closes
 * before main runs, and the trace log, a socket the grader reads while the
 * program runs. Neither has a name in the file system. */
#define CONFIG_FD 4
#define LOG_FD 5

#define SHIM_HIDDEN __attribute__((visibility("hidden")))

/* ------------------------------------------------------------------------ */
/* Real functions, resolved with dlsym(RTLD_NEXT)                            */

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);
typedef int (*usleep_fn)(useconds_t);
typedef unsigned int (*sleep_fn)(unsigned int);
typedef int (*sched_yield_fn)(void);
typedef long (*syscall_fn)(long, ...);
typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*pthread_join_fn)(pthread_t, void **);
typedef int (*pthread_detach_fn)(pthread_t);
typedef void (*pthread_exit_fn)(void *);
typedef int (*pthread_cond_wait_fn)(pthread_cond_t *, pthread_mutex_t *);
typedef int (*pthread_cond_timedwait_fn)(pthread_cond_t *, pthread_mutex_t *,
                                         const struct timespec *);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

#define DECLARE_REAL(name) SHIM_HIDDEN name##_fn real_##name(void);
DECLARE_REAL(clock_gettime)
DECLARE_REAL(gettimeofday)
DECLARE_REAL(time)
DECLARE_REAL(clock_nanosleep)
DECLARE_REAL(nanosleep)
DECLARE_REAL(usleep)
DECLARE_REAL(sleep)
DECLARE_REAL(sched_yield)
DECLARE_REAL(syscall)
DECLARE_REAL(pthread_create)
DECLARE_REAL(pthread_join)
DECLARE_REAL(pthread_detach)
DECLARE_REAL(pthread_exit)
DECLARE_REAL(pthread_cond_wait)
DECLARE_REAL(pthread_cond_timedwait)
DECLARE_REAL(write)
DECLARE_REAL(writev)
#define REAL(name) (real_##name())

/* ------------------------------------------------------------------------ */
/* Configuration (set once by the constructor, read-only afterwards)         */

enum start_mode {
    START_NORMAL = 0, /* threads start when the kernel runs them */
    START_LATE,       /* held; released one at a time, oldest first */
    START_REVERSE,    /* held; released one at a time, newest first */
    START_FIRST,      /* a new thread runs until it waits or ends, then its spawner */
};

SHIM_HIDDEN extern int log_on;
SHIM_HIDDEN extern int vt_on;          /* virtual time: perturbed runs */
SHIM_HIDDEN extern int start_mode;
SHIM_HIDDEN extern uint64_t bound_cpu_ns;  /* CPU the process may spin before a held thread goes */
SHIM_HIDDEN extern uint64_t bound_real_ns; /* real time an idle, not quiescent process waits */
SHIM_HIDDEN extern uint64_t log_max;       /* bytes of log, the closing lines aside */
/* Where the shim's own code is loaded, to skip its frames in backtraces. */
SHIM_HIDDEN extern uintptr_t shim_text_lo, shim_text_hi;

/* ------------------------------------------------------------------------ */
/* Process state (perturb.c)                                                 */

SHIM_HIDDEN extern pid_t cached_pid;      /* the pid every line carries */
SHIM_HIDDEN extern atomic_ullong next_seq; /* the next line's seq */

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */

enum tstate { T_RUNNING, T_BLOCKED, T_HELD, T_ENDED };

/* One thread the shim knows: main (index 0) or one it created. Allocated
 * once and never freed, so that a pointer stays valid (held threads wait on
 * their gate word). */
struct tinfo {
    long index;
    pthread_t self;
    atomic_uint gate;         /* futex word: 0 while held, 1 once released */
    atomic_uint settled;      /* futex word ("first"): 1 once it waited or ended */
    atomic_uint clock_streak; /* clock reads since its last other call */
    atomic_int watcher;       /* this held thread watches the spin bounds */
    /* Under the scheduler's lock: */
    int state;
    uintptr_t key;           /* what a blocked thread waits on */
    const char *released_by; /* why a held thread was let go */
    uint64_t held_since_ns;
};

SHIM_HIDDEN extern __thread struct tinfo *self_t;
SHIM_HIDDEN extern __thread long self_index;

/* threads.c */
SHIM_HIDDEN extern atomic_long threads_created; /* successful pthread_create calls */
SHIM_HIDDEN extern atomic_long threads_ended;   /* bodies that returned or exited */
SHIM_HIDDEN struct tinfo *thread_by_index(long index);
SHIM_HIDDEN int index_put(struct tinfo *t);
SHIM_HIDDEN uint64_t thread_cpu_ns(void);
SHIM_HIDDEN void threads_atfork_prepare(void);
SHIM_HIDDEN void threads_atfork_parent(void);
SHIM_HIDDEN void threads_atfork_child(void);

/* Per-thread counts of repeated calls, logged as one line before the
 * thread's next event (a polling loop must not flood the log). */
struct pending {
    uint64_t yields;
    uint64_t clocks;
    uint64_t waits, waits_ns;
    uint64_t sleeps, sleeps_ns;
    uint64_t logged_waits, logged_sleeps;
};
SHIM_HIDDEN extern __thread struct pending pend;

/* ------------------------------------------------------------------------ */
/* Log lines (log.c)                                                         */

struct line {
    char *buf;
    size_t cap, len;
};
SHIM_HIDDEN void put_mem(struct line *l, const char *s, size_t n);
SHIM_HIDDEN void put_str(struct line *l, const char *s);
SHIM_HIDDEN void put_u64(struct line *l, uint64_t v);
SHIM_HIDDEN void put_kv_u64(struct line *l, const char *key, uint64_t v);
SHIM_HIDDEN void put_kv_i64(struct line *l, const char *key, int64_t v);
SHIM_HIDDEN void put_hex(struct line *l, uint64_t v);
SHIM_HIDDEN void put_enc(struct line *l, const char *s);
SHIM_HIDDEN void put_backtrace(struct line *l, void *caller, int most);
SHIM_HIDDEN void begin(struct line *l, char *buf, size_t cap, const char *ev);
SHIM_HIDDEN void emit(struct line *l);
SHIM_HIDDEN void write_line(struct line *l);
SHIM_HIDDEN void flush_pending(void);
SHIM_HIDDEN void log_timed(const char *ev, const char *fn, int abs, uint64_t req, uint64_t eff,
                           void *caller);
SHIM_HIDDEN uint64_t real_ns(clockid_t clock);
SHIM_HIDDEN uint64_t ts_ns(const struct timespec *ts);

/* ------------------------------------------------------------------------ */
/* Output attribution (output.c)                                             */

SHIM_HIDDEN void output_atfork_prepare(void);
SHIM_HIDDEN void output_atfork_parent(void);
SHIM_HIDDEN void output_atfork_child(void);

/* ------------------------------------------------------------------------ */
/* Virtual time (vtime.c)                                                    */

SHIM_HIDDEN extern atomic_ullong vt_offset;
SHIM_HIDDEN int vt_shifted(clockid_t clock);
SHIM_HIDDEN void vt_init(void);

/* ------------------------------------------------------------------------ */
/* Scheduling (sched.c)                                                      */

SHIM_HIDDEN int sched_tracking(void);
SHIM_HIDDEN void sched_init_main(struct tinfo *main_t);
SHIM_HIDDEN void sched_register(struct tinfo *t);
SHIM_HIDDEN void sched_spawning(struct tinfo *child);
SHIM_HIDDEN void sched_spawn_failed(struct tinfo *child);
SHIM_HIDDEN void sched_spawned(struct tinfo *child);
SHIM_HIDDEN uint64_t sched_start(struct tinfo *self, const char **why);
SHIM_HIDDEN void sched_end(void);
SHIM_HIDDEN int sched_block(uintptr_t key);
SHIM_HIDDEN void sched_unblock(uintptr_t key, int blocked);
SHIM_HIDDEN void sched_wake(uintptr_t key, long n);
SHIM_HIDDEN uintptr_t join_key(struct tinfo *target);
SHIM_HIDDEN long sched_held_count(void);
SHIM_HIDDEN void sched_atfork_prepare(void);
SHIM_HIDDEN void sched_atfork_parent(void);
SHIM_HIDDEN void sched_atfork_child(void);
/* A futex wait or wake of the shim's own, never seen by its wrappers. */
SHIM_HIDDEN long raw_futex_wait(atomic_uint *word, unsigned expected, const struct timespec *rel);
SHIM_HIDDEN void raw_futex_wake(atomic_uint *word, int n);

/* Notes a call of the thread other than a clock read (see clock_streak). */
static inline void note_call(void) {
    if (self_t)
        atomic_store_explicit(&self_t->clock_streak, 0, memory_order_relaxed);
}

#endif
