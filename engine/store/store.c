/*
 * store.c: the trajectory store: open and migrate, the writer thread, output
 * capture with head/tail caps, leases (see store.h for the contract).
 *
 * DESIGN
 * The write connection belongs to one writer thread. Other threads hand it
 * jobs through a FIFO guarded by ONE mutex (s->lock) and ONE condition
 * variable (s->cond), like redis's bio.c. The writer sleeps on s->cond when it
 * has nothing to do; callers of store_call and store_flush sleep on the same
 * variable, so every wake-up is a broadcast and every sleeper re-checks its
 * own predicate. Spurious wake-ups are cheap: at most a few threads wait.
 *
 * Group commit. The writer takes the whole queue at once, opens a batch with
 * BEGIN IMMEDIATE if none is open, and runs the jobs in order. It commits when
 * the batch holds STORE_BATCH_ROWS jobs, when STORE_BATCH_MS have passed since
 * the batch began, or as soon as the queue is empty while someone waits in
 * store_flush. So a lone flush costs one commit, and a firehose of jobs costs
 * one commit per thousand. SQLITE_BUSY (another process holds the write lock
 * longer than busy_timeout) is retried.
 *
 * Sequence numbers. Each job gets s->submitted + 1 at submit. s->settled is
 * the highest sequence number whose batch has ended (committed or failed).
 * store_flush waits for settled >= its target. A failed batch bumps
 * s->fail_gen; the next flush to return reports it (once).
 *
 * A batch fails when COMMIT fails or when a job's error made SQLite roll the
 * transaction back by itself (out of memory, disk full, I/O error: the writer
 * checks sqlite3_get_autocommit after each job). The writer then forgets its
 * in-memory output state, which reloads from the database on next use, so the
 * database and the writer never disagree about what is stored.
 *
 * Output capture keeps, per trajectory, the first `head` bytes (chunks split
 * at the boundary so the head is exact) and the shortest suffix of later
 * chunks that holds at least `tail` bytes. The writer keeps for each live
 * trajectory: the next seq, bytes seen, head bytes kept, and a ring of
 * (seq, len) for the tail chunks still stored. Counters are written to
 * trajectories once per batch, just before COMMIT, not once per chunk.
 *
 * THREADS
 * store_open/store_close: the owner thread. store_stmt and everything named
 * writer_* or out_*: the writer thread only (asserted). The rest: any thread,
 * taking s->lock briefly.
 */
#define _GNU_SOURCE
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "query.h"
#include "store_crypt.h"
#include "store_schema.h"

#define STORE_BUSY_TIMEOUT_MS 5000
#define OUT_BUCKETS           1024

struct job {
    struct job *next;
    uint64_t seq;
    store_job_fn fn;
    void *arg;
    void (*free_arg)(void *);
    struct call *call; /* NULL for store_submit */
};

/* A store_call in progress: lives on the caller's stack. */
struct call {
    int done;
    int rc;
    struct sd_err *err;
};

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct tail_ent {
    int64_t seq;
    size_t len;
};

/* Writer-side output state of one trajectory. */
struct out_state {
    struct out_state *next;       /* hash chain */
    struct out_state *dirty_next; /* on s->out_dirty when counters changed */
    int dirty;
    int64_t traj_id;
    int64_t next_seq;
    int64_t bytes;   /* every byte appended: trajectories.output_bytes */
    int64_t dropped; /* trajectories.output_dropped */
    size_t head_kept;
    struct tail_ent *ring; /* tail chunks still stored, oldest at ring[first] */
    size_t cap, first, count;
    size_t tail_bytes;
};

struct store {
    char *path;
    char id[33];
    int flags;
    sqlite3 *db; /* writer's connection (read-only mode: the only one) */
    /* The encryption key (NULL: plaintext). Changed only by rekey, on the
     * writer thread; the writer's SQL functions read it through &s->key. */
    struct skey *key;
    int vacuum_at_close; /* rekey changed the plaintext-ness: purge free pages */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t lock_owner; /* valid while locked; for assertions */
    int locked;
    pthread_t writer;
    int writer_started;
    int writer_waiting;
    int stopping;
    struct job *head, *tail;
    uint64_t submitted, settled;
    int flush_waiters;
    uint64_t fail_gen, fail_reported;
    char fail_msg[256];
    struct store_stats stats;

    /* Writer thread only. */
    int in_txn;
    uint64_t batch_start_ns;
    unsigned batch_rows;
    uint64_t batch_hi;
    int batch_failed;
    struct stmt_slot *stmts;
    size_t nstmts, stmt_cap;
    struct out_state *out[OUT_BUCKETS];
    struct out_state *out_dirty;
    size_t out_head, out_tail; /* caps; read under lock by the writer */
    /* Trajectories made final in this batch, sealed into the fingerprint
     * chain just before COMMIT (chain.h); seal_all: scan for them instead
     * (after migrating from v1, or when the list could not grow). */
    int64_t *seal_ids;
    size_t nseal, seal_cap;
    int seal_all;
};

static void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
    s->lock_owner = pthread_self();
    s->locked = 1;
}

static void store_unlock(struct store *s)
{
    s->locked = 0;
    pthread_mutex_unlock(&s->lock);
}

#define ASSERT_LOCKED(s) assert((s)->locked &&pthread_equal((s)->lock_owner, pthread_self()))
#define ASSERT_WRITER(s) assert(pthread_equal((s)->writer, pthread_self()))

/* Sleep on s->cond (until deadline if not NULL); the lock is held again after. */
static void store_wait(struct store *s, const struct timespec *deadline)
{
    ASSERT_LOCKED(s);
    s->locked = 0;
    if (deadline != NULL)
        pthread_cond_timedwait(&s->cond, &s->lock, deadline);
    else
        pthread_cond_wait(&s->cond, &s->lock);
    s->lock_owner = pthread_self();
    s->locked = 1;
}

static int is_writer(const struct store *s)
{
    return s->writer_started && pthread_equal(s->writer, pthread_self());
}

/* --- open, migrate --------------------------------------------------------- */

