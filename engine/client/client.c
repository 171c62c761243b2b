/*
 * client.c: the daemon's API over libcurl (client.h has the contract).
 */
#define _GNU_SOURCE
#include "client.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

struct client {
    CURL *h;
    CURLM *m;         /* the event stream's multi handle (client_wake interrupts its poll) */
    CURLSH *share;    /* one connection cache for requests and the stream (see share_init) */
    atomic_int woken; /* client_wake was called: the watch calls fn(NULL) */
    int tick_ms;      /* client_events' tick period, 0 for none (client_set_tick) */
    char *sock;       /* the Unix socket libcurl connects to */
    char **cmd;       /* client_open_cmd's argv, or NULL */
    char *dir;        /* client_open_cmd: the private directory of its relay socket */
    int relay_fd;     /* client_open_cmd: the relay's listening socket, or -1 */
    pthread_t relay;
    pthread_mutex_t lock; /* guards pids */
    pid_t pids[16];       /* the commands the relay started and has not reaped */
    json_t *version;
};

extern char **environ;

struct buf {
    char *p;
    size_t len;
};

/* A command client's relay: libcurl connects to a private Unix socket of
 * ours, and every connection accepted there becomes the stdin and stdout of
 * one run of the command (ssh ... dial-stdio), which carries the bytes to
 * the remote daemon and back, with no other descriptor of this process. The
 * command is reaped when it exits (its input closed with the connection);
 * the thread ends when the listening
 * socket is shut down. */
static void *relay_main(void *arg)
{
    struct client *c = arg;

    for (;;) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int fd = accept4(c->relay_fd, NULL, NULL, SOCK_CLOEXEC);

        pthread_mutex_lock(&c->lock);
        for (int i = 0; i < 16; i++)
            if (c->pids[i] > 0 && waitpid(c->pids[i], NULL, WNOHANG) == c->pids[i])
                c->pids[i] = 0;
        pthread_mutex_unlock(&c->lock);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fd, 0);
        posix_spawn_file_actions_adddup2(&fa, fd, 1);
        /* Only stdin, stdout and stderr: a descriptor of ours left open
         * (libcurl's sockets are not close-on-exec) would let the command
         * hold the client's own end of its connection, so it never sees its
         * input end and the client waits for it for ever. Real ssh closes
         * what it inherits; a stand-in script does not. */
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        if (posix_spawnp(&pid, c->cmd[0], &fa, NULL, c->cmd, environ) != 0) {
            fprintf(stderr, "swarmdeck: cannot run %s: %s\n", c->cmd[0], strerror(errno));
        } else {
            int kept = 0;
            pthread_mutex_lock(&c->lock);
            for (int i = 0; i < 16 && !kept; i++)
                if (c->pids[i] == 0) {
                    c->pids[i] = pid;
                    kept = 1;
                }
            pthread_mutex_unlock(&c->lock);
            if (!kept) /* more than 16 at once: do not leave it unreaped */
                waitpid(pid, NULL, 0);
        }
        posix_spawn_file_actions_destroy(&fa);
        close(fd);
    }
    return NULL;
}

