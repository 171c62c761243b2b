/*
 * filter.c: the seccomp deny-list every sandboxed payload runs under.
 *
 * Design: a deny-list, not an allow-list, so interpreters and the static runner work unchanged.
 * It is Flatpak's list (no new namespaces or mounts, no keyring, no NUMA/VM tricks, no TIOCSTI,
 * clone3 answered with ENOSYS so libc falls back to clone, whose flags can be inspected) plus
 * the kernel attack surface a trading strategy never needs: bpf, userfaultfd, io_uring,
 * perf_event_open, kexec, module loading, ptrace and clock setting. Blocked calls fail with
 * EPERM. Socket families are an allow-list (add_socket_families: AF_UNIX, AF_INET, AF_INET6,
 * NETLINK_ROUTE); when the host gives no network namespace, AF_INET/AF_INET6 are denied too,
 * and in a shared empty namespace (netshare.c, unix_only) everything but AF_UNIX.
 *
 * The filter is compiled to classic BPF once in the helper, before clone, so the child only
 * issues one prctl (no allocation, no libseccomp code after fork). The native arch plus x86 and
 * x32 are covered, so a 32-bit payload cannot dodge the list by switching ABIs; any other arch
 * kills the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

/* Unconditional denials: name, errno. */
static const struct {
    const char *name;
    int err;
} deny[] = {
    {"syslog", EPERM},
    {"uselib", EPERM},
    {"acct", EPERM},
    {"modify_ldt", EPERM},
    {"quotactl", EPERM},
    {"add_key", EPERM},
    {"keyctl", EPERM},
    {"request_key", EPERM},
    {"move_pages", EPERM},
    {"mbind", EPERM},
    {"get_mempolicy", EPERM},
    {"set_mempolicy", EPERM},
    {"migrate_pages", EPERM},
    {"unshare", EPERM},
    {"setns", EPERM},
    {"mount", EPERM},
    {"umount", EPERM},
    {"umount2", EPERM},
    {"pivot_root", EPERM},
    {"chroot", EPERM},
    {"clone3", ENOSYS},
    {"open_tree", EPERM},
    {"move_mount", EPERM},
    {"fsopen", EPERM},
    {"fsconfig", EPERM},
    {"fsmount", EPERM},
    {"fspick", EPERM},
    {"mount_setattr", EPERM},
    {"perf_event_open", EPERM},
    {"ptrace", EPERM},
    {"bpf", EPERM},
    {"userfaultfd", EPERM},
    {"io_uring_setup", EPERM},
    {"io_uring_enter", EPERM},
    {"io_uring_register", EPERM},
    {"kexec_load", EPERM},
    {"kexec_file_load", EPERM},
    {"init_module", EPERM},
    {"finit_module", EPERM},
    {"delete_module", EPERM},
    {"clock_settime", EPERM},
    {"clock_adjtime", EPERM},
    {"settimeofday", EPERM},
    {"adjtimex", EPERM},
    {"stime", EPERM},
    {"lookup_dcookie", EPERM},
    {"vm86", EPERM},
    {"vm86old", EPERM},
    {"name_to_handle_at", EPERM},
    {"open_by_handle_at", EPERM},
};

static int add(scmp_filter_ctx ctx, const char *name, int err, unsigned n, struct scmp_arg_cmp a)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* unknown to this libseccomp: nothing to deny */
    int rc = n ? seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 1, a)
               : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
    return rc == -EDOM || rc == -EOPNOTSUPP ? 0 : rc;
}

/* Socket families: an allow-list inside the deny-list. A strategy needs AF_UNIX, AF_INET and
 * AF_INET6 (confined to the sandbox's empty network namespace, or denied above when there is
 * none) and AF_NETLINK with NETLINK_ROUTE only (glibc's getaddrinfo and getifaddrs ask it for
 * the interfaces). Everything else fails with EAFNOSUPPORT, as if the kernel lacked it: that
 * closes AF_VSOCK (a VM's vsock port space is not namespaced: connects leave the sandbox),
 * AF_PACKET, the other netlink protocols (NETLINK_KOBJECT_UEVENT is not namespaced; audit,
 * netfilter, generic netlink reach kernel code) and every rarely used family, and it stops the
 * kernel from autoloading a family's module on demand. References: Docker's default seccomp
 * profile (denies AF_VSOCK, allows the rest) and Flatpak's (allows unix, inet, inet6, netlink);
 * nsjail ships no default filter. The domain is an int: the comparisons look at the low 32 bits
 * (MASKED_EQ) or treat any high bit as out of range (GE), so no high-bit encoding of a denied
 * family gets through. socketpair only ever needs AF_UNIX. For the x86-64 and x32 ABIs;
 * the 32-bit x86 ABI gets add_socket_x86 instead. */
static int add_socket_families(scmp_filter_ctx ctx, bool unix_only)
{
    const uint32_t mask = 0xFFFFFFFFu;
    int rc;

    for (int fam = 0; fam <= AF_NETLINK; fam++) {
        if (fam == AF_UNIX || fam == AF_INET || fam == AF_INET6 ||
            (fam == AF_NETLINK && !unix_only))
            continue;
        if ((rc = add(ctx, "socket", EAFNOSUPPORT, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, mask, fam))) < 0)
            return rc;
    }
    if ((rc = add(ctx, "socket", EAFNOSUPPORT, 1, SCMP_A0(SCMP_CMP_GE, AF_NETLINK + 1))) < 0)
        return rc;
    /* AF_NETLINK with any protocol but NETLINK_ROUTE (0); all of it when unix_only (a shared
     * namespace: the loop above). */
    int nr = seccomp_syscall_resolve_name("socket");
    if (nr != __NR_SCMP_ERROR && !unix_only) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPROTONOSUPPORT), nr, 2,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, mask, AF_NETLINK),
                              SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE));
        if (rc < 0 && rc != -EDOM && rc != -EOPNOTSUPP)
            return rc;
    }
    if ((rc = add(ctx, "socketpair", EAFNOSUPPORT, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 0))) < 0)
        return rc;
    return add(ctx, "socketpair", EAFNOSUPPORT, 1, SCMP_A0(SCMP_CMP_GE, AF_UNIX + 1));
}