static int db_err(struct sd_err *err, sqlite3 *db, const char *path, const char *what)
{
    int code = sqlite3_errcode(db);
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        return sd_err_set(err, SD_EENV,
                          "%s: %s: the store is damaged or not a swarmdeck store (%s); move it "
                          "aside and start again, or restore a backup",
                          path, what, sqlite3_errmsg(db));
    if (code == SQLITE_NOMEM)
        return sd_err_set(err, SD_ENOMEM, "%s: %s: out of memory", path, what);
    return sd_err_set(err, SD_EENV, "%s: %s: %s", path, what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Read one text value from a query with one result column into buf. Returns
 * 1 if a row was found, 0 if none, -1 on error. */
static int query_text(sqlite3 *db, const char *sql, const char *bind, char *buf, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (bind != NULL)
        sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Column col of st as text into buf ("" for NULL). */
static void copy_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

/* The schema version recorded in meta: 0 for an empty database. */
static int read_version(sqlite3 *db, long *version)
{
    char buf[32];
    int rc = query_text(db, "SELECT name FROM sqlite_schema WHERE type='table' AND name='meta'",
                        NULL, buf, sizeof buf);
    *version = 0;
    if (rc <= 0)
        return rc;
    rc = store_meta_get(db, "schema_version", buf, sizeof buf);
    if (rc < 0)
        return -1;
    if (rc == 1)
        *version = strtol(buf, NULL, 10);
    return 0;
}

static int random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    size_t got = 0;

    assert(nbytes <= sizeof b);
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    return 0;
}

/* Run the migrations from *version up, inside one IMMEDIATE transaction, and
 * make sure meta has store_id and created_at. The version is re-read inside
 * the transaction because another process may have migrated meanwhile. */
static int migrate(struct store *s, struct sd_err *err)
{
    sqlite3 *db = s->db;
    char buf[64];
    long version;
    int rc = -1;

    /* An up-to-date store needs no write, so do not wait for the write
     * lock: a running swarm's writer holds it most of the time, and a
     * second command (cleanup, rekey, the console) failed to open after
     * one busy timeout. Its own writes retry (writer_exec_retry). */
    if (read_version(db, &version) == 0 && version == STORE_SCHEMA_VERSION &&
        store_meta_get(db, "store_id", s->id, sizeof s->id) == 1)
        return 0;
    if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
        return db_err(err, db, s->path, "cannot lock the store to migrate it");
    if (read_version(db, &version) != 0) {
        db_err(err, db, s->path, "cannot read the schema version");
        goto out;
    }
    if (version > STORE_SCHEMA_VERSION) {
        sd_err_set(err, SD_EENV,
                   "%s: store schema version %ld is newer than this swarmdeck (%d); upgrade "
                   "swarmdeck or use another store",
                   s->path, version, STORE_SCHEMA_VERSION);
        goto out;
    }
    for (long v = version; v < (long)store_migrations_count; v++) {
        if (exec(db, store_migrations[v]) != SQLITE_OK) {
            snprintf(buf, sizeof buf, "migration %ld failed", v + 1);
            db_err(err, db, s->path, buf);
            goto out;
        }
    }
    /* Write only what changed: opening an up-to-date store for a command that
     * is then refused must leave the file's bytes as they were. */
    snprintf(buf, sizeof buf, "%d", STORE_SCHEMA_VERSION);
    if (version != STORE_SCHEMA_VERSION && store_meta_set(db, "schema_version", buf) != 0)
        goto meta_fail;
    if (store_meta_get(db, "store_id", s->id, sizeof s->id) != 1) {
        if (random_hex(s->id, 16) != 0) {
            sd_err_set(err, SD_EENV, "%s: cannot read random bytes: %s", s->path, strerror(errno));
            goto out;
        }
        snprintf(buf, sizeof buf, "%lld", (long long)sd_now_ms());
        if (store_meta_set(db, "store_id", s->id) != 0 ||
            store_meta_set(db, "created_at", buf) != 0)
            goto meta_fail;
    }
    if (exec(db, "COMMIT") != SQLITE_OK) {
        db_err(err, db, s->path, "cannot commit the migration");
        goto out;
    }
    return 0;
meta_fail:
    db_err(err, db, s->path, "cannot write meta");
out:
    exec(db, "ROLLBACK");
    return rc;
}

/* Read-only: the schema must be exactly this binary's (no migrating). */
static int check_readonly(struct store *s, struct sd_err *err)
{
    long version;

    if (read_version(s->db, &version) != 0)
        return db_err(err, s->db, s->path, "cannot read the schema version");
    if (version > STORE_SCHEMA_VERSION)
        return sd_err_set(err, SD_EENV,
                          "%s: store schema version %ld is newer than this swarmdeck (%d); "
                          "upgrade swarmdeck or use another store",
                          s->path, version, STORE_SCHEMA_VERSION);
    if (version < STORE_SCHEMA_VERSION)
        return sd_err_set(err, SD_EENV,
                          "%s: store schema version %ld is older than this swarmdeck (%d); "
                          "open it once read-write to upgrade it",
                          s->path, version, STORE_SCHEMA_VERSION);
    if (store_meta_get(s->db, "store_id", s->id, sizeof s->id) < 0)
        return db_err(err, s->db, s->path, "cannot read the store id");
    return 0;
}

/* Create the file (0600) if asked, and check that an existing non-empty file
 * starts with SQLite's magic, so a stray file is refused before SQLite
 * touches it. *created is set when this call created the file. */
static int prepare_file(const char *path, int flags, int *created, struct sd_err *err)
{
    static const char magic[16] = "SQLite format 3";
    char hdr[16];
    struct stat st;
    ssize_t n;
    int fd;

    *created = 0;
    if (flags & STORE_CREATE) {
        char *dir = strdup(path), *slash;
        if (dir == NULL)
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        slash = strrchr(dir, '/');
        if (slash != NULL && slash != dir) {
            *slash = '\0';
            if (sd_mkdir_p(dir, 0700) != 0) {
                sd_err_set(err, SD_EENV, "%s: cannot create the directory: %s", dir,
                           strerror(errno));
                free(dir);
                return -1;
            }
        }
        free(dir);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0)
            *created = 1;
        else if (errno == EEXIST)
            fd = open(path, O_RDONLY | O_CLOEXEC);
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return sd_err_set(err, SD_EENV, "%s: no store here; create one first", path);
        return sd_err_set(err, SD_EENV, "%s: cannot open the store: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sd_err_set(err, SD_EENV, "%s: not a regular file; give the path of a store file",
                          path);
    }
    n = st.st_size > 0 ? pread(fd, hdr, sizeof hdr, 0) : 0;
    close(fd);
    if (st.st_size > 0 && (n != (ssize_t)sizeof hdr || memcmp(hdr, magic, sizeof hdr) != 0))
        return sd_err_set(err, SD_EENV,
                          "%s: not a swarmdeck store (not an SQLite database); move it aside "
                          "or choose another path",
                          path);
    if (st.st_size == 0 && !(flags & STORE_CREATE))
        return sd_err_set(err, SD_EENV, "%s: the store is empty; open it read-write to create it",
                          path);
    return 0;
}

/* SQLite creates -wal and -shm with the database's mode minus the umask;
 * enforce 0600 in case the database file had been made wider. */
static void tighten_companions(const char *path)
{
    static const char *const suffix[] = {"-wal", "-shm"};
    char buf[4096];

    for (size_t i = 0; i < 2; i++) {
        snprintf(buf, sizeof buf, "%s%s", path, suffix[i]);
        (void)chmod(buf, 0600);
    }
}

static void *writer_main(void *arg);
static void out_free_all(struct store *s);

int store_open(const char *path, int flags, struct store **out, struct sd_err *err)
{
    return store_open_key(path, flags, NULL, out, err);
}

/* Set up encryption on the writer connection once the schema is current:
 * create the key of a new store, register sd_seal/sd_open, the writer's
 * sd_plain_* views, and secure_delete so freed pages never keep plaintext. */
static int open_crypto(struct store *s, const char *secret, int need_init, struct sd_err *err)
{
    if (need_init) {
        if (exec(s->db, "BEGIN IMMEDIATE") != SQLITE_OK)
            return db_err(err, s->db, s->path, "cannot lock the store");
        if (skey_init(s->db, s->path, secret, s->id, &s->key, err) != 0) {
            exec(s->db, "ROLLBACK");
            return -1;
        }
        if (exec(s->db, "COMMIT") != SQLITE_OK) {
            db_err(err, s->db, s->path, "cannot record the key check");
            exec(s->db, "ROLLBACK");
            return -1;
        }
    }
    /* Always in memory, so a later rekey never spills decrypted rows. */
    if (exec(s->db, "PRAGMA temp_store=MEMORY") != SQLITE_OK ||
        skey_register(s->db, &s->key, 0) != 0)
        return db_err(err, s->db, s->path, "cannot register the store functions");
    if (skey_views(s->db, s->key != NULL, 0, err) != 0)
        return -1;
    if (s->key != NULL && exec(s->db, "PRAGMA secure_delete=ON") != SQLITE_OK)
        return db_err(err, s->db, s->path, "cannot configure the store");
    return 0;
}

int store_open_key(const char *path, int flags, const char *secret, struct store **out,
                   struct sd_err *err)
{
    struct store *s;
    int created = 0, oflags, rc = -1, need_init = 0;
    char mode[16];

    *out = NULL;
    if (flags & STORE_READONLY)
        flags &= ~STORE_CREATE;
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    s->flags = flags;
    s->out_head = s->out_tail = 1 << 20;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);

    if (prepare_file(path, flags, &created, err) != 0)
        goto out;
    /* A read-only store still opens read-write when the file allows it, with
     * query_only set below: SQLite lets only a read-write connection remove
     * the -wal and -shm files at its close, so a read-only command leaves the
     * store's files exactly as it found them. */
    oflags = (flags & STORE_READONLY) && access(path, W_OK) != 0 ? SQLITE_OPEN_READONLY
                                                                 : SQLITE_OPEN_READWRITE;
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (s->db == NULL)
            sd_err_set(err, SD_ENOMEM, "out of memory");
        else
            db_err(err, s->db, path, "cannot open the store");
        goto out;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    if (exec(s->db, "PRAGMA foreign_keys=ON") != SQLITE_OK) {
        db_err(err, s->db, path, "cannot configure the store");
        goto out;
    }
    if (flags & STORE_READONLY) {
        if (exec(s->db, "PRAGMA query_only=1") != SQLITE_OK) {
            db_err(err, s->db, path, "cannot configure the store");
            goto out;
        }
        if (check_readonly(s, err) != 0)
            goto out;
        if (skey_check(s->db, path, secret, &s->key, &need_init, err) != 0)
            goto out;
        if (need_init) {
            sd_err_set(err, SD_EKEY,
                       "%s: an encryption key was given but the store is not encrypted; open it "
                       "read-write to encrypt a new store, or `swarmdeck rekey` an existing one",
                       path);
            goto out;
        }
        if (skey_register(s->db, &s->key, 0) != 0) {
            db_err(err, s->db, path, "cannot register the store functions");
            goto out;
        }
        *out = s;
        return 0;
    }
    {
        /* Refuse a newer schema before the journal mode is changed. */
        long version;
        if (read_version(s->db, &version) != 0) {
            db_err(err, s->db, path, "cannot read the store");
            goto out;
        }
        if (version > STORE_SCHEMA_VERSION) {
            sd_err_set(err, SD_EENV,
                       "%s: store schema version %ld is newer than this swarmdeck (%d); upgrade "
                       "swarmdeck or use another store",
                       path, version, STORE_SCHEMA_VERSION);
            goto out;
        }
        /* A missing or wrong key is refused before anything else is read
         * or the file is touched. */
        if (skey_check(s->db, path, secret, &s->key, &need_init, err) != 0)
            goto out;
        /* Trajectories finished before the chain existed are sealed by the
         * first commit. */
        s->seal_all = version == 1;
    }
    if (query_text(s->db, "PRAGMA journal_mode=WAL", NULL, mode, sizeof mode) != 1 ||
        strcmp(mode, "wal") != 0) {
        db_err(err, s->db, path, "cannot switch the store to WAL mode");
        goto out;
    }
    if (exec(s->db, "PRAGMA synchronous=NORMAL") != SQLITE_OK) {
        db_err(err, s->db, path, "cannot configure the store");
        goto out;
    }
    if (migrate(s, err) != 0)
        goto out;
    if (open_crypto(s, secret, need_init, err) != 0)
        goto out;
    tighten_companions(path);
    /* Hold the lock across pthread_create: the writer's first act is to take
     * it, so it never runs before s->writer and s->writer_started are set. */
    store_lock(s);
    s->writer_started = 1;
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        s->writer_started = 0;
        store_unlock(s);
        sd_err_set(err, SD_EENV, "cannot start the store writer thread");
        goto out;
    }
    store_unlock(s);
    *out = s;
    return 0;
