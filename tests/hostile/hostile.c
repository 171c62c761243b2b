/*
 * hostile.c: a hostile user strategy for the sandbox's hostile suite (tests/hostile/).
 *
 * Deployed like any user strategy: the engine runs `./hostile MODE [ARGS...] --data data.csv
 * --params JSON` in /work inside the sandbox. MODE picks the attack; each mode reports what
 * happened on stdout ("OK ..." / "ERR ... errno") so the test can assert on it, and ends with a
 * valid "@@result" so that only the engine's own checks can make the deployment fail.
 * Arguments after MODE stop at the first "--".
 *
 *   tree DEPTH WIDTH [linger]
 *                     leave a tree in the cwd: a chain of DEPTH nested directories, WIDTH
 *                     files in one directory, FIFOs, symlinks to / and to .., a socket file,
 *                     and directories with modes 000 and 0500 (with entries inside); with
 *                     "linger", print "tree done" and wait forever instead of exiting
 *   fill MB           write up to MB MiB into big.bin in 1 MiB chunks until ENOSPC
 *   files N           create up to N empty files until ENOSPC
 *   sockets           try socket() for every family 0..63 and type (stream, dgram, raw,
 *                     seqpacket), every netlink protocol, socketpair for every family, a
 *                     family with high bits set, and the x86 socketcall through int $0x80
 *   udp PORT ADDR     send a UDP datagram to the host's 127.0.0.1:PORT and a DNS query to
 *                     ADDR:53 (the host's resolver); print "SENT ..." or "ERR ... errno"
 *   linger TOKEN      fork a setsid'ed child that ignores SIGTERM, then both sleep forever;
 *                     TOKEN is only on the command line, for the test to find them
 *   selfstat          report the link count of its own uploaded file and try to write to it
 *
 * Static (-static) so it runs in the sandbox's minimal root.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

static void result(const char *mode)
{
    printf("@@result {\"mode\":\"%s\"}\n", mode);
    fflush(stdout);
}

static long arg_num(int argc, char **argv, int i, long def)
{
    return i < argc && strcmp(argv[i], "--") != 0 ? strtol(argv[i], NULL, 10) : def;
}

static int tree(long depth, long width, int stay)
{
    char name[64];
    int fails = 0;

    /* Odd entries at the top. */
    if (mkfifo("fifo", 0600) != 0)
        fails++;
    if (symlink("/", "root-link") != 0 || symlink("..", "up-link") != 0)
        fails++;
    {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof a.sun_path, "sock");
        if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0)
            fails++;
    }
    /* Directories we may not enter or change. */
    if (mkdir("locked", 0700) != 0 || mkdir("locked/inner", 0700) != 0 ||
        mkfifo("locked/inner/fifo", 0600) != 0 || chmod("locked/inner", 0) != 0 ||
        chmod("locked", 0) != 0)
        fails++;
    if (mkdir("readonly", 0700) != 0 || close(open("readonly/f", O_CREAT | O_WRONLY, 0)) != 0 ||
        chmod("readonly", 0500) != 0)
        fails++;
    /* Many entries in one directory. */
    if (mkdir("wide", 0700) != 0)
        fails++;
    for (long i = 0; i < width; i++) {
        snprintf(name, sizeof name, "wide/f%ld", i);
        int fd = open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) {
            fails++;
            break;
        }
        close(fd);
    }
    /* The deep chain, built with relative steps (no path is ever longer than "d"). */
    int top = open(".", O_RDONLY | O_DIRECTORY);
    long made = 0;
    for (; made < depth; made++)
        if (mkdir("d", 0700) != 0 || chdir("d") != 0)
            break;
    if (made < depth)
        fails++;
    if (mkfifo("deep-fifo", 0600) != 0 || symlink("/", "deep-root") != 0)
        fails++;
    if (fchdir(top) != 0)
        fails++;
    printf("tree depth %ld width %ld fails %d\n", made, width, fails);
    if (stay) {
        printf("tree done\n");
        fflush(stdout);
        for (;;)
            pause();
    }
    result("tree");
    return 0;
}

static int fill(long mb)
{
    static char chunk[1 << 20];
    long done = 0;
    memset(chunk, 'x', sizeof chunk);
    int fd = open("big.bin", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        printf("ERR open %d\n", errno);
        result("fill");
        return 0;
    }
    for (; done < mb; done++) {
        size_t off = 0;
        while (off < sizeof chunk) {
            ssize_t w = write(fd, chunk + off, sizeof chunk - off);
            if (w <= 0) {
                printf("ERR write after %ld MiB: %d\n", done, w < 0 ? errno : 0);
                goto out;
            }
            off += (size_t)w;
        }
    }
out:
    close(fd);
    printf("wrote %ld MiB\n", done);
    result("fill"); /* claims success either way: only the engine can tell */
    return 0;
}

static int files(long n)
{
    char name[64];
    long i = 0;
    for (; i < n; i++) {
        snprintf(name, sizeof name, "f%ld", i);
        int fd = open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0) {
            printf("ERR create after %ld files: %d\n", i, errno);
            break;
        }
        close(fd);
    }
    printf("created %ld files\n", i);
    result("files");
    return 0;
}

