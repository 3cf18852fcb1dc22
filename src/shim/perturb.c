/*
 * libgrader_perturb: timing perturbation and thread trace for student programs.
 *
 * Loaded with LD_PRELOAD into the student's binary only (never into cargo or
 * a wrapper process), in the normal run and in every perturbed run, so that
 * the program's environment is the same in all of them. It does two jobs:
 *
 *  1. Perturbs timing in the perturbed runs, so that a program which is
 *     right only at normal timing shows it, while the program cannot tell a
 *     perturbed run from a normal one:
 *     - virtual time (vtime.c): a sleep or a timed wait returns at once and
 *       moves the program's clocks forward by what it skipped, so a program
 *       that times its own sleep sees it last as long as it asked;
 *       sched_yield gives no time;
 *     - late or early thread starts (sched.c): a new thread is held until
 *       every running thread waits (oldest or newest first), or runs before
 *       its spawner goes on. A wait by synchronization (join, channel, lock,
 *       condvar, barrier, park) still works; a wait by time does not.
 *     The only thing a program can notice is that its threads were slow,
 *     which a normal run on a busy machine can also show.
 *  2. Writes a trace of what the threads did, so that a failure can be
 *     explained and categorised from facts ("main slept 1000 ms while thread
 *     1 was held and never joined it") and the grader can tell which thread
 *     wrote each output line.
 *
 * The grader hands it two descriptors, never a name or a variable the
 * program could read: CONFIG_FD, a pipe holding the configuration, read and
 * closed by the constructor before main runs; and LOG_FD, one end of a
 * SOCK_SEQPACKET socket pair whose other end the grader reads. Safe Rust has
 * no way to use a descriptor by its number (that takes `unsafe`, which the
 * grader's build forbids), and a socket, unlike a file or a pipe, cannot be
 * opened again through /proc/self/fd or /dev/fd, so the program cannot
 * write lines into its own trace.
 *
 * Configuration, space-separated key=value (all optional):
 *   log=1            write the trace to LOG_FD
 *   log_max=N        stop logging events after N bytes (keep under the
 *                    run's file-size limit)
 *   vt=1             virtual time
 *   start=late|reverse|first
 *   cpu_us=N         CPU the process may spend spinning before a held
 *                    thread is let go anyway (a spin on an atomic flag)
 *   idle_ms=N        real time an idle process, not seen to wait, keeps a
 *                    thread held (a wait the shim does not see)
 *
 * Trace format: one line per event, space-separated key=value fields, '\n'
 * terminated, sent as one message so that lines from different threads
 * never interleave. Values never contain spaces: strings are
 * percent-encoded (space, '%', '=', control and non-ASCII bytes as %XX).
 * Every line starts with the same five fields:
 *
 *   ev=<event> pid=<pid> seq=<n> ns=<CLOCK_MONOTONIC ns> t=<thread index>
 *
 * seq counts the events of one process from 0 (init) in the order they
 * happened; ns is the real monotonic clock when the line was made. Thread
 * index 0 is the main thread, 1, 2, .. are threads in pthread_create order;
 * -1 is a thread the shim did not create. The events and their fields:
 *
 *   init    v=2 ppid=<pid> base=0x<load bias of the executable>
 *           exe=<executable path> [vt=1] [start=late|reverse|first]
 *           [bad=<key>,..]
 *   spawn   child=<index> rc=<errno or 0>
 *   start   delay_ns=<n> [why=quiescent|cpu|idle|exit]
 *                            thread t's body begins; delay_ns is how long
 *                            it was held, why says what let it go
 *   end     how=return|exit|cancel cpu_ns=<thread CPU time>
 *   join    target=<index> rc=<errno or 0>
 *   detach  target=<index> rc=<errno or 0>
 *   sleep   fn=clock_nanosleep|nanosleep|usleep|sleep abs=0|1
 *           req_ns=<requested> eff_ns=<slept> [ra=0x<addr>[,0x<addr>..]]
 *                            logged before sleeping; ra lists return
 *                            addresses, the sleep's caller first (absolute;
 *                            subtract base for the executable's debug info)
 *   wait    fn=futex|cond abs=0|1 req_ns=<timeout> eff_ns=<waited at most>
 *           [ra=..]         a wait with a timeout (recv_timeout,
 *                            park_timeout, Condvar::wait_timeout)
 *   sleeps  n=<count> req_ns=<total>
 *   waits   n=<count> req_ns=<total>
 *                            further sleeps or timed waits of t, beyond the
 *                            first ones logged one by one
 *   yield   n=<count>        t called sched_yield n times since its last event
 *   clock   n=<count>        t read a clock n times since its last event
 *   write   fd=1|2 n=<bytes written> off=<bytes written to fd before>
 *   trunc                    the log reached log_max; later events are lost
 *   exit    pending=<threads created whose body has not ended>
 *           held=<threads never let start> cpu_ns=<CPU time of t>
 *           pcpu_ns=<CPU time of the process>
 *
 * Readers must ignore unknown keys and lines they cannot parse.
 *
 * The files (shim.h lists what each one holds):
 *   perturb.c  this: the real functions, configuration, fork, load and exit
 *   log.c      trace lines, built without stdio or malloc
 *   threads.c  threads: create, start, join, detach, exit, and their indices
 *   output.c   which thread wrote which bytes of stdout and stderr
 *   vtime.c    virtual time
 *   sched.c    when new threads may start
 *
 * Build: cc -O2 -shared -fPIC -Wall -Wextra -o libgrader_perturb.so \
 *            perturb.c log.c threads.c output.c vtime.c sched.c -ldl -lpthread
 */

