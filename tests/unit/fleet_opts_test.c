/*
 * fleet_opts_test.c: the fleet's connection options and its live subject
 * (engine/fleet/fleet.c), against a real nats-server this test starts on
 * loopback.
 *
 *   refused  bad options (a credentials file or TLS file that is missing or
 *            not what it claims, a certificate without its key, a bad URL or
 *            name) are refused by fleet_start with SD_EUSAGE and a message
 *            naming the option, start nothing, and leave the store as it was.
 *   live     fleet_live and the daemon's pump tap (route_fleet_tap) publish
 *            on swarmdeck.live.<name>, the name's dots made '_' (a dot would
 *            split the subject), seen by a subscriber of swarmdeck.live.>.
 *   tls      with a certificate the test makes with openssl, nats-server
 *            serves TLS only; the fleet given that certificate as its CA
 *            (--fleet-tls-ca) connects, sets up its stream, and its live
 *            events arrive over TLS.
 *   down     NATS down at start: fleet_start returns at once, and the fleet
 *            connects once a server listens on that port.
 *
 * Usage: fleet_opts_test CASE NATS_SERVER OPENSSL (either may be "" when not
 * installed: the cases that need it exit 77, skipped). Waits are on
 * conditions with a deadline, never a sleep that asserts timing.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fleet.h"
#include "fleet_store.h"
#include "routes.h"
#include "traj.h"

#define TMPSTORE_PREFIX "swarmdeck-fleetopts"
#include "tmpstore.h"

#define WAIT_MS 30000

extern char **environ;

static const char *nats_server, *openssl;

/* --- a nats-server of our own ------------------------------------------------ */

struct nats {
    pid_t pid;
    int port;
    char url[64];
};