static int relay_start(struct client *c, struct sd_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char tmpl[] = "/tmp/swarmdeck-client-XXXXXX";

    if (mkdtemp(tmpl) == NULL || (c->dir = strdup(tmpl)) == NULL)
        return sd_err_set(err, SD_EENV, "cannot make a private directory: %s", strerror(errno));
    free(c->sock);
    if ((c->sock = malloc(strlen(tmpl) + 3)) == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    sprintf(c->sock, "%s/s", tmpl);
    memcpy(sa.sun_path, c->sock, strlen(c->sock) + 1);
    if ((c->relay_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(c->relay_fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(c->relay_fd, 8) != 0)
        return sd_err_set(err, SD_EENV, "cannot listen on %s: %s", c->sock, strerror(errno));
    if (pthread_create(&c->relay, NULL, relay_main, c) != 0) {
        close(c->relay_fd);
        c->relay_fd = -1;
        return sd_err_set(err, SD_EENV, "cannot start the relay thread");
    }
    return 0;
}

static void relay_stop(struct client *c)
{
    if (c->relay_fd >= 0) {
        shutdown(c->relay_fd, SHUT_RDWR);
        pthread_join(c->relay, NULL);
        close(c->relay_fd);
        c->relay_fd = -1;
        /* Their connections are closed, so they are exiting: reap them. */
        for (int i = 0; i < 16; i++)
            if (c->pids[i] > 0) {
                while (waitpid(c->pids[i], NULL, 0) < 0 && errno == EINTR)
                    ;
                c->pids[i] = 0;
            }
    }
    if (c->dir != NULL) {
        unlink(c->sock);
        rmdir(c->dir);
        free(c->dir);
        c->dir = NULL;
    }
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    size_t k = size * n;
    char *grown = realloc(b->p, b->len + k + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, data, k);
    b->p = grown;
    b->len += k;
    b->p[b->len] = '\0';
    return k;
}

/* The stream's multi handle, and a share that gives it the easy handle's
 * connection cache: the event stream goes over the connection the requests
 * opened, as curl_easy_perform did. Through a command (ssh ... dial-stdio)
 * a second connection is a second ssh, and with the stream on its own the
 * console did not see its daemon stop (console_hosts_lost; why the ssh chain
 * kept that stream open is not found). Returns 0, -1 when out of memory. */
static int share_init(struct client *c)
{
    if ((c->m = curl_multi_init()) == NULL || (c->share = curl_share_init()) == NULL)
        return -1;
    return curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) == CURLSHE_OK ? 0
                                                                                              : -1;
}

static void setup(struct client *c, const char *method, const char *path, struct curl_slist *h)
{
    char url[1024];

    curl_easy_reset(c->h);
    curl_easy_setopt(c->h, CURLOPT_SHARE, c->share);
    /* The host is never looked up: the socket (Unix, or a command's pair) is
     * given; "localhost" resolves without a resolver for the command case. */
    snprintf(url, sizeof url, "http://localhost/v%d%s", CLIENT_PROTOCOL, path);
    curl_easy_setopt(c->h, CURLOPT_UNIX_SOCKET_PATH, c->sock);
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    if (getenv("SWARMDECK_CURL_VERBOSE") != NULL)
        curl_easy_setopt(c->h, CURLOPT_VERBOSE, 1L);
}

static struct curl_slist *headers(void)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    char line[300], *tty = ttyname(0);
    if (tty != NULL) {
        snprintf(line, sizeof line, "X-Swarmdeck-Tty: %s", tty);
        h = curl_slist_append(h, line);
    }
    return curl_slist_append(h, "Expect:");
}

int client_call(struct client *c, const char *method, const char *path, json_t *body, long *status,
                json_t **out, struct sd_err *err)
{
    struct buf b = {0};
    struct curl_slist *h = headers();
    char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_error_t je;
    CURLcode rc;

    *out = NULL;
    setup(c, method, path, h);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, 120000L);
    if (txt != NULL || strcmp(method, "POST") == 0) {
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, txt ? txt : "");
        curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)(txt ? strlen(txt) : 0));
    }
    rc = curl_easy_perform(c->h);
    curl_slist_free_all(h);
    free(txt);
    if (rc != CURLE_OK) {
        free(b.p);
        return sd_err_set(err, SD_EENV, "the daemon (%s) did not answer: %s", c->sock,
                          curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status);
    *out = b.p ? json_loadb(b.p, b.len, 0, &je) : NULL;
    free(b.p);
    if (*out == NULL)
        *out = json_pack("{s:s}", "error", "the daemon's answer is not JSON");
    return 0;
}

int client_do(struct client *c, const char *method, const char *path, json_t *body, json_t **out,
              struct sd_err *err)
{
    long status = 0;

    if (client_call(c, method, path, body, &status, out, err) != 0)
        return -1;
    if (status >= 200 && status < 300)
        return 0;
    sd_err_set(err, status < 500 ? SD_EUSAGE : SD_EENV, "%s",
               json_string_value(json_object_get(*out, "error"))
                   ? json_string_value(json_object_get(*out, "error"))
                   : "the daemon refused");
    json_decref(*out);
    *out = NULL;
    return -1;
}

