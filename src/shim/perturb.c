/*
 * libgrader_perturb: timing perturbation and thread trace for student programs.
 *
 * Loaded with LD_PRELOAD into the student's binary only (never into cargo or
 * a wrapper process). It does two jobs:
 *
 *  1. Perturbs timing, so that a program which is right only at normal
 *     timing shows it. Sleeps can be scaled (x0 fast-forwards them) or
 *     inverted (longer sleeps become shorter ones), and new threads can be
 *     made to start late. Measured on a 2-core machine: scheduling tricks
 *     (pinning, nice, idle class, CPU hogs) never exposed "sleep instead of
 *     join"; sleeps scaled to 0 plus a delayed thread start exposed it every
 *     time, and inversion exposed output ordered by sleeps.
 *  2. Writes a trace of what the threads did, so that a failure can be
 *     explained ("main slept 1000 ms while thread 1 was running and never
 *     joined it") and so that the grader can tell which thread wrote each
 *     output line.
 *
 * The shim's own delays call the real libc functions found with
 * dlsym(RTLD_NEXT), so they are real time and never scaled by the shim.
 *
 * Environment, read once by the constructor (all optional):
 *   GRADER_PERTURB_LOG=<absolute path>  append the trace there (O_APPEND,
 *                                        one write() per line)
 *   GRADER_SLEEP_SCALE=F                multiply every sleep by F (F >= 0)
 *   GRADER_SLEEP_INVERT=M:m             a sleep of d ms lasts M*m/(m+d) ms
 *                                        (0 stays 0); applied before SCALE
 *   GRADER_SPAWN_DELAY_MS=N             every new thread waits N ms (real
 *                                        time) before its body runs
 *   GRADER_SPAWN_DELAY_DESC=S:K         the i-th spawned thread (i = 0, 1..,
 *                                        i < K) waits an extra (K-i)*S ms
 * Without SCALE and INVERT the sleep functions are passed through untouched
 * (trace only).
 *
 * Trace format: one line per event, space-separated key=value fields, '\n'
 * terminated, written with a single write() so that lines from different
 * threads never interleave. Values never contain spaces: strings are
 * percent-encoded (space, '%', '=', control and non-ASCII bytes as %XX).
 * Every line starts with the same five fields:
 *
 *   ev=<event> pid=<pid> seq=<n> ns=<CLOCK_MONOTONIC ns> t=<thread index>
 *
 * seq counts the events of one process from 0 (init) in the order they
 * happened; ns is the monotonic clock when the line was made. Thread index 0
 * is the main thread, 1, 2, .. are threads in pthread_create order; -1 is a
 * thread the shim did not create (e.g. one started inside libc). The events
 * and their extra fields:
 *
 *   init    v=1 ppid=<pid> base=0x<load bias of the executable>
 *           exe=<executable path> [scale=..] [invert=M:m] [delay_ms=N]
 *           [desc=S:K] [bad=<VAR>,..]
 *                            the shim is loaded; the grader checks exe to
 *                            detect a static binary that ignored the preload
 *   spawn   child=<index> rc=<errno or 0>
 *                            t called pthread_create for thread <child>
 *   start   delay_ns=<n>     thread t's body begins, after the start delay
 *   end     how=return|exit|cancel cpu_ns=<thread CPU time>
 *                            thread t's body is over
 *   join    target=<index> rc=<errno or 0>
 *                            t's pthread_join of <target> returned
 *   detach  target=<index> rc=<errno or 0>
 *   sleep   fn=clock_nanosleep|nanosleep|usleep|sleep abs=0|1
 *           req_ns=<requested> eff_ns=<slept> ra=0x<addr>[,0x<addr>..]
 *                            logged before sleeping; req_ns is relative
 *                            (an absolute deadline is converted); ra lists
 *                            return addresses, the sleep's caller first, then
 *                            its callers (absolute; subtract base for the
 *                            executable's debug info)
 *   write   fd=1|2 n=<bytes written> off=<bytes written to fd before>
 *                            t wrote n bytes to stdout/stderr
 *   exit    pending=<threads created whose body has not ended>
 *           cpu_ns=<CPU time of t> pcpu_ns=<CPU time of the process>
 *                            the process is exiting (exit() or return
 *                            from main); t is the exiting thread
 *
 * Readers must ignore unknown keys and lines they cannot parse: the log is
 * a file the student's program could also write to.
 *
 * Build: cc -O2 -shared -fPIC -Wall -Wextra -o libgrader_perturb.so perturb.c -ldl -lpthread
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <execinfo.h>
#endif

#define TRACE_VERSION 1
/* Return addresses logged per sleep: the caller of the sleep function is
 * usually std's sleep; the student's line is one or two frames further. */