out:
    sqlite3_close_v2(s->db);
    skey_free(s->key);
    if (created) {
        /* Leave nothing behind: we made the file, so it holds nothing else. */
        char buf[4096];
        unlink(path);
        snprintf(buf, sizeof buf, "%s-wal", path);
        unlink(buf);
        snprintf(buf, sizeof buf, "%s-shm", path);
        unlink(buf);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->path);
    free(s);
    return rc;
}

void store_close(struct store *s)
{
    if (s == NULL)
        return;
    if (s->writer_started) {
        store_lock(s);
        s->stopping = 1;
        pthread_cond_broadcast(&s->cond);
        store_unlock(s);
        pthread_join(s->writer, NULL);
    }
    if (s->vacuum_at_close) {
        /* After rekey: rewrite the file so no page freed by it keeps old
         * bytes, and empty the WAL, which still holds the old pages. */
        exec(s->db, "VACUUM");
        exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)");
    }
    sqlite3_close_v2(s->db);
    skey_free(s->key);
    free(s->seal_ids);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s->path);
    free(s);
}

const char *store_path(const struct store *s)
{
    return s->path;
}

const char *store_id(const struct store *s)
{
    return s->id;
}

int store_encrypted(const struct store *s)
{
    return s->key != NULL;
}

/* The summary compares the chain's current head with the one the last
 * `swarmdeck verify` recorded (meta chain_verified: "n:fingerprint" or
 * "broken:id"), and the head record in meta with the last row: two indexed
 * lookups, never a walk of the chain. */