/* The 32-bit x86 ABI (a payload may exec a 32-bit binary it wrote): the socketcall
 * multiplexer passes its arguments in memory, where seccomp cannot see them, so it is answered
 * ENOSYS; the direct socket and socketpair calls are denied whatever the family. No 32-bit
 * program needs a socket in a sandbox. socketcall goes first: libseccomp then adds the direct
 * calls as they are instead of translating them to socketcall rules. */
static int add_socket_x86(scmp_filter_ctx ctx)
{
    static const struct scmp_arg_cmp none;
    int rc;
    if ((rc = add(ctx, "socketcall", ENOSYS, 0, none)) < 0 ||
        (rc = add(ctx, "socket", EAFNOSUPPORT, 0, none)) < 0)
        return rc;
    return add(ctx, "socketpair", EAFNOSUPPORT, 0, none);
}

/* The rules every ABI gets: the deny list, clone(CLONE_NEWUSER), TIOCSTI/TIOCLINUX and the
 * personality. Returns 0 or a negative errno. */
static int add_common(scmp_filter_ctx ctx)
{
    static const struct scmp_arg_cmp none;
    int rc;

    for (size_t i = 0; i < sizeof deny / sizeof deny[0]; i++)
        if ((rc = add(ctx, deny[i].name, deny[i].err, 0, none)) < 0)
            return rc;
    if ((rc = add(ctx, "clone", EPERM, 1,
                  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))) < 0)
        return rc;
    if ((rc = add(ctx, "ioctl", EPERM, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCSTI))) < 0)
        return rc;
    if ((rc = add(ctx, "ioctl", EPERM, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCLINUX))) < 0)
        return rc;
    /* Only the Linux personality (and the query); others re-enable odd kernel paths. */
    return add(ctx, "personality", EPERM, 1, SCMP_A0(SCMP_CMP_NE, 0));
}

int sbx_filter_build(struct sbx_config *c, char *err, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW), ctx32 = NULL;
    int rc = 0, memfd = -1;
    const char *what = "seccomp_init";

    if (!ctx) {
        rc = -ENOMEM;
        goto out;
    }
    what = "seccomp arch";
    /* The payload may exec 32-bit binaries; the list must hold on every ABI the kernel
     * accepts from a x86-64 process. x32 shares the x86-64 rules; x86 has its own filter
     * (add_socket_x86), merged in below. */
    if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
        if ((rc = seccomp_arch_add(ctx, SCMP_ARCH_X32)) < 0 && rc != -EEXIST)
            goto out;
        ctx32 = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx32) {
            rc = -ENOMEM;
            goto out;
        }
        if ((rc = seccomp_arch_add(ctx32, SCMP_ARCH_X86)) < 0 ||
            (rc = seccomp_arch_remove(ctx32, SCMP_ARCH_NATIVE)) < 0)
            goto out;
    }
    what = "seccomp rule";
    if ((rc = add_common(ctx)) < 0)
        goto out;
    if (c->inet_filter) {
        if ((rc = add(ctx, "socket", EPERM, 1, SCMP_A0(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, AF_INET))) <
            0)
            goto out;
        if ((rc = add(ctx, "socket", EPERM, 1,
                      SCMP_A0(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, AF_INET6))) < 0)
            goto out;
    }
    if ((rc = add_socket_families(ctx, c->unix_only)) < 0)
        goto out;
    if (ctx32) {
        what = "seccomp x86 rule";
        if ((rc = add_socket_x86(ctx32)) < 0 || (rc = add_common(ctx32)) < 0)
            goto out;
        what = "seccomp merge";
        if ((rc = seccomp_merge(ctx, ctx32)) < 0)
            goto out;
        ctx32 = NULL; /* the merge released it */
    }

    /* Export to memory through a memfd: libseccomp 2.5 has no in-memory export. */
    what = "seccomp export";
    memfd = memfd_create("sbx-filter", MFD_CLOEXEC);
    if (memfd < 0) {
        rc = -errno;
        goto out;
    }
    if ((rc = seccomp_export_bpf(ctx, memfd)) < 0)
        goto out;
    struct stat sb;
    if (fstat(memfd, &sb) < 0 || sb.st_size <= 0 ||
        sb.st_size % (off_t)sizeof(struct sock_filter)) {
        rc = -EINVAL;
        goto out;
    }
    struct sock_filter *prog = malloc((size_t)sb.st_size);
    if (!prog) {
        rc = -ENOMEM;
        goto out;
    }
    if (pread(memfd, prog, (size_t)sb.st_size, 0) != sb.st_size) {
        free(prog);
        rc = -EIO;
        goto out;
    }
    c->filter.filter = prog;
    c->filter.len = (unsigned short)(sb.st_size / (off_t)sizeof(struct sock_filter));
    rc = 0;
out:
    if (memfd >= 0)
        close(memfd);
    if (ctx)
        seccomp_release(ctx);
    if (ctx32)
        seccomp_release(ctx32);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", what, strerror(-rc));
    return rc < 0 ? -1 : 0;
}