#define SLEEP_FRAMES 8

/* ------------------------------------------------------------------------ */
/* Real functions                                                            */

typedef int (*clock_nanosleep_fn)(clockid_t, int, const struct timespec *, struct timespec *);
typedef int (*nanosleep_fn)(const struct timespec *, struct timespec *);
typedef int (*usleep_fn)(useconds_t);
typedef unsigned int (*sleep_fn)(unsigned int);
typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
typedef int (*pthread_join_fn)(pthread_t, void **);
typedef int (*pthread_detach_fn)(pthread_t);
typedef void (*pthread_exit_fn)(void *);
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);

static clock_nanosleep_fn real_clock_nanosleep_p;
static nanosleep_fn real_nanosleep_p;
static usleep_fn real_usleep_p;
static sleep_fn real_sleep_p;
static pthread_create_fn real_pthread_create_p;
static pthread_join_fn real_pthread_join_p;
static pthread_detach_fn real_pthread_detach_p;
static pthread_exit_fn real_pthread_exit_p;
static write_fn real_write_p;
static writev_fn real_writev_p;

/* A wrapper can run before the constructor (another library's constructor
 * may spawn or sleep), so every use resolves lazily. Racing resolutions store
 * the same value. */
#define DEFINE_REAL(name)                                                           \
    static name##_fn real_##name(void) {                                            \
        name##_fn f = __atomic_load_n(&real_##name##_p, __ATOMIC_ACQUIRE);          \
        if (!f) {                                                                   \
            f = __extension__(name##_fn)dlsym(RTLD_NEXT, #name);                    \
            __atomic_store_n(&real_##name##_p, f, __ATOMIC_RELEASE);                \
        }                                                                           \
        return f;                                                                   \
    }
DEFINE_REAL(clock_nanosleep)
DEFINE_REAL(nanosleep)
DEFINE_REAL(usleep)
DEFINE_REAL(sleep)
DEFINE_REAL(pthread_create)
DEFINE_REAL(pthread_join)
DEFINE_REAL(pthread_detach)
DEFINE_REAL(pthread_exit)
DEFINE_REAL(write)
DEFINE_REAL(writev)
#define REAL(name) (real_##name())

/* ------------------------------------------------------------------------ */
/* Configuration (set once by the constructor)                               */

static int log_fd = -1;
static int perturb_sleeps;      /* SCALE or INVERT given */
static int have_scale;
static double scale_factor = 1.0;
static int have_invert;
static double invert_max_ms, invert_knee_ms;
static uint64_t spawn_delay_ns;
static uint64_t desc_step_ns, desc_count;
/* Where the shim's own code is loaded, to skip its frames in backtraces. */
static uintptr_t shim_text_lo, shim_text_hi;

/* ------------------------------------------------------------------------ */
/* Process and thread state                                                  */

static pid_t cached_pid;
static atomic_ullong next_seq;
static atomic_long next_index = 1;   /* 0 is the main thread */
static atomic_long threads_created;  /* successful pthread_create calls */
static atomic_long threads_ended;    /* bodies that returned or exited */
static atomic_int exit_logged;

static __thread long self_index = -1;
static __thread int self_ended;
static __thread int self_in_output;  /* guards the output lock against re-entry */

/* Serializes writes to fd 1 and 2 with their log lines, so that the log
 * order (and off=) is the order of the bytes in the stream. */
static pthread_mutex_t output_lock[2] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static uint64_t output_offset[2];

/* ------------------------------------------------------------------------ */
/* Log lines, built without stdio or malloc (they are also made inside       */
/* write(), which may run in a signal handler)                               */

struct line {
    char *buf;
    size_t cap, len;
};

static void put_mem(struct line *l, const char *s, size_t n) {
    if (l->len + n > l->cap - 1) /* keep room for '\n' */
        n = l->cap - 1 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void put_str(struct line *l, const char *s) { put_mem(l, s, strlen(s)); }

static void put_u64(struct line *l, uint64_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(l, tmp + i, sizeof tmp - i);
}

static void put_i64(struct line *l, int64_t v) {
    if (v < 0) {
        put_mem(l, "-", 1);
        put_u64(l, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(l, (uint64_t)v);
    }
}

static void put_hex(struct line *l, uint64_t v) {
    static const char digits[] = "0123456789abcdef";
    char tmp[18];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = digits[v & 15];
        v >>= 4;
    } while (v);
    tmp[--i] = 'x';
    tmp[--i] = '0';
    put_mem(l, tmp + i, sizeof tmp - i);
}

/* Percent-encodes everything that could break the key=value format. */
static void put_enc(struct line *l, const char *s) {
    static const char digits[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c >= 0x7f || c == '%' || c == '=') {
            char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
            put_mem(l, esc, 3);
        } else {
            put_mem(l, (const char *)&c, 1);
        }
    }
}

static void put_kv_u64(struct line *l, const char *key, uint64_t v) {
    put_str(l, key);
    put_u64(l, v);
}

static void put_kv_i64(struct line *l, const char *key, int64_t v) {
    put_str(l, key);
    put_i64(l, v);
}

static uint64_t ts_ns(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0)
        return 0;
    return ts_ns(&ts);
}

