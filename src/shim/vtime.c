/*
 * Virtual time, for the perturbed runs (vt=1).
 *
 * A sleep or a timed wait returns at once and moves the program's clocks
 * forward to when it would have ended, as if the thread had slept and
 * nothing else had run meanwhile. So waits *by time* cost nothing and give
 * the other threads no time, while a program that measures its own sleep
 * with Instant or SystemTime still sees it last as long as it asked (plus
 * the oversleep a real sleep shows: the timer slack and a wake-up latency,
 * 64-72 us on a 2 ms sleep here). The clocks are one offset added to every
 * clock that counts real time; it only grows, so they stay monotonic.
 *
 * No clock ever runs faster than real time: an Instant busy-wait
 * (`while start.elapsed() < d {}`) lasts its real d. Making it end at once
 * would take a clock that jumps while the thread spins, and a program can
 * see that (100 reads of Instant::now spanning milliseconds): it could then
 * join only when perturbed. The late-start profiles catch the busy-wait
 * instead, by keeping threads held while the clock is being polled
 * (sched.c).
 *
 * Rust's std reaches these through the PLT: Instant::now and SystemTime::now
 * call clock_gettime (glibc's vDSO path is inside it), thread::sleep calls
 * clock_nanosleep, park_timeout, recv_timeout and Condvar::wait_timeout call
 * syscall(SYS_futex, FUTEX_WAIT_BITSET, .., absolute deadline), and
 * yield_now calls sched_yield. Untimed futex waits and wakes are passed to
 * the scheduler (sched.c), which needs to know which threads are waiting.
 */

#include "shim.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

atomic_ullong vt_offset;
static uint64_t slack_ns = 50000;

/* Random part of the oversleep, per thread: the same sleep measured twice
 * does not give the same nanoseconds in a real run either. */
static __thread uint64_t rng_state;

void vt_init(void) {
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (slack > 0)
        slack_ns = (uint64_t)slack;
}

int vt_shifted(clockid_t clock) {
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_TAI:
        return 1;
    default:
        return 0; /* CPU-time clocks: a skipped sleep uses no CPU either */
    }
}

static uint64_t oversleep_ns(void) {
    if (!rng_state)
        rng_state = (uint64_t)(uintptr_t)&rng_state ^ real_ns(CLOCK_MONOTONIC) ^ 0x9E3779B97F4A7C15ull;
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return slack_ns + 12000 + rng_state % 10000;
}

static uint64_t offset(void) { return atomic_load_explicit(&vt_offset, memory_order_acquire); }

/* The program's view of `clock`. */
static uint64_t virtual_ns(clockid_t clock) { return real_ns(clock) + (vt_shifted(clock) ? offset() : 0); }

/* Moves the clocks forward so that `clock` reads at least `target`. */
static void advance_to(clockid_t clock, uint64_t target) {
    uint64_t real = real_ns(clock);
    if (target <= real)
        return;
    unsigned long long need = target - real;
    unsigned long long cur = offset();
    while (cur < need &&
           !atomic_compare_exchange_weak_explicit(&vt_offset, &cur, need, memory_order_acq_rel,
                                                  memory_order_acquire)) {
    }
}

static void add_ns(struct timespec *ts, uint64_t ns) {
    uint64_t total = (uint64_t)ts->tv_nsec + ns % 1000000000ull;
    ts->tv_sec += (time_t)(ns / 1000000000ull + total / 1000000000ull);
    ts->tv_nsec = (long)(total % 1000000000ull);
}

/* ------------------------------------------------------------------------ */
/* Clocks                                                                    */

int clock_gettime(clockid_t clock, struct timespec *ts) {
    int r = REAL(clock_gettime)(clock, ts);
    if (self_t)
        atomic_fetch_add_explicit(&self_t->clock_streak, 1, memory_order_relaxed);
    pend.clocks++;
    if (r == 0 && vt_on && vt_shifted(clock)) {
        uint64_t off = offset();
        if (off)
            add_ns(ts, off);
    }
    return r;
}

