/*
 * e2b_resume_driver.c: drives the E2B provider's reattach and resume (provider.h) the way a
 * restarted process would, for tests/e2e/e2b_prod_e2e.py's Reconnect case. Two invocations,
 * so the second really is another process that knows only the lease's workdir:
 *
 *   e2b_resume_driver start SCRIPT ID   create a sandbox, upload SCRIPT as job.sh, start it;
 *                                       print "HANDLE <workdir>" at once, then the output,
 *                                       then "START rc=N: <error>"; exit without destroying
 *                                       the sandbox (as a crash would)
 *   e2b_resume_driver resume ID HANDLE  reattach and resume: print "ATTACHED", the output
 *                                       from now on, then "EXIT code=N rc=N: <error>";
 *                                       destroy the sandbox
 *
 * The configuration comes from the environment (E2B_API_KEY, E2B_API_URL, E2B_SANDBOX_URL).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "e2b.h"

static void on_output(void *arg, int stream, const char *data, size_t len)
{
    (void)arg;
    (void)stream;
    fwrite(data, 1, len, stdout);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct e2b_config cfg;
    struct sd_err err = {0};
    struct provider *p;
    struct sbx *b = NULL;
    struct sbx_exit ex;
    struct sbx_spec spec = {.timeout_ms = 60000};
    struct sbx_callbacks cb = {.output = on_output};
    int rc;

    if (argc != 4 || (strcmp(argv[1], "start") != 0 && strcmp(argv[1], "resume") != 0)) {
        fprintf(stderr, "usage: e2b_resume_driver start SCRIPT ID | resume ID HANDLE\n");
        return 2;
    }
    if (e2b_config_load(&cfg, &err) != 1 ||
        (p = provider_e2b_new(&cfg, 0, "resume-test", &err)) == NULL) {
        fprintf(stderr, "e2b_resume_driver: %s\n", err.msg[0] ? err.msg : "no key");
        return 2;
    }
    e2b_config_wipe(&cfg);
    if (strcmp(argv[1], "start") == 0) {
        char handle[256];
        int pid;
        uint64_t st;
        char *args[] = {"./job.sh", NULL};
        spec.id = argv[3];
        if (p->ops->create(p, &spec, &b, &err) != 0 ||
            p->ops->upload(b, argv[2], "job.sh", 1, &err) != 0) {
            fprintf(stderr, "e2b_resume_driver: %s\n", err.msg);
            return 1;
        }
        p->ops->lease_info(b, &pid, &st, handle, sizeof handle);
        printf("HANDLE %s\n", handle);
        fflush(stdout);
        rc = p->ops->start(b, args, &cb, &ex, &err);
        printf("\nSTART rc=%d: %s\n", rc, err.msg);
        fflush(stdout);
        _exit(0); /* as a crash: the sandbox is neither destroyed nor forgotten */
    }
    spec.id = argv[2];
    if (p->ops->reattach(p, &spec, argv[3], &b, &err) != 0) {
        printf("REATTACH failed: %s\n", err.msg);
        p->ops->free(p);
        return 1;
    }
    printf("ATTACHED\n");
    fflush(stdout);
    rc = p->ops->resume(b, &cb, &ex, &err);
    printf("\nEXIT code=%d rc=%d: %s\n", ex.code, rc, err.msg);
    p->ops->destroy(b);
    p->ops->free(p);
    return rc == 0 ? 0 : 1;
}
