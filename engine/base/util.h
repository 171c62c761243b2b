/*
 * util.h: small helpers shared by every engine module.
 *
 * Errors are values: a function that can fail takes a `struct sd_err *` (may be
 * NULL) and fills it with a one-line, lowercase message for the user, no full
 * stop, naming what was wrong and what to do. The integer `code` is one of the
 * SD_E* values, which map onto the command line's exit codes (design.md §7).
 *
 * Allocation: engine paths that must survive use plain malloc and report
 * SD_ENOMEM; UI, config and CLI code may use the aborting x* wrappers.
 *
 * Thread safety: every function here may be called from any thread.
 */
#ifndef SD_UTIL_H
#define SD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum sd_errcode {
    SD_OK = 0,
    SD_EFAIL = 1,  /* a deployment or threshold failed: exit 1 */
    SD_EUSAGE = 2, /* bad input from the user: exit 2 */
    SD_EENV = 3,   /* environment or store problem: exit 3 */
    SD_ENOMEM = 4, /* reported as SD_EENV at the exit boundary */
    SD_EKEY = 5,   /* missing or wrong encryption key: exit 3 (docs/security.md) */
};

struct sd_err {
    int code;
    char msg[512];
};

/* Fill e (if not NULL) with code and a printf-formatted message. Returns -1 so
 * callers can write `return sd_err_set(e, SD_EUSAGE, "...")`. */
int sd_err_set(struct sd_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix e->msg with "what: " (for adding context on the way up). */
void sd_err_prefix(struct sd_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Map an error code to a process exit status (0, 1, 2 or 3). */
int sd_err_exit_status(int code);

/* Aborting allocation wrappers: print to stderr and abort() on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic and wall clocks. sd_now_ms honours SWARMDECK_CLOCK=fixed:<epoch ms>
 * for reproducible screens and tests; sd_mono_ns never does. */
uint64_t sd_mono_ns(void);
/* The time ms milliseconds from now, on CLOCK_MONOTONIC when monotonic is
 * set, else CLOCK_REALTIME: a deadline for pthread_cond_timedwait on a
 * condition variable of that clock. */
struct timespec sd_timespec_after(int monotonic, int64_t ms);
int64_t sd_now_ms(void);

/* Directory holding this executable (from /proc/self/exe), without trailing
 * slash. Returns a static string; never NULL (falls back to "."). */
const char *sd_exe_dir(void);

/* Create every missing directory of path with mode (like mkdir -p).
 * Returns 0 or -1 with errno set. */
int sd_mkdir_p(const char *path, unsigned mode);

/* Remove a directory tree (like rm -rf; does not follow symlinks). Returns 0,
 * or -1 if anything could not be removed. A missing path is success. Any
 * tree a hostile program can make is fine: no recursion (constant stack, two
 * open directories at any depth), FIFOs never opened, directories without
 * permissions chmod'ed first. sd_rm_rf_why also names the first leftover and
 * the count in why (may be NULL). */
int sd_rm_rf(const char *path);
int sd_rm_rf_why(const char *path, char *why, size_t whyn);

/* The directory for per-user runtime files (sandbox work dirs):
 * $XDG_RUNTIME_DIR/swarmdeck when others may traverse $XDG_RUNTIME_DIR (a
 * sandbox's mapped uid must reach its work dir), else /tmp/swarmdeck-<uid>.
 * Static string. */
const char *sd_runtime_dir(void);

/* The default store path: $SWARMDECK_DB, else $XDG_DATA_HOME/swarmdeck/swarmdeck.db,
 * else $HOME/.local/share/swarmdeck/swarmdeck.db. Static string. */
const char *sd_default_db(void);

/* Run argv (argv[0] a path) with posix_spawn, stdin /dev/null, capturing its
 * stdout (and stderr too when merge_stderr) into a malloc'ed NUL-terminated
 * buffer *out of *len bytes (at most max bytes kept; the rest is drained).
 * *status is the wait status. Returns 0, or -1 with err set if it could not
 * be started. */
int sd_spawn_capture(char *const argv[], int merge_stderr, size_t max, char **out, size_t *len,
                     int *status, struct sd_err *err);

/* Read /proc/PID/stat's starttime (clock ticks since boot), or 0 if the
 * process does not exist. */
uint64_t proc_start_time(int pid);

/* proc_start_time of the calling process, read once per pid (a process's
 * start time never changes; a forked child reads its own). Any thread. */
uint64_t proc_self_start_time(void);

#endif