int gettimeofday(struct timeval *tv, void *tz) {
    int r = REAL(gettimeofday)(tv, tz);
    if (r == 0 && vt_on) {
        uint64_t us = (uint64_t)tv->tv_usec + offset() / 1000;
        tv->tv_sec += (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    return r;
}

time_t time(time_t *out) {
    time_t t = vt_on ? (time_t)(virtual_ns(CLOCK_REALTIME) / 1000000000ull) : REAL(time)(NULL);
    if (out)
        *out = t;
    return t;
}

/* ------------------------------------------------------------------------ */
/* Sleeps                                                                    */

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

/* A relative sleep of `req` ns that virtual time skips. */
static void skip(uint64_t req) {
    if (req)
        advance_to(CLOCK_MONOTONIC, virtual_ns(CLOCK_MONOTONIC) + req + oversleep_ns());
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    void *caller = __builtin_return_address(0);
    note_call();
    if (!valid_ts(req))
        return REAL(clock_nanosleep)(clock, flags, req, rem); /* its EFAULT or EINVAL */
    int abs = (flags & TIMER_ABSTIME) != 0;
    uint64_t req_ns = clamp_ns(req);
    uint64_t deadline = req_ns;
    if (abs) {
        uint64_t now = virtual_ns(clock);
        req_ns = req_ns > now ? req_ns - now : 0;
    }
    if (!vt_on || !vt_shifted(clock)) {
        log_timed("sleep", "clock_nanosleep", abs, req_ns, req_ns, caller);
        return REAL(clock_nanosleep)(clock, flags, req, rem);
    }
    log_timed("sleep", "clock_nanosleep", abs, req_ns, 0, caller);
    if (abs)
        advance_to(clock, deadline + oversleep_ns());
    else
        skip(req_ns);
    return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem) {
    void *caller = __builtin_return_address(0);
    note_call();
    if (!valid_ts(req))
        return REAL(nanosleep)(req, rem);
    uint64_t req_ns = clamp_ns(req);
    if (!vt_on) {
        log_timed("sleep", "nanosleep", 0, req_ns, req_ns, caller);
        return REAL(nanosleep)(req, rem);
    }
    log_timed("sleep", "nanosleep", 0, req_ns, 0, caller);
    skip(req_ns);
    return 0;
}

/* glibc's usleep and sleep call its internal nanosleep, not the exported
 * one, so each needs its own wrapper (measured: without them usleep(200 ms)
 * and sleep(1) were not perturbed). */
int usleep(useconds_t usec) {
    void *caller = __builtin_return_address(0);
    note_call();
    uint64_t req_ns = (uint64_t)usec * 1000ull;
    if (!vt_on) {
        log_timed("sleep", "usleep", 0, req_ns, req_ns, caller);
        return REAL(usleep)(usec);
    }
    log_timed("sleep", "usleep", 0, req_ns, 0, caller);
    skip(req_ns);
    return 0;
}

unsigned int sleep(unsigned int seconds) {
    void *caller = __builtin_return_address(0);
    note_call();
    uint64_t req_ns = (uint64_t)seconds * 1000000000ull;
    if (!vt_on) {
        log_timed("sleep", "sleep", 0, req_ns, req_ns, caller);
        return REAL(sleep)(seconds);
    }
    log_timed("sleep", "sleep", 0, req_ns, 0, caller);
    skip(req_ns);
    return 0;
}

int sched_yield(void) {
    note_call();
    pend.yields++;
    if (vt_on)
        return 0; /* a yield gives the other threads no time */
    return REAL(sched_yield)();
}

/* ------------------------------------------------------------------------ */
/* Futex waits and wakes (std's park, Mutex, Condvar, channels, scope)        */

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout,
                  uint32_t *uaddr2, uint32_t val3, void *caller) {
    note_call();
    int cmd = op & FUTEX_CMD_MASK;
    syscall_fn real = REAL(syscall);
    if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) {
        if (timeout) {
            if (!valid_ts(timeout))
                return real(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
            clockid_t clock = (op & FUTEX_CLOCK_REALTIME) ? CLOCK_REALTIME : CLOCK_MONOTONIC;
            int abs = cmd == FUTEX_WAIT_BITSET;
            uint64_t t = clamp_ns(timeout);
            uint64_t now = virtual_ns(clock);
            uint64_t req = abs ? (t > now ? t - now : 0) : t;
            if (!vt_on) {
                log_timed("wait", "futex", abs, req, req, caller);
                return real(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
            }
            /* What the kernel would do first: a changed word is no wait. */
            if (__atomic_load_n(uaddr, __ATOMIC_SEQ_CST) != val) {
                errno = EAGAIN;
                return -1;
            }
            log_timed("wait", "futex", abs, req, 0, caller);
            advance_to(clock, (abs ? t : now + t) + oversleep_ns());
            errno = ETIMEDOUT;
            return -1;
        }
        if (!sched_tracking())
            return real(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
        if (__atomic_load_n(uaddr, __ATOMIC_SEQ_CST) != val) {
            errno = EAGAIN;
            return -1;
        }
        uintptr_t key = (uintptr_t)uaddr;
        int blocked = sched_block(key);
        /* A wake between the check above and the registration found no
         * waiter to count: look again before sleeping in the kernel. */
        if (blocked && __atomic_load_n(uaddr, __ATOMIC_SEQ_CST) != val) {
            sched_unblock(key, blocked);
            errno = EAGAIN;
            return -1;
        }
        long r = real(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
        int saved = errno;
        sched_unblock(key, blocked);
        errno = saved;
        return r;
    }
    long r = real(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
    if (r >= 0 && sched_tracking()) {
        int saved = errno;
        if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET || cmd == FUTEX_REQUEUE ||
            cmd == FUTEX_CMP_REQUEUE)
            sched_wake((uintptr_t)uaddr, (long)val);
        else if (cmd == FUTEX_WAKE_OP) {
            sched_wake((uintptr_t)uaddr, (long)val);
            sched_wake((uintptr_t)uaddr2, (long)(uintptr_t)timeout);
        }
        errno = saved;
    }
    return r;
}

/* Variadic, like glibc's: six arguments are always read, as its own
 * assembly does; unused ones are whatever the registers held. Every pointer
 * passed on is the caller's own (a timespec made here would go out of scope
 * before the kernel reads it: research/perturb.md's hang). */
long syscall(long number, ...) {
    void *caller = __builtin_return_address(0);
    va_list ap;
    va_start(ap, number);
    long a1 = va_arg(ap, long);
    long a2 = va_arg(ap, long);
    long a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long);
    long a5 = va_arg(ap, long);
    long a6 = va_arg(ap, long);
    va_end(ap);
    if (number == SYS_futex)
        return futex((uint32_t *)a1, (int)a2, (uint32_t)a3, (const struct timespec *)a4,
                     (uint32_t *)a5, (uint32_t)a6, caller);
    note_call();
    return REAL(syscall)(number, a1, a2, a3, a4, a5, a6);
}

/* ------------------------------------------------------------------------ */
/* POSIX condition variables (C code; Rust's std uses futexes directly)      */

int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                           const struct timespec *abstime) {
    void *caller = __builtin_return_address(0);
    note_call();
    if (!valid_ts(abstime))
        return REAL(pthread_cond_timedwait)(cond, mutex, abstime);
    /* The condvar's clock is in its attributes, out of reach: a deadline
     * below a billion seconds is on the monotonic clock. */
    uint64_t t = clamp_ns(abstime);
    clockid_t clock = t < 1000000000ull * 1000000000ull ? CLOCK_MONOTONIC : CLOCK_REALTIME;
    uint64_t now = virtual_ns(clock);
    uint64_t req = t > now ? t - now : 0;
    if (!vt_on) {
        log_timed("wait", "cond", 1, req, req, caller);
        return REAL(pthread_cond_timedwait)(cond, mutex, abstime);
    }
    log_timed("wait", "cond", 1, req, 0, caller);
    advance_to(clock, t + oversleep_ns());
    return ETIMEDOUT; /* the mutex is still held, as after a real timeout */
}

int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex) {
    note_call();
    uintptr_t key = (uintptr_t)cond;
    int blocked = sched_block(key);
    int r = REAL(pthread_cond_wait)(cond, mutex);
    sched_unblock(key, blocked);
    return r;
}