/* Check the daemon's protocol on a new client c; frees c on failure. */
static int hello(struct client *c, const char *sock, struct client **out, struct sd_err *err)
{
    json_t *v = NULL;
    long status = 0;
    int proto;

    if (client_call(c, "GET", "/version", NULL, &status, &v, err) != 0) {
        client_close(c);
        return -1;
    }
    proto = (int)json_integer_value(json_object_get(v, "protocol"));
    if (status != 200 || proto != CLIENT_PROTOCOL) {
        const char *e = json_string_value(json_object_get(v, "error"));
        sd_err_set(err, SD_EUSAGE,
                   "the daemon on %s speaks another protocol (%s); this swarmdeck speaks v%d: "
                   "use a swarmdeck of the daemon's version, or stop the daemon",
                   sock, e ? e : "unknown", CLIENT_PROTOCOL);
        json_decref(v);
        client_close(c);
        return -1;
    }
    c->version = v;
    *out = c;
    return 0;
}

int client_open(const char *sock, struct client **out, struct sd_err *err)
{
    struct client *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL)
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    c->relay_fd = -1;
    c->tick_ms = 100;
    if ((c->h = curl_easy_init()) == NULL || share_init(c) != 0 ||
        (c->sock = strdup(sock)) == NULL) {
        client_close(c);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    return hello(c, sock, out, err);
}

