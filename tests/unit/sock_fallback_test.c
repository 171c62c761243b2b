/*
 * sock_fallback_test.c: where the daemon's sockets live when
 * XDG_RUNTIME_DIR cannot be used (engine/serve/sock.c): unset, empty,
 * relative, missing, or not a directory all fall back to
 * /tmp/swarmdeck-UID/sock, made 0700 and ours; a usable one gives
 * $XDG_RUNTIME_DIR/swarmdeck/sock. A store's socket path there is one a
 * daemon can listen on (mode 0600) and a client of the same store, finding
 * the same path on its own, can connect to.
 *
 * Usage: sock_fallback_test CASE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "sock.h"
#include "store.h"

#define TMPSTORE_PREFIX "swarmdeck-sockfb"
#include "tmpstore.h"

/* serve_sockdir with XDG_RUNTIME_DIR set to xdg (NULL: unset) must give
 * want, a 0700 directory of ours. */
static void sockdir_is(const char *xdg, const char *want)
{
    char got[PATH_MAX];
    struct sd_err err = {0};
    struct stat st;

    if (xdg == NULL)
        unsetenv("XDG_RUNTIME_DIR");
    else
        setenv("XDG_RUNTIME_DIR", xdg, 1);
    CHECK(serve_sockdir(got, sizeof got, &err) == 0);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "XDG_RUNTIME_DIR=%s: socket dir %s, wanted %s (%s)\n",
                xdg ? xdg : "(unset)", got, want, err.msg);
    CHECK(strcmp(got, want) == 0);
    CHECK(lstat(got, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
          (st.st_mode & 0777) == 0700);
}

static void test_fallback(void)
{
    char fallback[64], file[128], missing[128], want[PATH_MAX];
    struct store *s = store_new(); /* only for its directory */

    snprintf(fallback, sizeof fallback, "/tmp/swarmdeck-%u/sock", (unsigned)getuid());
    snprintf(file, sizeof file, "%s/a-file", dir);
    snprintf(missing, sizeof missing, "%s/no-such-dir", dir);
    CHECK(close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) == 0);
    sockdir_is(NULL, fallback);
    sockdir_is("", fallback);
    sockdir_is("relative/run", fallback);
    sockdir_is(missing, fallback);
    sockdir_is(file, fallback);
    /* A usable one is used. */
    snprintf(want, sizeof want, "%s/swarmdeck/sock", dir);
    sockdir_is(dir, want);
    store_gone(s);
}

/* Under the fallback, a store's socket can be listened on and reached. */
static void test_listen(void)
{
    struct store *s = store_new();
    struct sd_err err = {0};
    char p[PATH_MAX], again[PATH_MAX], prefix[64];
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, c;

    unsetenv("XDG_RUNTIME_DIR");
    snprintf(prefix, sizeof prefix, "/tmp/swarmdeck-%u/sock/", (unsigned)getuid());
    CHECK(serve_sockpath(path, 0, p, sizeof p, &err) == 0);
    CHECK(strncmp(p, prefix, strlen(prefix)) == 0);
    CHECK((fd = serve_listen(p, &err)) >= 0);
    CHECK(stat(p, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600);
    /* A client finds the same path by itself and connects. */
    CHECK(serve_sockpath(path, 0, again, sizeof again, &err) == 0 && strcmp(p, again) == 0);
    CHECK(strlen(again) < sizeof a.sun_path);
    memcpy(a.sun_path, again, strlen(again) < sizeof a.sun_path ? strlen(again) + 1 : 0);
    c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(c >= 0 && connect(c, (struct sockaddr *)&a, sizeof a) == 0);
    if (c >= 0)
        close(c);
    if (fd >= 0)
        close(fd);
    unlink(p);
    store_gone(s);
}

int main(int argc, char **argv)
{
    static const struct check_case cases[] = {
        {"fallback", test_fallback},
        {"listen", test_listen},
    };

    return check_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
