/*
 * nodump_test.c: a process that holds key material dumps no core (issue 14,
 * item 11; crypto_hold_keys in engine/base/crypto.h).
 *
 * Each way a key enters the engine runs in a child of its own, which starts
 * dumpable with RLIMIT_CORE raised to its hard limit (a control: the bits
 * checked are on before), takes the key, and then checks that
 * prctl(PR_GET_DUMPABLE) is 0 and RLIMIT_CORE is 0 (soft and hard), and that
 * crypto_wipe cleared the key it was given.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "crypto.h"

enum way { W_DIRECT, W_BASE64, W_SCRYPT };

static const char *names[] = {"crypto_hold_keys", "crypto_key_from_base64", "crypto_scrypt"};

/* In the child: 0 when every check held, else the number of the one that failed. */
static int child(enum way w)
{
    unsigned char key[CRYPTO_KEY_LEN], zero[CRYPTO_KEY_LEN] = {0};
    struct rlimit rl;

    getrlimit(RLIMIT_CORE, &rl);
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_CORE, &rl) != 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
        return 10;
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1)
        return 11; /* the control: dumpable before any key */
    switch (w) {
    case W_DIRECT:
        if (crypto_hold_keys() != 0)
            return 12;
        if (crypto_random(key, sizeof key) != 0)
            return 15;
        break;
    case W_BASE64:
        if (crypto_key_from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", key) != 0)
            return 13;
        break;
    case W_SCRYPT:
        if (crypto_scrypt("passphrase", 10, "salt", 4, 4, 1, 1, key, sizeof key) != 0)
            return 14;
        break;
    }
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
        return 1;
    if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
        return 2;
    crypto_wipe(key, sizeof key);
    if (memcmp(key, zero, sizeof key) != 0)
        return 3;
    return 0;
}

int main(void)
{
    for (int w = W_DIRECT; w <= W_SCRYPT; w++) {
        int st = 0;
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
            _exit(child((enum way)w));
        CHECK(waitpid(pid, &st, 0) == pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fprintf(stderr, "%s: check %d failed (1 dumpable, 2 core limit, 3 wipe, 1x setup)\n",
                    names[w], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    printf("nodump: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