void store_chain_summary(struct store *s, char *buf, size_t n)
{
    sqlite3 *db = NULL;
    char verified[CHAIN_HEX_LEN + 32] = "", head[CHAIN_HEX_LEN + 32] = "", last[CHAIN_HEX_LEN + 32];
    sqlite3_stmt *st = NULL;
    int64_t seq = 0;

    /* A bare connection: only sd_open is needed, not the decrypting views. */
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        skey_register(db, &s->key, 1) != 0) {
        snprintf(buf, n, "unreadable");
        sqlite3_close_v2(db);
        return;
    }
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT chain_seq || ':' || fingerprint FROM main.trajectories"
                           " WHERE chain_seq IS NOT NULL ORDER BY chain_seq DESC LIMIT 1),"
                           " (SELECT sd_open(value, 'chain_head') FROM main.meta"
                           " WHERE key = 'chain_head'),"
                           " (SELECT value FROM main.meta WHERE key = 'chain_verified')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(buf, n, "unreadable");
        goto out;
    }
    copy_text(st, 0, last, sizeof last);
    copy_text(st, 1, head, sizeof head);
    copy_text(st, 2, verified, sizeof verified);
    seq = strtoll(last, NULL, 10);
    if (strncmp(verified, "broken:", 7) == 0)
        snprintf(buf, n, "BROKEN at #%s", verified + 7);
    else if (strcmp(head, last) != 0)
        snprintf(buf, n, "BROKEN at head");
    else if (seq == 0)
        snprintf(buf, n, "empty");
    else if (strcmp(verified, last) == 0)
        snprintf(buf, n, "ok (%lld)", (long long)seq);
    else
        snprintf(buf, n, "unverified (%lld)", (long long)seq);
out:
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
}

/* --- submit, call, flush -------------------------------------------------- */

/* Append j to the queue; the caller holds the lock. */
static void enqueue(struct store *s, struct job *j)
{
    ASSERT_LOCKED(s);
    j->seq = ++s->submitted;
    j->next = NULL;
    if (s->tail != NULL)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    if (s->writer_waiting)
        pthread_cond_broadcast(&s->cond);
}

int store_submit(struct store *s, store_job_fn fn, void *arg, void (*free_arg)(void *))
{
    struct job *j;

    if (s->flags & STORE_READONLY || (j = malloc(sizeof *j)) == NULL) {
        if (free_arg != NULL)
            free_arg(arg);
        return -1;
    }
    *j = (struct job){.fn = fn, .arg = arg, .free_arg = free_arg};
    store_lock(s);
    if (s->stopping) {
        store_unlock(s);
        free(j);
        if (free_arg != NULL)
            free_arg(arg);
        return -1;
    }
    enqueue(s, j);
    store_unlock(s);
    return 0;
}

int store_call(struct store *s, store_job_fn fn, void *arg, struct sd_err *err)
{
    struct call c = {.err = err};
    struct job j = {.fn = fn, .arg = arg, .call = &c};

    if (s->flags & STORE_READONLY)
        return sd_err_set(err, SD_EUSAGE, "%s: the store is open read-only", s->path);
    if (is_writer(s))
        return fn(s, s->db, arg, err); /* already inside a batch */
    store_lock(s);
    if (s->stopping) {
        store_unlock(s);
        return sd_err_set(err, SD_EUSAGE, "%s: the store is closing", s->path);
    }
    enqueue(s, &j);
    while (!c.done)
        store_wait(s, NULL);
    store_unlock(s);
    return c.rc;
}

int store_flush(struct store *s, struct sd_err *err)
{
    uint64_t target;
    int rc = 0;

    if (s->flags & STORE_READONLY)
        return 0;
    if (is_writer(s))
        return sd_err_set(err, SD_EUSAGE, "store_flush called from a store job");
    store_lock(s);
    target = s->submitted;
    if (s->settled < target) {
        s->flush_waiters++;
        pthread_cond_broadcast(&s->cond);
        while (s->settled < target)
            store_wait(s, NULL);
        s->flush_waiters--;
    }
    if (s->fail_gen != s->fail_reported) {
        s->fail_reported = s->fail_gen;
        rc = sd_err_set(err, SD_EENV, "%s: a batch of writes was lost: %s", s->path, s->fail_msg);
    }
    store_unlock(s);
    return rc;
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    if (s->flags & STORE_READONLY) {
        memset(out, 0, sizeof *out);
        return;
    }
    store_lock(s);
    *out = s->stats;
    store_unlock(s);
}

/* --- the writer thread ---------------------------------------------------- */

sqlite3_stmt *store_stmt(struct store *s, const char *sql, struct sd_err *err)
{
    size_t mask, i;

    ASSERT_WRITER(s);
    if (s->nstmts * 2 >= s->stmt_cap) {
        size_t cap = s->stmt_cap ? s->stmt_cap * 2 : 64;
        struct stmt_slot *t = calloc(cap, sizeof *t);
        if (t == NULL) {
            sd_err_set(err, SD_ENOMEM, "out of memory");
            return NULL;
        }
        for (i = 0; i < s->stmt_cap; i++) {
            size_t k;
            if (s->stmts[i].sql == NULL)
                continue;
            for (k = ((uintptr_t)s->stmts[i].sql >> 3) & (cap - 1); t[k].sql != NULL;
                 k = (k + 1) & (cap - 1))
                ;
            t[k] = s->stmts[i];
        }
        free(s->stmts);
        s->stmts = t;
        s->stmt_cap = cap;
    }
    mask = s->stmt_cap - 1;
    for (i = ((uintptr_t)sql >> 3) & mask; s->stmts[i].sql != NULL; i = (i + 1) & mask) {
        if (s->stmts[i].sql == sql) {
            sqlite3_reset(s->stmts[i].st);
            sqlite3_clear_bindings(s->stmts[i].st);
            return s->stmts[i].st;
        }
    }
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmts[i].st, NULL) !=
        SQLITE_OK) {
        db_err(err, s->db, s->path, "cannot prepare a statement");
        s->stmts[i].st = NULL;
        return NULL;
    }
    s->stmts[i].sql = sql;
    s->nstmts++;
    return s->stmts[i].st;
}

static void stmts_reset_all(struct store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++)
        if (s->stmts[i].st != NULL)
            sqlite3_reset(s->stmts[i].st);
}

