/*
 * local_int.h: internals shared by the local provider's files (provider_local.c: create,
 * upload, start, the helper's fds and the lifeline; local_pool.c: the warm pool and its pool
 * master). Not a public interface: see provider.h.
 */
#ifndef SD_LOCAL_INT_H
#define SD_LOCAL_INT_H

#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>

/* One helper of the warm pool: spawned with --pool, prepared up to its go byte (namespaces,
 * root, cgroups attached, seccomp program), waiting for its job on ctl. Our ends: the read ends
 * of its stdout, stderr and status pipes, and the job socket. */
struct pooled {
    pid_t pid;
    uint64_t pid_start;
    int out, err, st, ctl;
};

#define POOL_MAX     64
#define POOL_DEFAULT 4

struct local {
    char helper[512];
    char root[512];
    char shared[560]; /* <root>/.shared-<pid>: shared copies of uploaded data (shared_upload) */
    /* The warm pool (docs/sandbox.md "Warm pool"): size helpers kept ready by one refill
     * thread, started by the first create. All fields below under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int size; /* target; 0 = no pool */
    int n;    /* ready helpers in slot[0..n), oldest first */
    struct pooled slot[POOL_MAX];
    int thread_on, stop, broken;
    pthread_t thr;
    unsigned seq;
    /* Demand (docs/sandbox.md "Warm pool"): sandboxed creates so far. The pool master starts
     * at the second; the refill thread keeps size helpers ready only once creates > size. */
    int creates;
    int warm; /* provider_local_warm: a long-lived engine, size helpers ready from the start */
    /* The pool master (swarmdeck-sandbox --pool-master): forks each pooled helper. master_fd
     * is our end of its SOCK_SEQPACKET control socket (-1: none, or it failed); a request and
     * its answer are under mmu, so any thread may ask it for a member. */
    pthread_mutex_t mmu;
    int master_fd;
    pid_t master;
    int master_tried;
    int trace_fd; /* SWARMDECK_SANDBOX_TRACE: one line per helper started (tests), else -1 */
};

/* provider_local.c: the whole environment a sandbox sees (NULL-terminated). */
extern const char *const sd_local_clean_env[];
/* The read end of the process-wide lifeline pipe (-1 until sd_local_lifeline() made it). */
extern int sd_local_lifeline_rd;
/* Make the lifeline pipe once (any thread); sd_local_lifeline_rd is -1 if that failed. */
void sd_local_lifeline(void);
/* Move fd to a number >= 10 (close-on-exec). Returns the new fd, or -1 (fd closed). */
int sd_local_fd_high(int fd);
/* Signals of a spawned helper: none blocked, all default. attr: destroyed by the caller. */
void sd_local_spawn_attr(posix_spawnattr_t *attr);
/* The file actions of a helper's spawn: stdin /dev/null, 1 out, 2 err, 3 st, 4 the lifeline,
 * and 5 ctl when ctl >= 0. fa: destroyed by the caller. */
void sd_local_helper_fds(posix_spawn_file_actions_t *fa, int out, int err, int st, int ctl);
/* Test hook: one line "WHAT PID" to SWARMDECK_SANDBOX_TRACE's file, if set. */
void sd_local_trace(struct local *l, const char *what, pid_t pid);

/* local_pool.c (docs/sandbox.md "Warm pool", "Pool master"); every function: any thread. */
/* Count one sandboxed create; from the second, start the refill thread (and the master). */
void sd_pool_start(struct local *l);
/* A long-lived engine (the daemon): start the refill thread (and the master) now and keep size
 * helpers ready from the start instead of after the first size creates. */
void sd_pool_warm(struct local *l);
/* Take the oldest ready helper into *e (the caller's alone). Returns 0, or -1 if none. */
int sd_pool_take(struct local *l, struct pooled *e);
/* Have the pool master fork a helper for the caller now. Returns 0, or -1 (no master). */
int sd_pool_fork_now(struct local *l, struct pooled *e);
/* Send the job v (NULL-terminated) to a pooled helper's socket, then EOF. Returns 0 or -1. */
int sd_pool_send(int fd, char **v);
/* Let a pooled helper go unused (EOF on its job socket), close our ends, reap it. */
void sd_pool_release(struct pooled *e);
/* Stop the refill thread, release every ready helper, stop the master. */
void sd_pool_stop(struct local *l);

#endif