int client_open_cmd(char *const *argv, struct client **out, struct sd_err *err)
{
    struct client *c = calloc(1, sizeof *c);
    size_t n = 0;
    char label[256];

    *out = NULL;
    while (argv[n] != NULL)
        n++;
    if (c == NULL) {
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    c->relay_fd = -1;
    c->tick_ms = 100;
    if (n == 0 || (c->h = curl_easy_init()) == NULL || share_init(c) != 0 ||
        (c->cmd = calloc(n + 1, sizeof *c->cmd)) == NULL) {
        client_close(c);
        return sd_err_set(err, SD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        if ((c->cmd[i] = strdup(argv[i])) == NULL) {
            client_close(c);
            return sd_err_set(err, SD_ENOMEM, "out of memory");
        }
    pthread_mutex_init(&c->lock, NULL);
    if (relay_start(c, err) != 0) {
        client_close(c);
        return -1;
    }
    /* Messages name the command (its first words), not the relay's socket. */
    snprintf(label, sizeof label, "%s %s", argv[0], n > 1 ? argv[1] : "");
    return hello(c, label, out, err);
}

int client_clone(struct client *c, struct client **out, struct sd_err *err)
{
    if (c->cmd != NULL)
        return client_open_cmd(c->cmd, out, err);
    return client_open(c->sock, out, err);
}

void client_close(struct client *c)
{
    if (c == NULL)
        return;
    if (c->h != NULL)
        curl_easy_cleanup(c->h); /* closes its connections: each command exits */
    if (c->m != NULL)
        curl_multi_cleanup(c->m);
    if (c->share != NULL)
        curl_share_cleanup(c->share); /* after every handle that used it */
    relay_stop(c);
    for (size_t i = 0; c->cmd != NULL && c->cmd[i] != NULL; i++)
        free(c->cmd[i]);
    free(c->cmd);
    json_decref(c->version);
    free(c->sock);
    free(c);
}

const char *client_socket(struct client *c)
{
    return c->sock;
}

json_t *client_version(struct client *c)
{
    return c->version;
}

/* The event stream: split into lines, hand each object to fn. */
struct watch {
    struct buf line;
    client_event_fn fn;
    void *arg;
    int rc;
    uint64_t last_data; /* sd_mono_ns() of the last byte received */
};

static size_t on_stream(char *data, size_t size, size_t n, void *arg)
{
    struct watch *w = arg;
    size_t k = size * n;

    w->last_data = sd_mono_ns();
    for (size_t i = 0; i < k; i++) {
        if (data[i] != '\n') {
            if (collect(&data[i], 1, 1, &w->line) != 1)
                return 0;
            continue;
        }
        if (w->line.len > 0) {
            json_error_t je;
            json_t *ev = json_loadb(w->line.p, w->line.len, 0, &je);
            w->line.len = 0;
            if (ev != NULL) {
                w->rc = w->fn(ev, w->arg);
                json_decref(ev);
                if (w->rc != 0)
                    return 0; /* ends the transfer: the watch is done */
            }
        }
    }
    return k;
}

/* A stream with neither event nor bookmark (the daemon writes one every 15
 * s) for this long is dead. */
#define STREAM_DEAD_MS 60000

/* Milliseconds until the next thing the watch must do: curl's own timer,
 * the dead-stream deadline, the caller's tick. */
static long next_wait(struct client *c, const struct watch *w, uint64_t last_tick)
{
    uint64_t now = sd_mono_ns();
    long t = -1, dead = STREAM_DEAD_MS - (long)((now - w->last_data) / 1000000);

    curl_multi_timeout(c->m, &t);
    if (t < 0 || t > dead)
        t = dead;
    if (c->tick_ms > 0) {
        long tick = c->tick_ms - (long)((now - last_tick) / 1000000);
        if (tick < t)
            t = tick;
    }
    return t < 0 ? 0 : t;
}

int client_events(struct client *c, uint64_t since, client_event_fn fn, void *arg,
                  struct sd_err *err)
{
    struct watch w = {.fn = fn, .arg = arg, .last_data = sd_mono_ns()};
    struct curl_slist *h = headers();
    uint64_t last_tick = w.last_data;
    char path[64];
    CURLcode rc = CURLE_OK;
    long status = 0;
    int running = 1, done = 0, dead = 0;

    snprintf(path, sizeof path, "/events?since=%llu", (unsigned long long)since);
    setup(c, "GET", path, h);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, &w);
    /* Driven by hand rather than curl_easy_perform, which wakes every second:
     * an idle console on an idle daemon sleeps in one poll until a byte, a
     * bookmark, a tick it asked for or client_wake. */
    if (curl_multi_add_handle(c->m, c->h) != CURLM_OK) {
        curl_slist_free_all(h);
        return sd_err_set(err, SD_ENOMEM, "cannot start the event stream");
    }
    while (!done && w.rc == 0) {
        CURLMsg *msg;
        int left;

        if (curl_multi_perform(c->m, &running) != CURLM_OK)
            break;
        while ((msg = curl_multi_info_read(c->m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE)
                rc = msg->data.result, done = 1;
        if (done || w.rc != 0 || !running)
            break;
        if (sd_mono_ns() - w.last_data >= (uint64_t)STREAM_DEAD_MS * 1000000) {
            dead = 1;
            break;
        }
        curl_multi_poll(c->m, NULL, 0, (int)next_wait(c, &w, last_tick), NULL);
        if (atomic_exchange(&c->woken, 0) ||
            (c->tick_ms > 0 && sd_mono_ns() - last_tick >= (uint64_t)c->tick_ms * 1000000)) {
            last_tick = sd_mono_ns();
            w.rc = fn(NULL, arg);
        }
    }
    curl_multi_remove_handle(c->m, c->h);
    curl_slist_free_all(h);
    free(w.line.p);
    if (w.rc != 0)
        return w.rc;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
    if (dead)
        return sd_err_set(err, SD_EENV, "the daemon's event stream went silent for %d s",
                          STREAM_DEAD_MS / 1000);
    return sd_err_set(err, SD_EENV, "the daemon's event stream ended (%s, HTTP %ld)",
                      rc == CURLE_OK ? "closed" : curl_easy_strerror(rc), status);
}

void client_set_tick(struct client *c, int ms)
{
    c->tick_ms = ms < 0 ? 0 : ms;
}

void client_wake(struct client *c)
{
    atomic_store(&c->woken, 1);
    curl_multi_wakeup(c->m);
}