static void stmts_finalize_all(struct store *s)
{
    for (size_t i = 0; i < s->stmt_cap; i++)
        sqlite3_finalize(s->stmts[i].st);
    free(s->stmts);
    s->stmts = NULL;
    s->stmt_cap = s->nstmts = 0;
}

/* Run sql, retrying while another process holds the lock past busy_timeout. */
static int writer_exec_retry(struct store *s, const char *sql)
{
    int rc, tries = 0;
    while ((rc = exec(s->db, sql)) == SQLITE_BUSY && tries++ < 5) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static int out_write_counters(struct store *s);

int store_chain_note(struct store *s, int64_t traj_id)
{
    ASSERT_WRITER(s);
    if (s->nseal == s->seal_cap) {
        size_t cap = s->seal_cap ? s->seal_cap * 2 : 64;
        int64_t *v = realloc(s->seal_ids, cap * sizeof *v);
        if (v == NULL) {
            s->seal_all = 1; /* the scan at commit finds it instead */
            return 0;
        }
        s->seal_ids = v;
        s->seal_cap = cap;
    }
    s->seal_ids[s->nseal++] = traj_id;
    return 0;
}

/* Record a sealing failure without failing the batch: the trajectory stays
 * outside the chain and `verify` reports it. */
static void chain_seal_failed(struct store *s, int64_t id, const struct sd_err *e)
{
    store_lock(s);
    s->stats.job_errors++;
    snprintf(s->stats.last_error, sizeof s->stats.last_error, "fingerprint of #%lld: %.400s",
             (long long)id, e->msg);
    store_unlock(s);
}

/* Seal the trajectories made final in this batch, in the order they were
 * noted (the writer's order: one chain, no races). The counters of their
 * output are written first so the fingerprint sees the final numbers. */
static void chain_seal_batch(struct store *s)
{
    struct sd_err e = {0};

    ASSERT_WRITER(s);
    if (s->nseal == 0 && !s->seal_all)
        return;
    if (out_write_counters(s) != 0)
        return; /* the commit fails the batch just after */
    if (s->seal_all) {
        /* A note that fails (out of memory) sets seal_all again: the next
         * batch scans again. */
        sqlite3_stmt *st = NULL;
        s->nseal = 0;
        s->seal_all = 0;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT id FROM main.trajectories WHERE fingerprint IS NULL AND"
                               " status IN ('succeeded','failed','timeout','cancelled',"
                               "'interrupted') ORDER BY coalesce(ended_at, created_at), id",
                               -1, &st, NULL) == SQLITE_OK)
            while (sqlite3_step(st) == SQLITE_ROW)
                store_chain_note(s, sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);
    }
    for (size_t i = 0; i < s->nseal; i++) {
        if (chain_seal(s->db, s->seal_ids[i], &e) != 0) {
            chain_seal_failed(s, s->seal_ids[i], &e);
            if (sqlite3_get_autocommit(s->db))
                break; /* SQLite gave up the batch: the commit reports it */
        }
    }
    s->nseal = 0;
}

/* Record a failed batch (called with the lock NOT held). */
static void writer_fail(struct store *s, const char *why)
{
    ASSERT_WRITER(s);
    out_free_all(s);
    s->nseal = 0; /* their finishing updates were rolled back too */
    store_lock(s);
    s->fail_gen++;
    s->stats.commit_errors++;
    snprintf(s->fail_msg, sizeof s->fail_msg, "%s", why);
    store_unlock(s);
}

/* End the batch: write the output counters, COMMIT, and wake flushers. */
static void writer_commit(struct store *s)
{
    int committed = 0;

    ASSERT_WRITER(s);
    if (s->in_txn && !s->batch_failed) {
        char why[256];
        stmts_reset_all(s);
        chain_seal_batch(s);
        if (out_write_counters(s) != 0) {
            snprintf(why, sizeof why, "cannot update output counters: %s", sqlite3_errmsg(s->db));
            exec(s->db, "ROLLBACK");
            writer_fail(s, why);
        } else if (writer_exec_retry(s, "COMMIT") != SQLITE_OK) {
            snprintf(why, sizeof why, "commit failed: %s", sqlite3_errmsg(s->db));
            exec(s->db, "ROLLBACK");
            writer_fail(s, why);
        } else {
            committed = 1;
        }
    }
    s->in_txn = 0;
    store_lock(s);
    s->stats.commits += committed;
    if (s->batch_hi > s->settled)
        s->settled = s->batch_hi;
    pthread_cond_broadcast(&s->cond);
    store_unlock(s);
}

static int writer_begin(struct store *s, struct sd_err *err)
{
    int holds;

    ASSERT_WRITER(s);
    if (writer_exec_retry(s, "BEGIN IMMEDIATE") != SQLITE_OK)
        return db_err(err, s->db, s->path, "cannot start a batch");
    /* Another process may have rekeyed, encrypted or decrypted the store
     * since this one opened it: values sealed with the old key (or none)
     * could not be opened any more and would break the chain. Checked
     * under the write lock, so no rekey can slip in before the commit. */
    if ((holds = skey_holds(s->db, s->key, s->id)) != 1) {
        exec(s->db, "ROLLBACK");
        if (holds < 0)
            return db_err(err, s->db, s->path, "cannot start a batch");
        sd_err_set(err, SD_EKEY,
                   "%s: another swarmdeck process changed the store's encryption key (rekey) "
                   "while this one ran; nothing more is written: run the command again with "
                   "the store's key",
                   s->path);
        writer_fail(s, err->msg);
        return -1;
    }
    s->in_txn = 1;
    s->batch_failed = 0;
    s->batch_rows = 0;
    s->batch_start_ns = sd_mono_ns();
    return 0;
}

static int batch_due(const struct store *s)
{
    return s->batch_rows >= STORE_BATCH_ROWS ||
           sd_mono_ns() - s->batch_start_ns >= (uint64_t)STORE_BATCH_MS * 1000000u;
}