/* A free loopback TCP port (bound, read back, closed). */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &n) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* 1 once something accepts TCP connections on 127.0.0.1:port. */
static int listening(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Start `nats-server -js` on loopback port n->port, its storage under top;
 * with cert and key, TLS only. Waits (WAIT_MS at most) until it listens.
 * Exits on failure. Stop with nats_stop. */
static void nats_spawn(struct nats *n, const char *top, const char *cert, const char *key);

/* nats_spawn on a free port. */
static void nats_start(struct nats *n, const char *top, const char *cert, const char *key)
{
    n->port = free_port();
    nats_spawn(n, top, cert, key);
}

/* nats_start on a port chosen before (a plain server). */
static void nats_start_at(struct nats *n, const char *top, int port)
{
    n->port = port;
    nats_spawn(n, top, NULL, NULL);
}

static void nats_spawn(struct nats *n, const char *top, const char *cert, const char *key)
{
    char port[16], sd[256], log[256];
    char *argv[16];
    int i = 0;
    struct timespec ms = {0, 20 * 1000000};
    posix_spawn_file_actions_t fa;

    snprintf(port, sizeof port, "%d", n->port);
    snprintf(sd, sizeof sd, "%s/js", top);
    snprintf(log, sizeof log, "%s/nats.log", top);
    argv[i++] = (char *)nats_server;
    argv[i++] = "-js";
    argv[i++] = "-sd";
    argv[i++] = sd;
    argv[i++] = "-a";
    argv[i++] = "127.0.0.1";
    argv[i++] = "-p";
    argv[i++] = port;
    if (cert != NULL) {
        argv[i++] = "--tls";
        argv[i++] = "--tlscert";
        argv[i++] = (char *)cert;
        argv[i++] = "--tlskey";
        argv[i++] = (char *)key;
    }
    argv[i] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (n->port < 0 || posix_spawn(&n->pid, nats_server, &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "cannot start %s\n", nats_server);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    for (int t = 0; t < WAIT_MS / 20 && !listening(n->port); t++)
        nanosleep(&ms, NULL);
    if (!listening(n->port)) {
        fprintf(stderr, "nats-server did not listen on %d (see %s)\n", n->port, log);
        kill(n->pid, SIGKILL);
        waitpid(n->pid, NULL, 0);
        exit(1);
    }
    snprintf(n->url, sizeof n->url, "%s://127.0.0.1:%d", cert ? "tls" : "nats", n->port);
}

static void nats_stop(struct nats *n)
{
    kill(n->pid, SIGTERM);
    waitpid(n->pid, NULL, 0);
}

/* --- helpers ------------------------------------------------------------------------ */

/* Waits (WAIT_MS at most) until the fleet in this process is connected
 * with its stream set up; returns that state. */
static int wait_connected(void)
{
    struct fleet_counters c;
    struct timespec ms = {0, 20 * 1000000};

    for (int t = 0; t < WAIT_MS / 20; t++) {
        fleet_counters(&c);
        if (c.connected)
            return 1;
        nanosleep(&ms, NULL);
    }
    return 0;
}

/* How many trajectories s holds, as a reader sees them. */
static int64_t trajectories(struct store *s)
{
    struct sd_err err = {0};
    sqlite3 *db = store_reader(s, &err);
    sqlite3_stmt *st = NULL;
    int64_t n = -1;

    CHECK(store_flush(s, &err) == 0);
    if (db != NULL &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM trajectories", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(1);
    }
}

/* Subscribe on nc to subject; exits on failure. */
static natsSubscription *subscribe(natsConnection *nc, const char *subject)
{
    natsSubscription *sub = NULL;

    if (natsConnection_SubscribeSync(&sub, nc, subject) != NATS_OK ||
        natsConnection_Flush(nc) != NATS_OK) {
        fprintf(stderr, "cannot subscribe to %s\n", subject);
        exit(1);
    }
    return sub;
}

/* The next message on sub (WAIT_MS at most): CHECKs its subject and data. */
static void expect_msg(natsSubscription *sub, const char *subject, const char *data)
{
    natsMsg *m = NULL;

    CHECK(natsSubscription_NextMsg(&m, sub, WAIT_MS) == NATS_OK);
    if (m == NULL)
        return;
    if (strcmp(natsMsg_GetSubject(m), subject) != 0)
        fprintf(stderr, "live message on %s, wanted %s\n", natsMsg_GetSubject(m), subject);
    CHECK(strcmp(natsMsg_GetSubject(m), subject) == 0);
    CHECK(natsMsg_GetDataLength(m) == (int)strlen(data) &&
          memcmp(natsMsg_GetData(m), data, strlen(data)) == 0);
    natsMsg_Destroy(m);
}

/* --- the cases ------------------------------------------------------------------------- */

/* fleet_start with o must be refused as bad usage, its message holding
 * want, and start nothing. */
static void refused(struct store *s, const struct fleet_opts *o, const char *want)
{
    struct sd_err err = {0};
    struct fleet *f = (struct fleet *)1;
    struct fleet_counters c;

    CHECK(fleet_start(s, o, &f, &err) == -1);
    CHECK(f == NULL);
    CHECK(err.code == SD_EUSAGE);
    if (strstr(err.msg, want) == NULL)
        fprintf(stderr, "refusal \"%s\" does not say \"%s\"\n", err.msg, want);
    CHECK(strstr(err.msg, want) != NULL);
    fleet_counters(&c);
    CHECK(c.running == 0);
}

static void test_refused(void)
{
    struct sd_err err = {0};
    struct store *s = store_new();
    struct traj_new t = {.uuid = "6f1c1d0e-0000-4000-8000-000000000001",
                         .strategy = "momentum",
                         .symbol = "SPY",
                         .params = "{}",
                         .provider = "local"};
    char missing[200], junk[200], fake_creds[200];
    const char *url = "nats://127.0.0.1:1"; /* nothing listens there */
    struct fleet_opts o;

    CHECK(traj_insert(s, &t, &err) > 0);
    CHECK(trajectories(s) == 1);
    snprintf(missing, sizeof missing, "%s/no-such-file", dir);
    snprintf(junk, sizeof junk, "%s/junk.pem", dir);
    snprintf(fake_creds, sizeof fake_creds, "%s/fake.creds", dir);
    write_file(junk, "this is not a certificate, a key or a credentials file\n");

    o = (struct fleet_opts){.url = url, .name = "alpha", .creds = missing};
    refused(s, &o, "credentials file");
    o = (struct fleet_opts){.url = url, .name = "alpha", .creds = junk};
    refused(s, &o, "credentials file");
    /* The shape of a credentials file with a seed that does not decode: it hung
     * fleet_start (the client library retried loading it for ever). */
    write_file(fake_creds, "-----BEGIN NATS USER JWT-----\neyJnot.a.jwt\n------END NATS USER "
                           "JWT------\n\n-----BEGIN USER NKEY SEED-----\nSUAnotaseed\n------END "
                           "USER NKEY SEED------\n");
    o = (struct fleet_opts){.url = url, .name = "alpha", .creds = fake_creds};
    refused(s, &o, "credentials file");
    o = (struct fleet_opts){.url = url, .name = "alpha", .tls_ca = missing};
    refused(s, &o, "TLS CA file");
    o = (struct fleet_opts){.url = url, .name = "alpha", .tls_ca = junk};
    refused(s, &o, "TLS CA file");
    o = (struct fleet_opts){.url = url, .name = "alpha", .tls_cert = junk, .tls_key = junk};
    refused(s, &o, "TLS certificate or key");
    o = (struct fleet_opts){.url = url, .name = "alpha", .tls_cert = missing, .tls_key = missing};
    refused(s, &o, "TLS certificate or key");
    o = (struct fleet_opts){.url = url, .name = "alpha", .tls_cert = junk};
    refused(s, &o, "go together");
    o = (struct fleet_opts){.url = "http://127.0.0.1:1", .name = "alpha"};
    refused(s, &o, "nats://HOST:PORT");
    o = (struct fleet_opts){.url = url, .name = "no spaces"};
    refused(s, &o, "not a host name");
    /* A well-formed file is taken (the library opened for its check), and
     * with no server there the fleet starts in the background. The seed is
     * a throwaway made for this test, trusted by no server. */
    write_file(fake_creds, "-----BEGIN NATS USER JWT-----\neyJhbGciOiJlZDI1NTE5In0.e30.c2ln\n"
                           "------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n"
                           "SUAM6737UQ7SC5B7K657J2KBRYVPLJBHPZPBFGJKKQYLEA6AEZI7QLDYEM\n"
                           "------END USER NKEY SEED------\n");
    {
        struct fleet *f = NULL;
        o = (struct fleet_opts){.url = url, .name = "alpha", .creds = fake_creds};
        memset(&err, 0, sizeof err);
        if (fleet_start(s, &o, &f, &err) != 0)
            fprintf(stderr, "a good credentials file refused: %s\n", err.msg);
        CHECK(f != NULL);
        fleet_stop(f);
    }
    /* Nothing lost, nothing queued. */
    CHECK(trajectories(s) == 1);
    {
        sqlite3 *db = store_reader(s, &err);
        CHECK(db != NULL && store_fleet_outbox_size(db) == 0);
        sqlite3_close(db);
    }
    store_gone(s);
}

/* A fleet on server n named name: its live events (fleet_live and the
 * daemon's tap) arrive on swarmdeck.live.<token>. sub_opts: how the test's
 * own client connects (TLS trust for the tls case). */
static void live_through(const struct nats *n, const struct fleet_opts *o, natsOptions *sub_opts,
                         const char *subject)
{
    struct sd_err err = {0};
    struct store *s = store_new();
    struct fleet *f = NULL;
    natsConnection *nc = NULL;
    natsSubscription *sub;

    if (natsOptions_SetURL(sub_opts, n->url) != NATS_OK ||
        natsConnection_Connect(&nc, sub_opts) != NATS_OK) {
        fprintf(stderr, "the test cannot connect to %s\n", n->url);
        exit(1);
    }
    sub = subscribe(nc, "swarmdeck.live.>");
    if (fleet_start(s, o, &f, &err) != 0)
        fprintf(stderr, "fleet_start: %s\n", err.msg);
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(wait_connected());
        fleet_live(f, "{\"type\":\"state\",\"id\":7}");
        expect_msg(sub, subject, "{\"type\":\"state\",\"id\":7}");
        route_fleet_tap("{\"type\":\"state\",\"id\":8,\"state\":\"succeeded\"}", 1, f);
        expect_msg(sub, subject, "{\"type\":\"state\",\"id\":8,\"state\":\"succeeded\"}");
        fleet_stop(f);
    }
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    store_gone(s);
}

static void test_live(void)
{
    char tmp[] = "/tmp/swarmdeck-fleetopts-nats-XXXXXX";
    struct nats n;
    natsOptions *so = NULL;

    if (nats_server[0] == '\0') {
        printf("nats-server not installed: skipped\n");
        exit(77);
    }
    if (mkdtemp(tmp) == NULL)
        exit(1);
    nats_start(&n, tmp, NULL, NULL);
    natsOptions_Create(&so);
    {
        struct fleet_opts o = {.url = n.url, .name = "host.one"};
        live_through(&n, &o, so, "swarmdeck.live.host_one");
    }
    natsOptions_Destroy(so);
    nats_stop(&n);
    sd_rm_rf(tmp);
}

/* NATS down at start is not an error: fleet_start returns at once (it
 * blocked until a server answered, so `serve --fleet` hung), and once a
 * server listens on that port the fleet connects and sets up its stream. */
static void test_down(void)
{
    char tmp[] = "/tmp/swarmdeck-fleetopts-down-XXXXXX";
    struct sd_err err = {0};
    struct store *s;
    struct fleet *f = NULL;
    struct nats n;
    struct fleet_counters c;
    char url[64];
    int port = free_port();

    if (nats_server[0] == '\0') {
        printf("nats-server not installed: skipped\n");
        exit(77);
    }
    if (mkdtemp(tmp) == NULL)
        exit(1);
    s = store_new();
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
    {
        struct fleet_opts o = {.url = url, .name = "late"};
        CHECK(fleet_start(s, &o, &f, &err) == 0);
    }
    fleet_counters(&c);
    CHECK(c.running == 1 && c.connected == 0);
    nats_start_at(&n, tmp, port);
    CHECK(wait_connected());
    fleet_stop(f);
    nats_stop(&n);
    store_gone(s);
    sd_rm_rf(tmp);
}

static void test_tls(void)
{
    char tmp[] = "/tmp/swarmdeck-fleetopts-tls-XXXXXX";
    char cmd[1024], cert[128], key[128];
    struct nats n;
    natsOptions *so = NULL;

    if (nats_server[0] == '\0' || openssl[0] == '\0') {
        printf("nats-server or openssl not installed: skipped\n");
        exit(77);
    }
    if (mkdtemp(tmp) == NULL)
        exit(1);
    snprintf(cert, sizeof cert, "%s/cert.pem", tmp);
    snprintf(key, sizeof key, "%s/key.pem", tmp);
    /* A self-signed certificate for 127.0.0.1: its own CA. */
    snprintf(cmd, sizeof cmd,
             "'%s' req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
             " -keyout '%s' -out '%s' -days 1 -subj /CN=127.0.0.1"
             " -addext subjectAltName=IP:127.0.0.1 2>'%s/openssl.log'",
             openssl, key, cert, tmp);
    if (system(cmd) != 0) {
        fprintf(stderr, "openssl could not make a certificate (see %s/openssl.log)\n", tmp);
        exit(1);
    }
    nats_start(&n, tmp, cert, key);
    natsOptions_Create(&so);
    natsOptions_SetSecure(so, true);
    natsOptions_LoadCATrustedCertificates(so, cert);
    {
        struct fleet_opts o = {.url = n.url, .name = "tls-host", .tls_ca = cert};
        live_through(&n, &o, so, "swarmdeck.live.tls-host");
    }
    natsOptions_Destroy(so);
    nats_stop(&n);
    sd_rm_rf(tmp);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"refused", test_refused},
        {"live", test_live},
        {"tls", test_tls},
        {"down", test_down},
    };
    int rc;

    if (argc < 4) {
        fprintf(stderr, "usage: fleet_opts_test CASE NATS_SERVER OPENSSL\n");
        return 2;
    }
    nats_server = argv[2];
    openssl = argv[3];
    rc = check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
    nats_Close();
    return rc;
}
