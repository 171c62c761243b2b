/*
 * sock.h: where a daemon listens and how it proves it is the only one.
 *
 * Every store has at most one daemon. Its sockets live in a 0700 directory
 * owned by the user: $XDG_RUNTIME_DIR/swarmdeck/sock, or
 * /tmp/swarmdeck-UID/sock when XDG_RUNTIME_DIR is unset (each level checked
 * to be a real directory owned by us, never a symlink someone planted).
 * A store's socket is named after a digest of the store's absolute path, so
 * every client of that store finds the same one; a second socket, ".ro",
 * serves read-only clients (read-only is the listener's property, checked by
 * the daemon, not a flag a client sends).
 *
 * The lock is a file beside the store, "<store>.serve.lock", held with
 * flock(2) for the daemon's life and holding its pid, so a second daemon
 * says which pid holds the store.
 *
 * Thread safety: any thread; no shared state.
 */
#ifndef SD_SOCK_H
#define SD_SOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/* The socket directory, created 0700 if missing. Returns 0, or -1 with err
 * set when it cannot be made or is not ours (owner, mode, symlink). */
int serve_sockdir(char *out, size_t n, struct sd_err *err);

/* The socket path for store_path (which must exist), read-write or
 * read-only. Returns 0 or -1 with err set. */
int serve_sockpath(const char *store_path, int readonly, char *out, size_t n, struct sd_err *err);

/* Bind and listen on path (mode 0600, a stale socket nobody answers on is
 * replaced). Returns the listening fd (CLOEXEC) or -1 with err set. */
int serve_listen(const char *path, struct sd_err *err);

/* Take the store's daemon lock. Returns the lock fd (keep it open while
 * serving), or -1 with err set; when another daemon holds it, *holder is
 * its pid and err says so. */
int serve_lock(const char *store_path, pid_t *holder, struct sd_err *err);

/* The pid of the daemon serving store_path, 0 when none (the lock is free),
 * or -1 when one holds the lock but its pid cannot be read. Does not take
 * the lock. */
pid_t serve_holder(const char *store_path);

/* The peer of a connected Unix socket. Returns 0 or -1. */
int serve_peer(int fd, pid_t *pid, uid_t *uid);

#endif