/* Run a list of jobs taken from the queue, in order. */
static void writer_run(struct store *s, struct job *list)
{
    struct sd_err jerr;

    while (list != NULL) {
        struct job *j = list;
        struct call *c = j->call;
        int rc;

        list = j->next;
        jerr.code = 0;
        jerr.msg[0] = '\0';
        if (!s->in_txn && writer_begin(s, c != NULL ? c->err : &jerr) != 0) {
            rc = -1;
        } else {
            rc = j->fn(s, s->db, j->arg, c != NULL ? c->err : &jerr);
            if (sqlite3_get_autocommit(s->db)) {
                /* SQLite rolled the whole batch back (NOMEM, FULL, IOERR). */
                char why[256];
                snprintf(why, sizeof why, "rolled back after: %s", sqlite3_errmsg(s->db));
                writer_fail(s, why);
                s->batch_failed = 1;
            }
        }
        if (j->free_arg != NULL)
            j->free_arg(j->arg);
        s->batch_hi = j->seq;
        s->batch_rows++;
        store_lock(s);
        s->stats.jobs++;
        if (rc != 0) {
            s->stats.job_errors++;
            if (c == NULL)
                snprintf(s->stats.last_error, sizeof s->stats.last_error, "%s", jerr.msg);
        }
        if (c != NULL) {
            c->rc = rc;
            c->done = 1;
            pthread_cond_broadcast(&s->cond);
        } else {
            free(j);
        }
        store_unlock(s);
        if (!s->in_txn || s->batch_failed || batch_due(s))
            writer_commit(s);
    }
}

static void *writer_main(void *arg)
{
    struct store *s = arg;

    store_lock(s);
    for (;;) {
        struct job *list;
        while (s->head == NULL) {
            if (s->in_txn) {
                uint64_t end = s->batch_start_ns + (uint64_t)STORE_BATCH_MS * 1000000u;
                struct timespec ts;
                if (s->flush_waiters > 0 || s->stopping || sd_mono_ns() >= end) {
                    store_unlock(s);
                    writer_commit(s);
                    store_lock(s);
                    continue;
                }
                /* The condition variable uses CLOCK_REALTIME; sleep the
                 * remaining time relative to it. */
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t left = end - sd_mono_ns();
                ts.tv_sec += (time_t)(left / 1000000000u);
                ts.tv_nsec += (long)(left % 1000000000u);
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                s->writer_waiting = 1;
                store_wait(s, &ts);
            } else {
                if (s->stopping)
                    goto out;
                s->writer_waiting = 1;
                store_wait(s, NULL);
            }
            s->writer_waiting = 0;
        }
        list = s->head;
        s->head = s->tail = NULL;
        store_unlock(s);
        writer_run(s, list);
        store_lock(s);
    }
out:
    store_unlock(s);
    out_free_all(s);
    stmts_finalize_all(s);
    return NULL;
}

/* --- output capture ------------------------------------------------------- */

static const char sql_out_insert[] =
    "INSERT INTO output(traj_id, seq, stream, data) VALUES (?1, ?2, ?3, sd_seal(?4, 'output', ?1, "
    "?2, ?3))";
static const char sql_out_delete[] = "DELETE FROM output WHERE traj_id=? AND seq=?";
static const char sql_out_counters[] =
    "UPDATE trajectories SET output_bytes=?, output_dropped=? WHERE id=?";
static const char sql_out_maxseq[] = "SELECT max(seq) FROM output WHERE traj_id=?";
static const char sql_out_load[] =
    "SELECT output_bytes, output_dropped FROM trajectories WHERE id=?";

static struct out_state **out_bucket(struct store *s, int64_t traj_id)
{
    return &s->out[(uint64_t)traj_id * 0x9E3779B97F4A7C15u >> 54];
}

static void out_state_free(struct out_state *o)
{
    if (o != NULL)
        free(o->ring);
    free(o);
}

static void out_free_all(struct store *s)
{
    for (size_t i = 0; i < OUT_BUCKETS; i++) {
        while (s->out[i] != NULL) {
            struct out_state *o = s->out[i];
            s->out[i] = o->next;
            out_state_free(o);
        }
    }
    s->out_dirty = NULL;
}

/* Find or create (loading what an earlier process stored) the state of a
 * trajectory. A trajectory resumed after a restart continues its sequence
 * and counters; its earlier rows are kept as they are (the head is closed). */
static struct out_state *out_get(struct store *s, int64_t traj_id, struct sd_err *err)
{
    struct out_state **b = out_bucket(s, traj_id), *o;
    sqlite3_stmt *st;

    for (o = *b; o != NULL; o = o->next)
        if (o->traj_id == traj_id)
            return o;
    if ((o = calloc(1, sizeof *o)) == NULL) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        return NULL;
    }
    o->traj_id = traj_id;
    if ((st = store_stmt(s, sql_out_maxseq, err)) == NULL)
        goto fail;
    sqlite3_bind_int64(st, 1, traj_id);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto fail_db;
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        o->next_seq = sqlite3_column_int64(st, 0) + 1;
        o->head_kept = SIZE_MAX;
        if ((st = store_stmt(s, sql_out_load, err)) == NULL)
            goto fail;
        sqlite3_bind_int64(st, 1, traj_id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            o->bytes = sqlite3_column_int64(st, 0);
            o->dropped = sqlite3_column_int64(st, 1);
        }
    }
    sqlite3_reset(st);
    o->next = *b;
    *b = o;
    return o;
fail_db:
    db_err(err, s->db, s->path, "cannot read output state");
fail:
    out_state_free(o);
    return NULL;
}

static int out_insert(struct store *s, int64_t traj_id, int64_t seq, int stream,
                      const unsigned char *data, size_t len, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql_out_insert, err);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, traj_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_int(st, 3, stream);
    sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_err(err, s->db, s->path, "cannot store output");
    sqlite3_reset(st);
    return 0;
}

/* Make room for one more tail entry (content unchanged), so that the push
 * after the rows are written cannot fail. */
static int out_ring_reserve(struct out_state *o)
{
    if (o->count == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct tail_ent *r = malloc(cap * sizeof *r);
        if (r == NULL)
            return -1;
        for (size_t i = 0; i < o->count; i++)
            r[i] = o->ring[(o->first + i) % o->cap];
        free(o->ring);
        o->ring = r;
        o->cap = cap;
        o->first = 0;
    }
    return 0;
}

static void out_ring_push(struct out_state *o, int64_t seq, size_t len)
{
    assert(o->count < o->cap);
    o->ring[(o->first + o->count) % o->cap] = (struct tail_ent){seq, len};
    o->count++;
    o->tail_bytes += len;
}

static const char sql_sp_begin[] = "SAVEPOINT out";
static const char sql_sp_release[] = "RELEASE out";
static const char sql_sp_rollback[] = "ROLLBACK TO out";

/* Run one of the savepoint statements above (cached: they run per chunk). */
static int out_sp(struct store *s, const char *sql, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql, err);
    int rc;

    if (st == NULL)
        return -1;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : db_err(err, s->db, s->path, "cannot store output");
}

struct out_chunk {
    int64_t traj_id;
    int stream;
    size_t len;
    unsigned char data[];
};

/* Writer job: store one chunk. The in-memory state changes only after the
 * rows are written, so a failed job leaves state and database agreeing. */