/* Starts a line with the fields every event carries. */
static void begin(struct line *l, char *buf, size_t cap, const char *ev) {
    l->buf = buf;
    l->cap = cap;
    l->len = 0;
    put_str(l, "ev=");
    put_str(l, ev);
    put_kv_i64(l, " pid=", cached_pid);
    put_kv_u64(l, " seq=", atomic_fetch_add(&next_seq, 1));
    put_kv_u64(l, " ns=", now_ns(CLOCK_MONOTONIC));
    put_kv_i64(l, " t=", self_index);
}

static void emit(struct line *l) {
    int saved = errno;
    l->buf[l->len++] = '\n';
    /* One write per line; O_APPEND keeps lines whole. A failed log write is
     * dropped: the program's behaviour comes first. */
    (void)REAL(write)(log_fd, l->buf, l->len);
    errno = saved;
}

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

/* ------------------------------------------------------------------------ */
/* Sleeps                                                                    */

/* Real-time sleep for the shim's own delays. */
static void real_delay(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    while (REAL(clock_nanosleep)(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
    }
}

static uint64_t perturbed(uint64_t req_ns) {
    double d = (double)req_ns;
    if (have_invert) {
        if (req_ns == 0)
            return 0;
        d = invert_max_ms * invert_knee_ms / (invert_knee_ms + d / 1e6) * 1e6;
    }
    if (have_scale)
        d *= scale_factor;
    if (d >= 9.2e18)
        return (uint64_t)9.2e18;
    return (uint64_t)d;
}

/* A request the real function would refuse is left to it, error and all. */
static int valid_ts(const struct timespec *ts) {
    return ts && ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

static uint64_t clamp_ns(const struct timespec *ts) {
    if (ts->tv_sec < 0 || ts->tv_nsec < 0)
        return 0;
    if ((uint64_t)ts->tv_sec > 9000000000ull)
        return 9000000000ull * 1000000000ull;
    return ts_ns(ts);
}

static void log_sleep(const char *fn, int abs, uint64_t req, uint64_t eff, void *caller) {
    if (log_fd < 0)
        return;
    char buf[512];
    struct line l;
    begin(&l, buf, sizeof buf, "sleep");
    put_str(&l, " fn=");
    put_str(&l, fn);
    put_kv_u64(&l, " abs=", (uint64_t)abs);
    put_kv_u64(&l, " req_ns=", req);
    put_kv_u64(&l, " eff_ns=", eff);
    put_str(&l, " ra=");
    int logged = 0;
#ifdef __GLIBC__
    /* The caller, then its callers. backtrace() starts inside the shim, in
     * frames that depend on inlining; the first frame outside the shim's own
     * code is the caller. Comparing ranges rather than looking for `caller`
     * also holds where return addresses carry pointer-authentication bits. */
    void *frames[SLEEP_FRAMES + 6];
    int n = backtrace(frames, SLEEP_FRAMES + 6);
    for (int i = 0; i < n && logged < SLEEP_FRAMES; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        if (!logged && a >= shim_text_lo && a < shim_text_hi)
            continue;
        if (logged)
            put_str(&l, ",");
        put_hex(&l, (uint64_t)a);
        logged++;
    }
#endif
    if (!logged)
        put_hex(&l, (uint64_t)(uintptr_t)caller);
    emit(&l);
}

static struct timespec ns_ts(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    return ts;
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    void *caller = __builtin_return_address(0);
    if (!valid_ts(req))
        return REAL(clock_nanosleep)(clock, flags, req, rem); /* its EFAULT or EINVAL */
    int abs = (flags & TIMER_ABSTIME) != 0;
    uint64_t req_ns = clamp_ns(req);
    if (abs) {
        struct timespec now;
        if (clock_gettime(clock, &now) != 0)
            return REAL(clock_nanosleep)(clock, flags, req, rem);
        uint64_t now_v = clamp_ns(&now);
        req_ns = req_ns > now_v ? req_ns - now_v : 0;
    }
    if (!perturb_sleeps) {
        log_sleep("clock_nanosleep", abs, req_ns, req_ns, caller);
        return REAL(clock_nanosleep)(clock, flags, req, rem);
    }
    uint64_t eff = perturbed(req_ns);
    log_sleep("clock_nanosleep", abs, req_ns, eff, caller);
    /* req and rem may be the same object (Rust's std passes one timespec for
     * both), so req is not read after this point. */
    struct timespec ts = ns_ts(eff);
    int rc = REAL(clock_nanosleep)(clock, 0, &ts, NULL);
    /* An interrupted perturbed sleep reports nothing left to sleep: the
     * remainder of a scaled sleep has no meaning in the caller's units. */
    if (rc == EINTR && rem && !abs) {
        rem->tv_sec = 0;
        rem->tv_nsec = 0;
    }
    return rc;
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
    void *caller = __builtin_return_address(0);
    if (!valid_ts(req))
        return REAL(nanosleep)(req, rem);
    uint64_t req_ns = clamp_ns(req);
    if (!perturb_sleeps) {
        log_sleep("nanosleep", 0, req_ns, req_ns, caller);
        return REAL(nanosleep)(req, rem);
    }
    uint64_t eff = perturbed(req_ns);
    log_sleep("nanosleep", 0, req_ns, eff, caller);
    struct timespec ts = ns_ts(eff);
    int rc = REAL(nanosleep)(&ts, NULL);
    if (rc != 0 && errno == EINTR && rem) {
        rem->tv_sec = 0;
        rem->tv_nsec = 0;
    }
    return rc;
}

/* glibc's usleep and sleep call its internal nanosleep, not the exported
 * one, so each needs its own wrapper (measured: without them usleep(200 ms)
 * and sleep(1) were not scaled). */
int usleep(useconds_t usec) {
    void *caller = __builtin_return_address(0);
    uint64_t req_ns = (uint64_t)usec * 1000ull;
    if (!perturb_sleeps) {
        log_sleep("usleep", 0, req_ns, req_ns, caller);
        return REAL(usleep)(usec);
    }
    uint64_t eff = perturbed(req_ns);
    log_sleep("usleep", 0, req_ns, eff, caller);
    struct timespec ts = ns_ts(eff);
    return REAL(nanosleep)(&ts, NULL);
}

unsigned int sleep(unsigned int seconds) {
    void *caller = __builtin_return_address(0);
    uint64_t req_ns = (uint64_t)seconds * 1000000000ull;
    if (!perturb_sleeps) {
        log_sleep("sleep", 0, req_ns, req_ns, caller);
        return REAL(sleep)(seconds);
    }
    uint64_t eff = perturbed(req_ns);
    log_sleep("sleep", 0, req_ns, eff, caller);
    struct timespec ts = ns_ts(eff);
    (void)REAL(nanosleep)(&ts, NULL);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */

static uint64_t thread_cpu_ns(void) { return now_ns(CLOCK_THREAD_CPUTIME_ID); }

/* Logs the end of the calling thread's body, once. */
static void thread_end(const char *how) {
    if (self_ended || self_index < 1)
        return;
    self_ended = 1;
    if (log_fd >= 0) {
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "end");
        put_str(&l, " how=");
        put_str(&l, how);
        put_kv_u64(&l, " cpu_ns=", thread_cpu_ns());
        emit(&l);
    }
    atomic_fetch_add(&threads_ended, 1);
}

static void on_cancel(void *unused) {
    (void)unused;
    thread_end("cancel");
}

struct start_pack {
    void *(*body)(void *);
    void *arg;
    long index;
};

static void *trampoline(void *p) {
    struct start_pack pack = *(struct start_pack *)p;
    free(p);
    self_index = pack.index;
    registry_put(pthread_self(), pack.index);

    uint64_t delay = spawn_delay_ns;
    uint64_t i = (uint64_t)(pack.index - 1); /* 0 for the first spawned thread */
    if (i < desc_count)
        delay += (desc_count - i) * desc_step_ns;
    if (delay)
        real_delay(delay);
    if (log_fd >= 0) {
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "start");
        put_kv_u64(&l, " delay_ns=", delay);
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
    struct start_pack *pack = malloc(sizeof *pack);
    if (!pack) /* untraced rather than failed */
        return real(thread, attr, body, arg);
    long index = atomic_fetch_add(&next_index, 1);
    pack->body = body;
    pack->arg = arg;
    pack->index = index;
    /* Counted before the thread can run, so that created - ended never goes
     * below the number of bodies still running. */
    atomic_fetch_add(&threads_created, 1);
    int rc = real(thread, attr, trampoline, pack);
    if (rc != 0) {
        atomic_fetch_sub(&threads_created, 1);
        free(pack);
    } else {
        registry_put(*thread, index);
    }
    if (log_fd >= 0) {
        char buf[256];
        struct line l;
        begin(&l, buf, sizeof buf, "spawn");
        put_kv_i64(&l, " child=", index);
        put_kv_i64(&l, " rc=", rc);
        emit(&l);
    }
    return rc;
}

int pthread_join(pthread_t thread, void **ret) {
    long target = registry_get(thread);
    int rc = REAL(pthread_join)(thread, ret);
    if (log_fd >= 0) {
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
    long target = registry_get(thread);
    int rc = REAL(pthread_detach)(thread);
    if (log_fd >= 0) {
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
    if (self_index == 0 && !self_ended && log_fd >= 0) {
        /* main leaves, the process lives on until the last thread ends */
        char buf[256];
        struct line l;
        self_ended = 1;
        begin(&l, buf, sizeof buf, "end");
        put_str(&l, " how=exit");
        put_kv_u64(&l, " cpu_ns=", thread_cpu_ns());
        emit(&l);
    }
    thread_end("exit");
    REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

/* ------------------------------------------------------------------------ */
/* Output attribution                                                        */

static void log_output(int fd, uint64_t n) {
    char buf[256];
    struct line l;
    begin(&l, buf, sizeof buf, "write");
    put_kv_u64(&l, " fd=", (uint64_t)fd);
    put_kv_u64(&l, " n=", n);
    put_kv_u64(&l, " off=", output_offset[fd - 1]);
    output_offset[fd - 1] += n;
    emit(&l);
}

/* Locks the stream's order lock unless this thread already holds one (a
 * signal handler that writes inside write()); returns whether it locked. */
static int output_enter(int fd) {
    if (self_in_output)
        return 0;
    self_in_output = 1;
    pthread_mutex_lock(&output_lock[fd - 1]);
    return 1;
}

static void output_leave(int fd, int locked) {
    if (!locked)
        return;
    pthread_mutex_unlock(&output_lock[fd - 1]);
    self_in_output = 0;
}

ssize_t write(int fd, const void *buf, size_t count) {
    write_fn real = REAL(write);
    if (log_fd < 0 || (fd != 1 && fd != 2))
        return real(fd, buf, count);
    int locked = output_enter(fd);
    ssize_t r = real(fd, buf, count);
    if (r > 0) {
        int saved = errno;
        log_output(fd, (uint64_t)r);
        errno = saved;
    }
    output_leave(fd, locked);
    return r;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    writev_fn real = REAL(writev);
    if (log_fd < 0 || (fd != 1 && fd != 2))
        return real(fd, iov, iovcnt);
    int locked = output_enter(fd);
    ssize_t r = real(fd, iov, iovcnt);
    if (r > 0) {
        int saved = errno;
        log_output(fd, (uint64_t)r);
        errno = saved;
    }
    output_leave(fd, locked);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Fork: a child must not inherit a lock held by a thread it does not have   */

static void before_fork(void) {
    pthread_mutex_lock(&registry_lock);
    pthread_mutex_lock(&output_lock[0]);
    pthread_mutex_lock(&output_lock[1]);
}

static void after_fork_parent(void) {
    pthread_mutex_unlock(&output_lock[1]);
    pthread_mutex_unlock(&output_lock[0]);
    pthread_mutex_unlock(&registry_lock);
}

static void after_fork_child(void) {
    cached_pid = getpid();
    atomic_store(&next_seq, 0);
    output_offset[0] = output_offset[1] = 0;
    after_fork_parent();
}

/* ------------------------------------------------------------------------ */
/* Load and exit                                                             */

/* Parses "A:B" as two unsigned integers. */
static int parse_pair(const char *s, uint64_t *a, uint64_t *b) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || *end != ':' || errno)
        return 0;
    const char *t = end + 1;
    unsigned long long y = strtoull(t, &end, 10);
    if (end == t || *end || errno)
        return 0;
    *a = x;
    *b = y;
    return 1;
}

static int parse_u64(const char *s, uint64_t *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (end == s || *end || errno)
        return 0;
    *v = x;
    return 1;
}

struct loaded {
    uint64_t exe_base;   /* load bias of the first object, the executable */
    uintptr_t self;      /* an address inside the shim */
    uintptr_t self_lo, self_hi;
    int seen;
};

static int find_objects(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct loaded *found = data;
    if (!found->seen++)
        found->exe_base = (uint64_t)info->dlpi_addr;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t start = (uintptr_t)info->dlpi_addr + (uintptr_t)ph->p_vaddr;
        if (start < lo)
            lo = start;
        if (start + ph->p_memsz > hi)
            hi = start + ph->p_memsz;
    }
    if (found->self >= lo && found->self < hi) {
        found->self_lo = lo;
        found->self_hi = hi;
    }
    return 0;
}

/* Adds a variable to the comma-separated list of refused ones. */
static void note_bad(struct line *bad, const char *var) {
    if (bad->len)
        put_str(bad, ",");
    put_str(bad, var);
}

__attribute__((constructor)) static void shim_load(void) {
    self_index = 0;
    cached_pid = getpid();
    /* Resolve now, so that no wrapper pays for dlsym on a hot path. */
    (void)REAL(clock_nanosleep);
    (void)REAL(nanosleep);
    (void)REAL(usleep);
    (void)REAL(sleep);
    (void)REAL(pthread_create);
    (void)REAL(pthread_join);
    (void)REAL(pthread_detach);
    (void)REAL(pthread_exit);
    (void)REAL(write);
    (void)REAL(writev);
#ifdef __GLIBC__
    /* The first backtrace() loads libgcc_s; do it now, not in a sleep. */
    void *warm[2];
    (void)backtrace(warm, 2);
#endif
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);

    struct loaded objects = {.self = (uintptr_t)&log_sleep};
    dl_iterate_phdr(find_objects, &objects);
    shim_text_lo = objects.self_lo;
    shim_text_hi = objects.self_hi;

    char buf[PATH_MAX * 3 + 512];
    struct line l;
    /* Configuration fields, collected first and appended to the init line. */
    char cfg_buf[1024], bad_buf[256];
    struct line cfg = {cfg_buf, sizeof cfg_buf, 0};
    struct line bad = {bad_buf, sizeof bad_buf, 0};

    const char *v;
    if ((v = getenv("GRADER_SLEEP_SCALE")) && *v) {
        char *end;
        double f = strtod(v, &end);
        if (end != v && !*end && f >= 0 && f < 1e9) {
            have_scale = 1;
            scale_factor = f;
            put_str(&cfg, " scale=");
            put_enc(&cfg, v);
        } else {
            note_bad(&bad, "GRADER_SLEEP_SCALE");
        }
    }
    if ((v = getenv("GRADER_SLEEP_INVERT")) && *v) {
        uint64_t m_max, m_knee;
        if (parse_pair(v, &m_max, &m_knee) && m_knee > 0) {
            have_invert = 1;
            invert_max_ms = (double)m_max;
            invert_knee_ms = (double)m_knee;
            put_str(&cfg, " invert=");
            put_enc(&cfg, v);
        } else {
            note_bad(&bad, "GRADER_SLEEP_INVERT");
        }
    }
    if ((v = getenv("GRADER_SPAWN_DELAY_MS")) && *v) {
        uint64_t ms;
        if (parse_u64(v, &ms) && ms <= 3600000) {
            spawn_delay_ns = ms * 1000000ull;
            put_kv_u64(&cfg, " delay_ms=", ms);
        } else {
            note_bad(&bad, "GRADER_SPAWN_DELAY_MS");
        }
    }
    if ((v = getenv("GRADER_SPAWN_DELAY_DESC")) && *v) {
        uint64_t step, count;
        if (parse_pair(v, &step, &count) && step <= 3600000 && count <= 1000000) {
            desc_step_ns = step * 1000000ull;
            desc_count = count;
            put_str(&cfg, " desc=");
            put_enc(&cfg, v);
        } else {
            note_bad(&bad, "GRADER_SPAWN_DELAY_DESC");
        }
    }
    perturb_sleeps = have_scale || have_invert;

    if ((v = getenv("GRADER_PERTURB_LOG")) && *v == '/')
        log_fd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return;

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';

    begin(&l, buf, sizeof buf, "init");
    put_kv_u64(&l, " v=", TRACE_VERSION);
    put_kv_i64(&l, " ppid=", getppid());
    put_str(&l, " base=");
    put_hex(&l, objects.exe_base);
    put_str(&l, " exe=");
    put_enc(&l, exe);
    put_mem(&l, cfg.buf, cfg.len);
    if (bad.len) {
        put_str(&l, " bad=");
        put_mem(&l, bad.buf, bad.len);
    }
    emit(&l);
}

__attribute__((destructor)) static void shim_unload(void) {
    if (log_fd < 0 || atomic_exchange(&exit_logged, 1))
        return;
    if (getpid() != cached_pid)
        return; /* a forked child that never ran the atfork handler */
    char buf[256];
    struct line l;
    begin(&l, buf, sizeof buf, "exit");
    long pending = atomic_load(&threads_created) - atomic_load(&threads_ended);
    put_kv_i64(&l, " pending=", pending > 0 ? pending : 0);
    put_kv_u64(&l, " cpu_ns=", thread_cpu_ns());
    put_kv_u64(&l, " pcpu_ns=", now_ns(CLOCK_PROCESS_CPUTIME_ID));
    emit(&l);
}
