/*
 * The trace's lines (see perturb.c for their format): built in a buffer on
 * the caller's stack, without stdio or malloc, and sent as one message each
 * on LOG_FD; the counts of repeated calls, and the sleeps and timed waits
 * with the return addresses that lead back to their source line.
 */

#include "shim.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __GLIBC__
#include <execinfo.h>
#endif

/* Return addresses logged per sleep: the caller of the sleep function is
 * usually std's; the student's line is a frame or two further. A timed wait
 * is deeper in std (recv_timeout goes through the channel's flavours and
 * the thread's parker), so it gets more. */
#define SLEEP_FRAMES 8
#define WAIT_FRAMES 16
/* Sleeps and timed waits of one thread logged one by one (with their
 * backtrace); the rest are counted. */
#define LOGGED_PER_THREAD 16

static atomic_ullong log_bytes;
static atomic_int log_truncated;
static __thread int self_flushing;

/* ------------------------------------------------------------------------ */
/* Log lines, built without stdio or malloc (they are also made inside       */
/* write(), which may run in a signal handler)                               */

void put_mem(struct line *l, const char *s, size_t n) {
    if (l->len + n > l->cap - 1) /* keep room for '\n' */
        n = l->cap - 1 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

void put_str(struct line *l, const char *s) { put_mem(l, s, strlen(s)); }

void put_u64(struct line *l, uint64_t v) {
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

void put_hex(struct line *l, uint64_t v) {
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
void put_enc(struct line *l, const char *s) {
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

void put_kv_u64(struct line *l, const char *key, uint64_t v) {
    put_str(l, key);
    put_u64(l, v);
}

void put_kv_i64(struct line *l, const char *key, int64_t v) {
    put_str(l, key);
    put_i64(l, v);
}

uint64_t ts_ns(const struct timespec *ts) {
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* The kernel's clock, never the program's virtual one. */
uint64_t real_ns(clockid_t clock) {
    struct timespec ts;
    if (REAL(clock_gettime)(clock, &ts) != 0)
        return 0;
    return ts_ns(&ts);
}

/* Starts a line with the fields every event carries. */
void begin(struct line *l, char *buf, size_t cap, const char *ev) {
    l->buf = buf;
    l->cap = cap;
    l->len = 0;
    put_str(l, "ev=");
    put_str(l, ev);
    put_kv_i64(l, " pid=", cached_pid);
    put_kv_u64(l, " seq=", atomic_fetch_add(&next_seq, 1));
    put_kv_u64(l, " ns=", real_ns(CLOCK_MONOTONIC));
    put_kv_i64(l, " t=", self_index);
}

/* Room kept below log_max for the lines that close a log. */
#define LOG_RESERVE 1024

void write_line(struct line *l) {
    int saved = errno;
    /* One message per line on a SOCK_SEQPACKET socket: lines of different
     * threads never mix. MSG_NOSIGNAL: a grader that stopped reading must
     * not kill the program with SIGPIPE. A failed log write is dropped: the
     * program's behaviour comes first. */
    while (send(LOG_FD, l->buf, l->len, MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
    errno = saved;
}

void emit(struct line *l) {
    l->buf[l->len++] = '\n';
    uint64_t used = atomic_fetch_add(&log_bytes, l->len) + l->len;
    if (used + LOG_RESERVE > log_max) {
        if (!atomic_exchange(&log_truncated, 1)) {
            char buf[128];
            struct line t;
            begin(&t, buf, sizeof buf, "trunc");
            t.buf[t.len++] = '\n';
            write_line(&t);
        }
        return;
    }
    write_line(l);
}

/* The return addresses of the wrapper's caller and its callers. */
void put_backtrace(struct line *l, void *caller, int most) {
    put_str(l, " ra=");
    int logged = 0;
#ifdef __GLIBC__
    /* backtrace() starts inside the shim, in frames that depend on
     * inlining; the first frame outside the shim's own code is the caller.
     * Comparing ranges rather than looking for `caller` also holds where
     * return addresses carry pointer-authentication bits. */
    void *frames[WAIT_FRAMES + 6];
    if (most > WAIT_FRAMES)
        most = WAIT_FRAMES;
    int n = backtrace(frames, most + 6);
    for (int i = 0; i < n && logged < most; i++) {
        uintptr_t a = (uintptr_t)frames[i];
        if (!logged && a >= shim_text_lo && a < shim_text_hi)
            continue;
        if (logged)
            put_str(l, ",");
        put_hex(l, (uint64_t)a);
        logged++;
    }
#endif
    if (!logged)
        put_hex(l, (uint64_t)(uintptr_t)caller);
}

static void log_count(const char *ev, uint64_t n, const char *key2, uint64_t v2) {
    char buf[192];
    struct line l;
    begin(&l, buf, sizeof buf, ev);
    put_kv_u64(&l, " n=", n);
    if (key2)
        put_kv_u64(&l, key2, v2);
    emit(&l);
}

/* Logs the thread's counted calls, so that they keep their place among its
 * events. */
void flush_pending(void) {
    if (!log_on || self_flushing)
        return;
    self_flushing = 1;
    if (pend.yields)
        log_count("yield", pend.yields, NULL, 0);
    if (pend.clocks)
        log_count("clock", pend.clocks, NULL, 0);
    if (pend.sleeps)
        log_count("sleeps", pend.sleeps, " req_ns=", pend.sleeps_ns);
    if (pend.waits)
        log_count("waits", pend.waits, " req_ns=", pend.waits_ns);
    pend.yields = pend.clocks = pend.sleeps = pend.sleeps_ns = pend.waits = pend.waits_ns = 0;
    self_flushing = 0;
}

/* A sleep or a timed wait: the first ones of a thread in full, the rest
 * counted. */
void log_timed(const char *ev, const char *fn, int abs, uint64_t req, uint64_t eff, void *caller) {
    if (!log_on)
        return;
    int sleep = ev[0] == 's';
    uint64_t *logged = sleep ? &pend.logged_sleeps : &pend.logged_waits;
    if (*logged >= LOGGED_PER_THREAD) {
        if (sleep) {
            pend.sleeps++;
            pend.sleeps_ns += req;
        } else {
            pend.waits++;
            pend.waits_ns += req;
        }
        return;
    }
    (*logged)++;
    flush_pending();
    char buf[768];
    struct line l;
    begin(&l, buf, sizeof buf, ev);
    put_str(&l, " fn=");
    put_str(&l, fn);
    put_kv_u64(&l, " abs=", (uint64_t)abs);
    put_kv_u64(&l, " req_ns=", req);
    put_kv_u64(&l, " eff_ns=", eff);
    put_backtrace(&l, caller, sleep ? SLEEP_FRAMES : WAIT_FRAMES);
    emit(&l);
}