static int out_append_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct out_chunk *c = arg;
    struct out_state *o = out_get(s, c->traj_id, err);
    size_t head_n = 0, off, tail_cap;
    int need_sp;

    if (o == NULL)
        return -1;
    store_lock(s);
    tail_cap = s->out_tail;
    if (o->head_kept < s->out_head)
        head_n = s->out_head - o->head_kept < c->len ? s->out_head - o->head_kept : c->len;
    store_unlock(s);

    if (out_ring_reserve(o) != 0)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    /* One statement is atomic by itself; a savepoint is needed only when the
     * chunk is split or may push older tail rows out. */
    need_sp = (head_n > 0 && head_n < c->len) ||
              (head_n < c->len && o->tail_bytes + (c->len - head_n) >= tail_cap);
    if (need_sp && out_sp(s, sql_sp_begin, err) != 0)
        return -1;
    if (head_n > 0 && out_insert(s, c->traj_id, o->next_seq, c->stream, c->data, head_n, err))
        goto fail;
    off = head_n;
    if (off < c->len && out_insert(s, c->traj_id, o->next_seq + (head_n > 0), c->stream,
                                   c->data + off, c->len - off, err))
        goto fail;
    /* Plan the deletions on a copy of the ring's front: commit state only
     * once every statement succeeded. */
    {
        size_t tb = o->tail_bytes + (c->len - off), first = o->first, count = o->count;
        size_t drop = 0, ndel = 0;
        int add_new = off < c->len;
        /* The new chunk is conceptually at the back of the ring. */
        while (count + (size_t)add_new > 0) {
            size_t len;
            int64_t seq;
            if (count > 0) {
                len = o->ring[first].len;
                seq = o->ring[first].seq;
            } else {
                len = c->len - off;
                seq = o->next_seq + (head_n > 0);
            }
            if (tb - len < tail_cap)
                break;
            sqlite3_stmt *st = store_stmt(s, sql_out_delete, err);
            if (st == NULL)
                goto fail;
            sqlite3_bind_int64(st, 1, c->traj_id);
            sqlite3_bind_int64(st, 2, seq);
            if (sqlite3_step(st) != SQLITE_DONE) {
                db_err(err, db, s->path, "cannot drop output");
                goto fail;
            }
            sqlite3_reset(st);
            tb -= len;
            drop += len;
            ndel++;
            if (count > 0) {
                first = (first + 1) % (o->cap ? o->cap : 1);
                count--;
            } else {
                add_new = 0;
            }
        }
        if (need_sp && out_sp(s, sql_sp_release, err) != 0)
            goto fail;
        /* Everything is written: update the state. When the new chunk itself
         * was dropped, ndel exceeds the old entries by one. */
        for (size_t i = 0; i < ndel && o->count > 0; i++) {
            o->tail_bytes -= o->ring[o->first].len;
            o->first = (o->first + 1) % o->cap;
            o->count--;
        }
        if (add_new)
            out_ring_push(o, o->next_seq + (head_n > 0), c->len - off);
        o->dropped += (int64_t)drop;
    }
    o->head_kept += head_n;
    o->next_seq += (head_n > 0) + (off < c->len);
    o->bytes += (int64_t)c->len;
    if (!o->dirty) {
        o->dirty = 1;
        o->dirty_next = s->out_dirty;
        s->out_dirty = o;
    }
    return 0;
fail:
    if (!sqlite3_get_autocommit(db)) {
        if (need_sp) {
            out_sp(s, sql_sp_rollback, NULL);
            out_sp(s, sql_sp_release, NULL);
        }
    }
    return -1;
}

/* Write the counters of every trajectory whose output changed this batch. */
static int out_write_counters(struct store *s)
{
    struct sd_err err;

    ASSERT_WRITER(s);
    while (s->out_dirty != NULL) {
        struct out_state *o = s->out_dirty;
        sqlite3_stmt *st = store_stmt(s, sql_out_counters, &err);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, o->bytes);
        sqlite3_bind_int64(st, 2, o->dropped);
        sqlite3_bind_int64(st, 3, o->traj_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -1;
        sqlite3_reset(st);
        s->out_dirty = o->dirty_next;
        o->dirty = 0;
        o->dirty_next = NULL;
    }
    return 0;
}

int store_output_append(struct store *s, int64_t traj_id, int stream, const void *data, size_t len)
{
    struct out_chunk *c;

    if (len == 0 || (stream != 1 && stream != 2) || (s->flags & STORE_READONLY))
        return -1;
    if ((c = malloc(sizeof *c + len)) == NULL)
        return -1;
    c->traj_id = traj_id;
    c->stream = stream;
    c->len = len;
    memcpy(c->data, data, len);
    return store_submit(s, out_append_job, c, free);
}

/* Writer job: write the counters now and forget the trajectory's state. */
static int out_end_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    int64_t traj_id = *(int64_t *)arg;
    struct out_state **p = out_bucket(s, traj_id), *o;

    for (; *p != NULL; p = &(*p)->next)
        if ((*p)->traj_id == traj_id)
            break;
    if ((o = *p) == NULL)
        return 0;
    if (o->dirty) {
        sqlite3_stmt *st = store_stmt(s, sql_out_counters, err);
        struct out_state **d;
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, o->bytes);
        sqlite3_bind_int64(st, 2, o->dropped);
        sqlite3_bind_int64(st, 3, o->traj_id);
        if (sqlite3_step(st) != SQLITE_DONE)
            return db_err(err, db, s->path, "cannot update output counters");
        sqlite3_reset(st);
        for (d = &s->out_dirty; *d != o; d = &(*d)->dirty_next)
            ;
        *d = o->dirty_next;
    }
    *p = o->next;
    out_state_free(o);
    return 0;
}

int store_output_end(struct store *s, int64_t traj_id)
{
    int64_t *arg;

    if (s->flags & STORE_READONLY || (arg = malloc(sizeof *arg)) == NULL)
        return -1;
    *arg = traj_id;
    return store_submit(s, out_end_job, arg, free);
}

void store_set_output_caps(struct store *s, size_t head, size_t tail)
{
    store_lock(s);
    s->out_head = head;
    s->out_tail = tail;
    store_unlock(s);
}

/* --- readers and leases --------------------------------------------------- */

sqlite3 *store_reader(struct store *s, struct sd_err *err)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        if (db == NULL)
            sd_err_set(err, SD_ENOMEM, "out of memory");
        else
            db_err(err, db, s->path, "cannot open a reader");
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    /* Plaintext for the caller: sd_open with its own copy of the key and,
     * on an encrypted store, the shadowing views (store_crypt.h). */
    if (skey_register(db, &s->key, 1) != 0) {
        sd_err_set(err, SD_ENOMEM, "out of memory");
        sqlite3_close_v2(db);
        return NULL;
    }
    if (s->key != NULL && skey_views(db, 1, 1, err) != 0) {
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
}

