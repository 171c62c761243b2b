/*
 * provider.h: the sandbox provider interface.
 *
 * A provider makes sandboxes somewhere (local Linux namespaces, E2B microVMs)
 * and runs one program in each while streaming its output. The coordinator's
 * worker threads drive a sandbox through create, upload, start and destroy;
 * start blocks the calling worker until the program has exited, calling the
 * callbacks as output and status arrive. signal may be called from any thread
 * while start runs (it is how a deployment is cancelled).
 *
 * Errors: every operation returns 0 or -1 with err filled. err->code is
 * SD_EENV for a provider failure (worth a retry with backoff) and SD_EUSAGE for
 * a request that can never succeed (do not retry). What the program itself
 * does (exit codes, signals, timeouts) is not an error of start: it is
 * reported in struct sbx_exit.
 */
#ifndef SD_PROVIDER_H
#define SD_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct provider;
struct sbx;

struct sbx_spec {
    const char *id;     /* unique, [a-zA-Z0-9_-]{1,64} */
    int64_t timeout_ms; /* wall clock; 0 = none */
    int64_t memory_mb;  /* 0 = none */
    double cpus;        /* 0 = none */
    int pids;           /* 0 = provider default */
    int64_t disk_mb;    /* size cap of the sandbox's writable work dir; 0 = provider default */
    int strict;         /* refuse to run with degraded isolation */
    int unsandboxed;    /* explicit opt-in to no isolation (local only) */
    int64_t traj_id;    /* for the provider's own bookkeeping (metadata) */
    int64_t run_id;     /* the run it belongs to, 0 = none (metadata) */
    int internet;       /* explicit opt-in to outside network (E2B only; local never has one) */
    /* Set when the deployment is cancelled; a create that waits (for E2B
     * capacity) polls it and gives up. May be NULL. */
    const _Atomic int *cancel;
    /* Called by create, on its thread, with what it is waiting for ("waiting
     * for E2B capacity ..."), and with NULL when it no longer waits. May be
     * NULL. */
    void (*note)(void *arg, const char *status);
    void *note_arg;
};

struct sbx_exit {
    int code;         /* exit code, or -1 when killed by a signal */
    int signal;       /* the signal that ended it, or 0 */
    int timed_out;    /* the provider's wall-clock limit fired */
    int oom;          /* the memory limit killed it */
    int setup_failed; /* the sandbox never ran the program (provider fault) */
    int disk_full;    /* the work dir reached its size or inode cap (SBX_DISK_FULL_*), or 0 */
    int64_t mem_peak_kb;
    int64_t cpu_ms;
    int64_t wall_ms;
};

enum { SBX_DISK_FULL_BYTES = 1, SBX_DISK_FULL_INODES = 2 };

struct sbx_callbacks {
    /* A chunk of output, stream 1 = stdout, 2 = stderr. data is only valid
     * during the call. Called on the thread running start. */
    void (*output)(void *arg, int stream, const char *data, size_t len);
    /* The program is running; isolation is a JSON object text describing
     * each isolation feature and level. */
    void (*started)(void *arg, const char *isolation_json, const char *level);
    /* A resource sample (may never be called). */
    void (*sample)(void *arg, int64_t cpu_ms, int64_t mem_kb);
    void *arg;
};

struct provider_ops {
    const char *name;
    int (*create)(struct provider *p, const struct sbx_spec *spec, struct sbx **out,
                  struct sd_err *err);
    /* Copy a local file into the sandbox's work dir as `name` (mode 0755 if
     * executable, else 0644). */
    int (*upload)(struct sbx *b, const char *local_path, const char *name, int executable,
                  struct sd_err *err);
    /* Run argv (argv[0] relative to the work dir or absolute inside the
     * sandbox) and block until it has exited. */
    int (*start)(struct sbx *b, char *const argv[], const struct sbx_callbacks *cb,
                 struct sbx_exit *ex, struct sd_err *err);
    /* Ask the running program to stop: SIGTERM then, after the grace period,
     * SIGKILL of everything in the sandbox. Any thread. Returns 0 or -1. */
    int (*signal)(struct sbx *b, int sig);
    /* Tear the sandbox down and free b. Accepts NULL. */
    int (*destroy)(struct sbx *b);
    /* Host-side identity of a live sandbox, for the lease (pid of the local
     * helper, or 0). */
    int (*lease_info)(struct sbx *b, int *pid, uint64_t *pid_start, char *workdir, size_t n);
    void (*free)(struct provider *p);
    /* Optional (NULL: the provider cannot). Reattach to a sandbox a previous
     * process of ours left running, named by the workdir its lease_info gave
     * and spec (spec->id its sandbox id): *out is a live sandbox again, on
     * which resume streams the program's output from now until it ends, as
     * start does (output made while nobody was attached is lost). destroy
     * it after. Return 0, or -1 with err set (SD_EFAIL: it is gone). */
    int (*reattach)(struct provider *p, const struct sbx_spec *spec, const char *workdir,
                    struct sbx **out, struct sd_err *err);
    int (*resume)(struct sbx *b, const struct sbx_callbacks *cb, struct sbx_exit *ex,
                  struct sd_err *err);
    /* Optional (NULL: the provider cannot). Pause (on = 1) every process of the running
     * sandbox, or resume it (on = 0); while paused its wall-clock timeout does not run. Any
     * thread, while start runs; signal still works on a paused sandbox. Returns 0, or -1
     * with err set (SD_EFAIL: it is not running). */
    int (*pause)(struct sbx *b, int on, struct sd_err *err);
};

struct provider {
    const struct provider_ops *ops;
    char name[32];   /* instance name, e.g. "local", "e2b" */
    char region[32]; /* where it runs, e.g. an E2B region's label; "" = none said */
    void *impl;
};

/* The local namespace provider. helper_path is swarmdeck-sandbox; root_dir is
 * where work dirs are made (created 0700). Returns NULL with err set. */
struct provider *provider_local_new(const char *helper_path, const char *root_dir,
                                    struct sd_err *err);

/* Tell the local provider p that its process is long-lived (the daemon): its warm pool fills
 * now, before the first sandbox, instead of once more than its size were asked for (what keeps
 * a one-shot `deploy -a 1` at exactly one helper). Any thread; cannot fail (without a pool, or
 * when it cannot start, starts stay cold as before). */
void provider_local_warm(struct provider *p);

#endif