/* socketcall(SYS_SOCKET, {family, type, 0}) through the 32-bit entry: the x86 ABI's
 * multiplexer, whose arguments live in memory. Returns the fd or -errno. */
static long socketcall32(int family, int type)
{
#if defined(__x86_64__)
    uint32_t *args =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (args == MAP_FAILED)
        return -errno;
    args[0] = (uint32_t)family;
    args[1] = (uint32_t)type;
    args[2] = 0;
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(102 /* i386 socketcall */), "b"(1 /* SYS_SOCKET */), "c"(args)
                     : "memory");
    munmap(args, 4096);
    return ret;
#else
    (void)family;
    (void)type;
    return -ENOSYS;
#endif
}

static void udp_to(const char *what, const char *addr, int port, const void *msg, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
        printf("ERR %s socket %d\n", what, errno);
    } else if (sendto(s, msg, n, 0, (struct sockaddr *)&a, sizeof a) < 0) {
        printf("ERR %s sendto %d\n", what, errno);
    } else {
        printf("SENT %s\n", what);
    }
    if (s >= 0)
        close(s);
}

static int udp(int port, const char *resolver)
{
    /* A DNS query for example.com, type A. */
    static const unsigned char q[] = {0x12, 0x34, 1,   0,   0,   1,   0,   0,   0,   0,
                                      0,    0,    7,   'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                      3,    'c',  'o', 'm', 0,   0,   1,   0,   1};
    udp_to("udp", "127.0.0.1", port, "hostile datagram", 16);
    udp_to("dns", resolver, 53, q, sizeof q);
    result("udp");
    return 0;
}

static int sockets(void)
{
    static const int types[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET};
    for (int fam = 0; fam < 64; fam++)
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            int s = socket(fam, types[t] | SOCK_CLOEXEC, 0);
            if (s >= 0) {
                printf("OK socket %d %d\n", fam, types[t]);
                close(s);
            } else {
                printf("ERR socket %d %d %d\n", fam, types[t], errno);
            }
        }
    for (int proto = 0; proto < 32; proto++) {
        int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
        if (s >= 0) {
            printf("OK netlink %d\n", proto);
            close(s);
        } else {
            printf("ERR netlink %d %d\n", proto, errno);
        }
    }
    for (int fam = 0; fam < 64; fam++) {
        int sv[2];
        if (socketpair(fam, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0 ||
            socketpair(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0) {
            printf("OK socketpair %d\n", fam);
            close(sv[0]);
            close(sv[1]);
        }
    }
    /* AF_VSOCK with a high bit the kernel ignores (the domain is an int). */
    long s = syscall(SYS_socket, 0x100000000L | 40, SOCK_STREAM, 0);
    if (s >= 0)
        printf("OK highbit 40\n");
    else
        printf("ERR highbit 40 %d\n", errno);
    static const int fams32[] = {1, 2, 16, 17, 40};
    for (size_t i = 0; i < sizeof fams32 / sizeof fams32[0]; i++) {
        long r =
            socketcall32(fams32[i], fams32[i] == 17 || fams32[i] == 16 ? SOCK_RAW : SOCK_STREAM);
        if (r >= 0)
            printf("OK socketcall32 %d\n", fams32[i]);
        else
            printf("ERR socketcall32 %d %ld\n", fams32[i], -r);
    }
    result("sockets");
    return 0;
}

static __attribute__((noreturn)) void linger(void)
{
    signal(SIGTERM, SIG_IGN);
    pid_t p = fork();
    if (p == 0) {
        setsid();
        for (;;)
            pause();
    }
    printf("lingering %d\n", (int)p);
    fflush(stdout);
    for (;;)
        pause();
}

static int selfstat(const char *self)
{
    struct stat st;
    if (stat(self, &st) != 0) {
        printf("ERR stat %d\n", errno);
    } else {
        printf("nlink %ld\n", (long)st.st_nlink);
    }
    int fd = open(self, O_WRONLY | O_APPEND);
    printf(fd >= 0 ? "OK write-open\n" : "ERR write-open %d\n", errno);
    if (fd >= 0)
        close(fd);
    result("selfstat");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "tree"))
        return tree(arg_num(argc, argv, 2, 1000), arg_num(argc, argv, 3, 1000),
                    argc > 4 && !strcmp(argv[4], "linger"));
    if (!strcmp(mode, "fill"))
        return fill(arg_num(argc, argv, 2, 64));
    if (!strcmp(mode, "files"))
        return files(arg_num(argc, argv, 2, 100000));
    if (!strcmp(mode, "sockets"))
        return sockets();
    if (!strcmp(mode, "udp") && argc > 3)
        return udp((int)arg_num(argc, argv, 2, 0), argv[3]);
    if (!strcmp(mode, "linger"))
        linger();
    if (!strcmp(mode, "selfstat"))
        return selfstat(argv[0]);
    fprintf(stderr, "hostile: unknown mode '%s'\n", mode);
    return 2;
}