#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <execinfo.h>
#endif

#define TRACE_VERSION 2

/* ------------------------------------------------------------------------ */
/* Real functions                                                            */

/* A wrapper can run before the constructor (another library's constructor
 * may spawn or sleep), so every use resolves lazily. Racing resolutions
 * store the same value. */
#define DEFINE_REAL(name)                                                           \
    static name##_fn real_##name##_p;                                               \
    name##_fn real_##name(void) {                                                   \
        name##_fn f = __atomic_load_n(&real_##name##_p, __ATOMIC_ACQUIRE);          \
        if (!f) {                                                                   \
            f = __extension__(name##_fn)dlsym(RTLD_NEXT, #name);                    \
            __atomic_store_n(&real_##name##_p, f, __ATOMIC_RELEASE);                \
        }                                                                           \
        return f;                                                                   \
    }
/* The condvar functions have two versions in glibc on x86-64; a bare dlsym
 * may find the old one, whose condvar layout is not the one programs use. */
#define DEFINE_REAL_COND(name)                                                      \
    static name##_fn real_##name##_p;                                               \
    name##_fn real_##name(void) {                                                   \
        name##_fn f = __atomic_load_n(&real_##name##_p, __ATOMIC_ACQUIRE);          \
        if (!f) {                                                                   \
            f = __extension__(name##_fn)dlvsym(RTLD_NEXT, #name, "GLIBC_2.3.2");    \
            if (!f)                                                                 \
                f = __extension__(name##_fn)dlsym(RTLD_NEXT, #name);                \
            __atomic_store_n(&real_##name##_p, f, __ATOMIC_RELEASE);                \
        }                                                                           \
        return f;                                                                   \
    }
DEFINE_REAL(clock_gettime)
DEFINE_REAL(gettimeofday)
DEFINE_REAL(time)
DEFINE_REAL(clock_nanosleep)
DEFINE_REAL(nanosleep)
DEFINE_REAL(usleep)
DEFINE_REAL(sleep)
DEFINE_REAL(sched_yield)
DEFINE_REAL(syscall)
DEFINE_REAL(pthread_create)
DEFINE_REAL(pthread_join)
DEFINE_REAL(pthread_detach)
DEFINE_REAL(pthread_exit)
DEFINE_REAL_COND(pthread_cond_wait)
DEFINE_REAL_COND(pthread_cond_timedwait)
DEFINE_REAL(write)
DEFINE_REAL(writev)

/* ------------------------------------------------------------------------ */
/* Configuration (set once by the constructor)                               */

int log_on;
int vt_on;
int start_mode;
uint64_t bound_cpu_ns = 10ull * 1000000ull;
uint64_t bound_real_ns = 500ull * 1000000ull;
uint64_t log_max = 8ull << 20;
/* Where the shim's own code is loaded, to skip its frames in backtraces. */
uintptr_t shim_text_lo, shim_text_hi;

/* ------------------------------------------------------------------------ */
/* Process state                                                             */

pid_t cached_pid;
atomic_ullong next_seq;
static atomic_int exit_logged;

__thread struct tinfo *self_t;
__thread long self_index = -1;
__thread struct pending pend;

static struct tinfo main_info;

/* ------------------------------------------------------------------------ */
/* Fork: a child must not inherit a lock held by a thread it does not have   */

static void before_fork(void) {
    sched_atfork_prepare();
    threads_atfork_prepare();
    output_atfork_prepare();
}

static void after_fork_parent(void) {
    output_atfork_parent();
    threads_atfork_parent();
    sched_atfork_parent();
}

static void after_fork_child(void) {
    cached_pid = getpid();
    atomic_store(&next_seq, 0);
    output_atfork_child();
    threads_atfork_child();
    sched_atfork_child();
}

/* ------------------------------------------------------------------------ */
/* Load and exit                                                             */

struct loaded {
    uint64_t exe_base; /* load bias of the first object, the executable */
    uintptr_t self;    /* an address inside the shim */
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

static int parse_u64(const char *s, size_t n, uint64_t *v) {
    uint64_t x = 0;
    if (n == 0 || n > 18)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 1;
}

static int is(const char *s, size_t n, const char *word) {
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Applies one key=value of the configuration; 0 if it is not understood. */
static int configure(const char *key, size_t klen, const char *val, size_t vlen) {
    uint64_t v;
    if (is(key, klen, "log"))
        return parse_u64(val, vlen, &v) && (log_on = v == 1, 1);
    if (is(key, klen, "vt"))
        return parse_u64(val, vlen, &v) && (vt_on = v == 1, 1);
    if (is(key, klen, "log_max"))
        return parse_u64(val, vlen, &v) && v >= 4096 && (log_max = v, 1);
    if (is(key, klen, "cpu_us"))
        return parse_u64(val, vlen, &v) && v <= 60000000 && (bound_cpu_ns = v * 1000, 1);
    if (is(key, klen, "idle_ms"))
        return parse_u64(val, vlen, &v) && v <= 600000 && (bound_real_ns = v * 1000000, 1);
    if (is(key, klen, "start")) {
        if (is(val, vlen, "normal"))
            start_mode = START_NORMAL;
        else if (is(val, vlen, "late"))
            start_mode = START_LATE;
        else if (is(val, vlen, "reverse"))
            start_mode = START_REVERSE;
        else if (is(val, vlen, "first"))
            start_mode = START_FIRST;
        else
            return 0;
        return 1;
    }
    return 0;
}

/* Reads the configuration pipe, once, and closes it: after the constructor
 * the program has no descriptor, file or variable that differs between a
 * normal and a perturbed run. Keys not understood are listed in `bad`. */
static void read_config(struct line *bad) {
    struct stat st;
    if (fstat(CONFIG_FD, &st) != 0 || !S_ISFIFO(st.st_mode))
        return;
    char text[512];
    size_t len = 0;
    /* The grader wrote it all before the program started and closed its
     * end; a read that would block means there is nothing more. */
    int flags = fcntl(CONFIG_FD, F_GETFL);
    if (flags >= 0)
        fcntl(CONFIG_FD, F_SETFL, flags | O_NONBLOCK);
    while (len < sizeof text - 1) {
        ssize_t n = read(CONFIG_FD, text + len, sizeof text - 1 - len);
        if (n > 0)
            len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    close(CONFIG_FD);
    size_t i = 0;
    while (i < len) {
        while (i < len && (text[i] == ' ' || text[i] == '\n'))
            i++;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != '\n')
            i++;
        if (i == start)
            continue;
        const char *eq = memchr(text + start, '=', i - start);
        size_t klen = eq ? (size_t)(eq - (text + start)) : i - start;
        const char *val = eq ? eq + 1 : text + i;
        size_t vlen = eq ? (size_t)(text + i - val) : 0;
        if (!configure(text + start, klen, val, vlen)) {
            if (bad->len)
                put_str(bad, ",");
            put_mem(bad, text + start, klen);
        }
    }
}

__attribute__((constructor)) static void shim_load(void) {
    self_index = 0;
    main_info.index = 0;
    main_info.self = pthread_self();
    self_t = &main_info;
    cached_pid = getpid();
    /* Resolve now, so that no wrapper pays for dlsym on a hot path. */
    (void)REAL(clock_gettime);
    (void)REAL(gettimeofday);
    (void)REAL(time);
    (void)REAL(clock_nanosleep);
    (void)REAL(nanosleep);
    (void)REAL(usleep);
    (void)REAL(sleep);
    (void)REAL(sched_yield);
    (void)REAL(syscall);
    (void)REAL(pthread_create);
    (void)REAL(pthread_join);
    (void)REAL(pthread_detach);
    (void)REAL(pthread_exit);
    (void)REAL(pthread_cond_wait);
    (void)REAL(pthread_cond_timedwait);
    (void)REAL(write);
    (void)REAL(writev);
#ifdef __GLIBC__
    /* The first backtrace() loads libgcc_s; do it now, not in a sleep. */
    void *warm[2];
    (void)backtrace(warm, 2);
#endif
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);

    struct loaded objects = {.self = (uintptr_t)&put_backtrace};
    dl_iterate_phdr(find_objects, &objects);
    shim_text_lo = objects.self_lo;
    shim_text_hi = objects.self_hi;

    char bad_buf[256];
    struct line bad = {bad_buf, sizeof bad_buf, 0};
    read_config(&bad);
    if (log_on) {
        struct stat st;
        if (fstat(LOG_FD, &st) != 0 || !S_ISSOCK(st.st_mode))
            log_on = 0;
        else
            fcntl(LOG_FD, F_SETFD, FD_CLOEXEC);
    }
    index_put(&main_info);
    vt_init();
    sched_init_main(&main_info);
    if (!log_on)
        return;

    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';

    char buf[PATH_MAX * 3 + 512];
    struct line l;
    begin(&l, buf, sizeof buf, "init");
    put_kv_u64(&l, " v=", TRACE_VERSION);
    put_kv_i64(&l, " ppid=", getppid());
    put_str(&l, " base=");
    put_hex(&l, objects.exe_base);
    put_str(&l, " exe=");
    put_enc(&l, exe);
    if (vt_on)
        put_str(&l, " vt=1");
    static const char *const modes[] = {"normal", "late", "reverse", "first"};
    if (start_mode != START_NORMAL) {
        put_str(&l, " start=");
        put_str(&l, modes[start_mode]);
    }
    if (bad.len) {
        put_str(&l, " bad=");
        put_mem(&l, bad.buf, bad.len);
    }
    emit(&l);
}

__attribute__((destructor)) static void shim_unload(void) {
    if (!log_on || atomic_exchange(&exit_logged, 1))
        return;
    if (getpid() != cached_pid)
        return; /* a forked child that never ran the atfork handler */
    flush_pending();
    char buf[256];
    struct line l;
    begin(&l, buf, sizeof buf, "exit");
    long pending = atomic_load(&threads_created) - atomic_load(&threads_ended);
    put_kv_i64(&l, " pending=", pending > 0 ? pending : 0);
    put_kv_i64(&l, " held=", sched_held_count());
    put_kv_u64(&l, " cpu_ns=", thread_cpu_ns());
    put_kv_u64(&l, " pcpu_ns=", real_ns(CLOCK_PROCESS_CPUTIME_ID));
    /* The closing line is written even past log_max: the reserve is for it. */
    l.buf[l.len++] = '\n';
    write_line(&l);
}