int store_reader_fts(struct store *s, sqlite3 *db, struct sd_err *err)
{
    return s->key != NULL ? skey_fts(db, err) : 0;
}

/* --- rekey and verification records ------------------------------------ */

struct rekey_job {
    const char *secret; /* NULL: decrypt */
};

static int rekey_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    struct rekey_job *j = arg;
    struct skey *nk = NULL;
    int was_plain = s->key == NULL;

    if (exec(db, "SAVEPOINT rekey") != SQLITE_OK)
        return db_err(err, db, s->path, "rekey");
    if (j->secret != NULL ? skey_write_meta(db, j->secret, s->id, &nk, err) != 0
                          : skey_drop_meta(db) != 0 && db_err(err, db, s->path, "rekey"))
        goto fail;
    if (skey_rekey(db, s->key, nk, err) != 0)
        goto fail;
    /* The writer's views decrypt (or not) from now on. */
    if (exec(db, "DROP VIEW IF EXISTS temp.sd_plain_trajectories;"
                 "DROP VIEW IF EXISTS temp.sd_plain_output;"
                 "DROP VIEW IF EXISTS temp.sd_plain_runs;"
                 "DROP VIEW IF EXISTS temp.sd_plain_operations") != SQLITE_OK ||
        skey_views(db, nk != NULL, 0, err) != 0)
        goto fail;
    if (exec(db, "RELEASE rekey") != SQLITE_OK) {
        db_err(err, db, s->path, "rekey");
        goto fail;
    }
    skey_free(s->key);
    s->key = nk;
    if (nk != NULL)
        exec(db, "PRAGMA secure_delete=ON");
    if (was_plain || nk == NULL)
        s->vacuum_at_close = 1;
    return 0;
fail:
    exec(db, "ROLLBACK TO rekey");
    exec(db, "RELEASE rekey");
    skey_free(nk);
    return -1;
}

int store_rekey(struct store *s, const char *new_secret, struct sd_err *err)
{
    struct rekey_job j = {new_secret};

    if (s->flags & STORE_READONLY)
        return sd_err_set(err, SD_EUSAGE, "%s: the store is open read-only", s->path);
    if (new_secret == NULL && s->key == NULL)
        return sd_err_set(err, SD_EUSAGE, "%s: the store is not encrypted", s->path);
    /* Everything queued before is committed first, so the rekey commits as
     * one batch of its own: all values under the new key, or none. */
    if (store_flush(s, err) != 0 || store_call(s, rekey_job, &j, err) != 0)
        return -1;
    return store_flush(s, err);
}

static int verified_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    if (store_meta_set(db, "chain_verified", arg) != 0)
        return db_err(err, db, s->path, "cannot record the verification");
    return 0;
}

int store_chain_verified(struct store *s, const char *state, struct sd_err *err)
{
    if (s->flags & STORE_READONLY)
        return 0;
    if (store_call(s, verified_job, (void *)state, err) != 0)
        return -1;
    return store_flush(s, err);
}

static const char sql_lease_add[] =
    "INSERT INTO leases(sandbox_id, traj_id, provider, pid, pid_start, owner_pid, owner_start,"
    " workdir, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_lease_remove[] = "DELETE FROM leases WHERE sandbox_id=?";

static int lease_add_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    const struct store_lease *l = arg;
    sqlite3_stmt *st = store_stmt(s, sql_lease_add, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, l->sandbox_id, -1, SQLITE_STATIC);
    if (l->traj_id > 0)
        sqlite3_bind_int64(st, 2, l->traj_id);
    sqlite3_bind_text(st, 3, l->provider, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, l->pid);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)l->pid_start);
    sqlite3_bind_int(st, 6, l->owner_pid);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)l->owner_start);
    if (l->workdir[0] != '\0')
        sqlite3_bind_text(st, 8, l->workdir, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, l->created_at);
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_err(err, db, s->path, "cannot record the sandbox lease");
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

int store_lease_add(struct store *s, const struct store_lease *l, struct sd_err *err)
{
    if (store_call(s, lease_add_job, (void *)l, err) != 0)
        return -1;
    return store_flush(s, err);
}

static int lease_remove_job(struct store *s, sqlite3 *db, void *arg, struct sd_err *err)
{
    sqlite3_stmt *st = store_stmt(s, sql_lease_remove, err);

    if (st == NULL)
        return -1;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        db_err(err, db, s->path, "cannot remove the sandbox lease");
        sqlite3_reset(st);
        return -1;
    }
    sqlite3_reset(st);
    return 0;
}

int store_lease_remove(struct store *s, const char *sandbox_id)
{
    char *id;

    if (s->flags & STORE_READONLY || (id = strdup(sandbox_id)) == NULL)
        return -1;
    return store_submit(s, lease_remove_job, id, free);
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, len, "%s", t != NULL ? (const char *)t : "");
}

int store_lease_list(struct store *s, struct store_lease **out, size_t *n, struct sd_err *err)
{
    sqlite3 *db = store_reader(s, err);
    sqlite3_stmt *st = NULL;
    struct store_lease *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = -1, step;

    *out = NULL;
    *n = 0;
    if (db == NULL)
        return -1;
    if (sqlite3_prepare_v2(db,
                           "SELECT sandbox_id, coalesce(traj_id, 0), provider, pid, pid_start,"
                           " owner_pid, owner_start, coalesce(workdir, ''), created_at"
                           " FROM leases ORDER BY created_at, sandbox_id",
                           -1, &st, NULL) != SQLITE_OK) {
        db_err(err, db, s->path, "cannot read leases");
        goto out;
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_lease *l;
        if (cnt == cap) {
            struct store_lease *t = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
            if (t == NULL) {
                sd_err_set(err, SD_ENOMEM, "out of memory");
                goto out;
            }
            v = t;
        }
        l = &v[cnt++];
        memset(l, 0, sizeof *l);
        copy_col(st, 0, l->sandbox_id, sizeof l->sandbox_id);
        l->traj_id = sqlite3_column_int64(st, 1);
        copy_col(st, 2, l->provider, sizeof l->provider);
        l->pid = sqlite3_column_int(st, 3);
        l->pid_start = (uint64_t)sqlite3_column_int64(st, 4);
        l->owner_pid = sqlite3_column_int(st, 5);
        l->owner_start = (uint64_t)sqlite3_column_int64(st, 6);
        copy_col(st, 7, l->workdir, sizeof l->workdir);
        l->created_at = sqlite3_column_int64(st, 8);
    }
    if (step != SQLITE_DONE) {
        db_err(err, db, s->path, "cannot read leases");
        goto out;
    }
    *out = v;
    *n = cnt;
    v = NULL;
    rc = 0;
out:
    free(v);
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    return rc;
}
