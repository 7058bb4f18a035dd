/* KernelSim realcheck probe: asks a real kernel the facts the simulator models (docs/crosscheck.md,
 * "Facts checked on real kernels"). Runs as root (pid 1's child) in the initramfs that run.sh builds.
 * Every line is "key value": no pointers, no times, so the same kernel prints the same text.
 * Each group runs in a forked child so a kill or a poisoned page cannot spoil the next one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define MFD_CLOEXEC_ 1u
#define MFD_ALLOW_SEALING_ 2u
#define MFD_HUGETLB_ 4u
#define MFD_NOEXEC_SEAL_ 8u
#define MFD_EXEC_ 0x10u
#define F_ADD_SEALS_ 1033
#define F_GET_SEALS_ 1034
#define F_SEAL_SEAL_ 1
#define F_SEAL_SHRINK_ 2
#define F_SEAL_GROW_ 4
#define F_SEAL_WRITE_ 8
#define F_SEAL_FUTURE_WRITE_ 0x10
#define F_SEAL_EXEC_ 0x20
#define PG 4096L

static void out(const char *k, long v) { printf("%s %ld\n", k, v); fflush(stdout); }
static long rv(long r) { return r < 0 ? -errno : r; }
#define R(k, call) out(k, rv((long)(call)))

static int memfd(const char *name, unsigned flags) { return (int)syscall(SYS_memfd_create, name, flags); }

/* --- signals: record si_code, si_addr relative to a base, si_addr_lsb; longjmp only while touching --- */
static sigjmp_buf jb;
static volatile int touching, nsig, sig_code, sig_lsb, sig_no;
static volatile long sig_off;
static char *volatile sig_base;
static void on_sig(int s, siginfo_t *si, void *uc)
{
    (void)uc;
    nsig++; sig_no = s; sig_code = si->si_code; sig_lsb = si->si_addr_lsb;
    sig_off = sig_base ? (long)((char *)si->si_addr - sig_base) : -1;
    if (touching) siglongjmp(jb, 1);
}
static void handlers(void)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = on_sig; sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGBUS, &sa, 0); sigaction(SIGSEGV, &sa, 0);
}
static void sigs(const char *k)
{
    if (nsig) printf("%s.signal %d code=%d off=%ld lsb=%d n=%d\n", k, sig_no, sig_code, sig_off, sig_lsb, nsig);
    else printf("%s.signal none\n", k);
    fflush(stdout); nsig = 0;
}
/* A load at p; prints the byte or the signal. */
static void touch(const char *k, char *p)
{
    nsig = 0;
    if (sigsetjmp(jb, 1) == 0) { touching = 1; volatile char c = *(volatile char *)p; touching = 0; printf("%s.load %d\n", k, c); fflush(stdout); }
    touching = 0; sigs(k);
}
static void madv(const char *k, void *p, size_t len, int adv)
{
    nsig = 0; long r = rv(madvise(p, len, adv)); char b[96];
    snprintf(b, sizeof b, "%s.madvise", k); out(b, r);
    sigs(b);
}

/* --- pagemap, kpageflags, meminfo --- */
static uint64_t pagemap(void *p)
{
    uint64_t e = 0; int fd = open("/proc/self/pagemap", O_RDONLY);
    if (pread(fd, &e, 8, (off_t)((uintptr_t)p / PG) * 8) != 8) e = (uint64_t)-1;
    close(fd); return e;
}
static uint64_t pfn_of(uint64_t e) { return e & ((1ULL << 55) - 1); }
static void pm(const char *k, void *p)
{
    uint64_t e = pagemap(p);
    printf("%s.pagemap present=%d swap=%d file=%d excl=%d sd=%d uffdwp=%d swaptype=%d\n", k, (int)(e >> 63 & 1), (int)(e >> 62 & 1),
        (int)(e >> 61 & 1), (int)(e >> 56 & 1), (int)(e >> 55 & 1), (int)(e >> 57 & 1), (e >> 62 & 1) ? (int)(e & 31) : -1);
    fflush(stdout);
}
static uint64_t kpf(uint64_t pfn)
{
    uint64_t f = 0; int fd = open("/proc/kpageflags", O_RDONLY);
    if (pread(fd, &f, 8, (off_t)pfn * 8) != 8) f = (uint64_t)-1;
    close(fd); return f;
}
static long meminfo(const char *key)
{
    char line[256]; long v = -1; FILE *f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f)) if (!strncmp(line, key, strlen(key))) v = atol(line + strlen(key) + 1);
    if (f) fclose(f);
    return v;
}
static long write_str(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY); if (fd < 0) return -errno;
    long r = rv(write(fd, s, strlen(s))); close(fd); return r;
}
static long unpoison(uint64_t pfn)
{
    char b[32]; snprintf(b, sizeof b, "%llu", (unsigned long long)pfn);
    return write_str("/sys/kernel/debug/hwpoison/unpoison-pfn", b);
}
static void vmflags(const char *k, void *addr)
{
    char line[512], want[32]; int in = 0; FILE *f = fopen("/proc/self/smaps", "r");
    snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, want, strlen(want))) in = 1;
        else if (in && !strncmp(line, "VmFlags:", 8)) { printf("%s.%s", k, line); break; }
    }
    if (f) fclose(f);
    fflush(stdout);
}

/* ===== groups ===== */

static void mapsync(const char *dir, const char *name);
static void g_mmap(void)
{
    mapsync("/tmp", "tmpfs"); mapsync("/mnt/ramfs", "ramfs");
    void *a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_SYNC, -1, 0);
    out("mmap.anon.shared_sync", a == MAP_FAILED ? -errno : 0); if (a != MAP_FAILED) { vmflags("mmap.anon.shared_sync", a); munmap(a, PG); }
    a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_SYNC, -1, 0);
    out("mmap.anon.validate_sync", a == MAP_FAILED ? -errno : 0); if (a != MAP_FAILED) { vmflags("mmap.anon.validate_sync", a); munmap(a, PG); }
    a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_SYNC, -1, 0);
    out("mmap.anon.private_sync", a == MAP_FAILED ? -errno : 0); if (a != MAP_FAILED) { vmflags("mmap.anon.private_sync", a); munmap(a, PG); }
}

static void g_memfd(void)
{
    char name[300]; memset(name, 'a', sizeof name);
    name[249] = 0; { int fd = memfd(name, 0); out("memfd.name249", fd < 0 ? -errno : 0); if (fd >= 0) close(fd); }
    name[249] = 'a'; name[250] = 0; { int fd = memfd(name, 0); out("memfd.name250", fd < 0 ? -errno : 0); }
    unsigned fl[] = { 0x20, 0x40, 0x80000000u, MFD_EXEC_, MFD_NOEXEC_SEAL_, MFD_EXEC_ | MFD_NOEXEC_SEAL_, MFD_HUGETLB_, MFD_HUGETLB_ | MFD_ALLOW_SEALING_,
        MFD_NOEXEC_SEAL_ | MFD_HUGETLB_, 26u << 26, MFD_HUGETLB_ | (21u << 26), MFD_HUGETLB_ | (22u << 26) };
    for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        char k[64]; snprintf(k, sizeof k, "memfd.flags_%#x", fl[i]);
        int fd = memfd("x", fl[i]); out(k, fd < 0 ? -errno : 0);
        if (fd >= 0) {
            struct stat st; fstat(fd, &st);
            printf("%s.mode %o seals %ld\n", k, st.st_mode & 07777, rv(fcntl(fd, F_GET_SEALS_))); fflush(stdout); close(fd);
        }
    }
    { int fd = memfd(NULL, 0); out("memfd.null_name", fd < 0 ? -errno : 0); }
    { int fd = memfd("x", 0); struct stat st; fstat(fd, &st);
      printf("memfd.plain.mode %o seals %ld\n", st.st_mode & 07777, rv(fcntl(fd, F_GET_SEALS_)));
      R("memfd.plain.add_write", fcntl(fd, F_ADD_SEALS_, F_SEAL_WRITE_)); close(fd); }
    { int fd = memfd("x", MFD_ALLOW_SEALING_); out("memfd.seal.get", rv(fcntl(fd, F_GET_SEALS_)));
      R("memfd.seal.add_unknown40", fcntl(fd, F_ADD_SEALS_, 0x40));
      { int e = memfd("x", MFD_ALLOW_SEALING_); R("memfd.exec.add_exec", fcntl(e, F_ADD_SEALS_, F_SEAL_EXEC_));
        out("memfd.exec.get_after_exec", rv(fcntl(e, F_GET_SEALS_)));
        R("memfd.exec.chmod_after_exec", fchmod(e, 0700)); R("memfd.exec.chmod_after_exec_same", fchmod(e, 0777)); close(e); }
      { int e = memfd("x", MFD_ALLOW_SEALING_); fchmod(e, 0666); R("memfd.exec_nox.add_exec", fcntl(e, F_ADD_SEALS_, F_SEAL_EXEC_));
        out("memfd.exec_nox.get_after_exec", rv(fcntl(e, F_GET_SEALS_))); R("memfd.exec_nox.chmod", fchmod(e, 0777)); close(e); }
      R("memfd.seal.ftruncate", ftruncate(fd, 2 * PG));
      void *a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      R("memfd.seal.add_write_while_mapped", fcntl(fd, F_ADD_SEALS_, F_SEAL_WRITE_));
      munmap(a, PG);
      R("memfd.seal.add_write", fcntl(fd, F_ADD_SEALS_, F_SEAL_WRITE_));
      R("memfd.seal.write_after", write(fd, "x", 1));
      R("memfd.seal.pwrite_after", pwrite(fd, "x", 1, 0));
      a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); out("memfd.seal.mmap_shared_rw_after", a == MAP_FAILED ? -errno : 0);
      a = mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0); out("memfd.seal.mmap_shared_ro_after", a == MAP_FAILED ? -errno : 0);
      if (a != MAP_FAILED) { R("memfd.seal.mprotect_w_after", mprotect(a, PG, PROT_READ | PROT_WRITE)); munmap(a, PG); }
      a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0); out("memfd.seal.mmap_private_rw_after", a == MAP_FAILED ? -errno : 0);
      R("memfd.seal.add_shrink", fcntl(fd, F_ADD_SEALS_, F_SEAL_SHRINK_ | F_SEAL_GROW_));
      R("memfd.seal.shrink", ftruncate(fd, PG)); R("memfd.seal.grow", ftruncate(fd, 3 * PG)); R("memfd.seal.same", ftruncate(fd, 2 * PG));
      R("memfd.seal.fallocate_grow", fallocate(fd, 0, 0, 4 * PG));
      R("memfd.seal.punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PG));
      R("memfd.seal.add_seal", fcntl(fd, F_ADD_SEALS_, F_SEAL_SEAL_));
      R("memfd.seal.add_after_seal", fcntl(fd, F_ADD_SEALS_, F_SEAL_GROW_));
      R("memfd.seal.add_zero_after_seal", fcntl(fd, F_ADD_SEALS_, 0));
      out("memfd.seal.final", rv(fcntl(fd, F_GET_SEALS_))); close(fd); }
    { int fd = memfd("x", MFD_ALLOW_SEALING_); ftruncate(fd, PG);
      R("memfd.fw.add", fcntl(fd, F_ADD_SEALS_, F_SEAL_FUTURE_WRITE_));
      R("memfd.fw.write", write(fd, "x", 1));
      void *a = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); out("memfd.fw.mmap_shared_rw", a == MAP_FAILED ? -errno : 0);
      a = mmap(0, PG, PROT_READ, MAP_SHARED, fd, 0); out("memfd.fw.mmap_shared_ro", a == MAP_FAILED ? -errno : 0);
      if (a != MAP_FAILED) R("memfd.fw.mprotect_w", mprotect(a, PG, PROT_READ | PROT_WRITE));
      out("memfd.fw.get", rv(fcntl(fd, F_GET_SEALS_))); close(fd); }
    { int fd = memfd("x", MFD_ALLOW_SEALING_); char p[64]; snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
      int ro = open(p, O_RDONLY); R("memfd.rofd.add", fcntl(ro, F_ADD_SEALS_, F_SEAL_GROW_)); out("memfd.rofd.get", rv(fcntl(ro, F_GET_SEALS_))); }
    { int fd = open("/tmp/sealfile", O_RDWR | O_CREAT, 0644); out("seal.tmpfs.get", rv(fcntl(fd, F_GET_SEALS_)));
      R("seal.tmpfs.add", fcntl(fd, F_ADD_SEALS_, F_SEAL_GROW_)); close(fd); }
    { int fd = open("/mnt/ramfs/sealfile", O_RDWR | O_CREAT, 0644); out("seal.ramfs.get", rv(fcntl(fd, F_GET_SEALS_)));
      R("seal.ramfs.add", fcntl(fd, F_ADD_SEALS_, F_SEAL_GROW_)); close(fd); }
    { char b[64]; int fd = memfd("hello", 0); snprintf(b, sizeof b, "/proc/self/fd/%d", fd);
      char t[128] = {0}; readlink(b, t, sizeof t - 1); printf("memfd.link %s\n", t); fflush(stdout); }
    { char b[16] = {0}; int fd = open("/proc/sys/vm/memfd_noexec", O_RDONLY); long n = rv(read(fd, b, 15));
      printf("memfd.sysctl_noexec %ld %s\n", n, n > 0 ? b : ""); fflush(stdout); }
}

static void stx(const char *k, const char *path)
{
    struct statx s; memset(&s, 0, sizeof s);
    long r = rv(syscall(SYS_statx, AT_FDCWD, path, 0, STATX_BASIC_STATS | STATX_BTIME, &s));
    printf("%s.statx %ld mask=%#x attributes=%#llx attributes_mask=%#llx blksize=%u\n", k, r, s.stx_mask,
        (unsigned long long)s.stx_attributes, (unsigned long long)s.stx_attributes_mask, s.stx_blksize);
    fflush(stdout);
}
struct fsxattr_ { uint32_t xflags, extsize, nextents, projid, cowextsize; unsigned char pad[8]; };
static void mapsync(const char *dir, const char *name)
{
    {
        char path[64], k[96]; snprintf(path, sizeof path, "%s/mapsync", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644); ftruncate(fd, 2 * PG);
        struct { const char *n; int fl; } c[] = {
            { "shared_sync", MAP_SHARED | MAP_SYNC }, { "validate_sync", MAP_SHARED_VALIDATE | MAP_SYNC },
            { "validate_unknown200000", MAP_SHARED_VALIDATE | 0x200000 }, { "shared_unknown200000", MAP_SHARED | 0x200000 },
            { "validate_noreplace", MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE }, { "shared_noreplace", MAP_SHARED | MAP_FIXED_NOREPLACE },
            { "private_sync", MAP_PRIVATE | MAP_SYNC }, { "validate_plain", MAP_SHARED_VALIDATE },
        };
        for (unsigned j = 0; j < sizeof c / sizeof c[0]; j++) {
            void *hint = (c[j].fl & MAP_FIXED_NOREPLACE) ? (void *)0x500000000000UL : 0;
            void *a = mmap(hint, PG, PROT_READ | PROT_WRITE, c[j].fl, fd, 0);
            snprintf(k, sizeof k, "mmap.%s.%s", name, c[j].n);
            out(k, a == MAP_FAILED ? -errno : 0);
            if (a != MAP_FAILED) { vmflags(k, a); munmap(a, PG); }
        }
        close(fd);
    }
}

static void g_stat(void)
{
    int t = open("/tmp/st", O_RDWR | O_CREAT, 0644); write(t, "abc", 3);
    int r = open("/mnt/ramfs/st", O_RDWR | O_CREAT, 0644); write(r, "abc", 3);
    int m = memfd("st", 0); write(m, "abc", 3);
    stx("stat.tmpfs", "/tmp/st"); stx("stat.ramfs", "/mnt/ramfs/st"); stx("stat.rootfs", "/init");
    { char p[64]; snprintf(p, sizeof p, "/proc/self/fd/%d", m); stx("stat.memfd", p); }
    int fds[] = { t, r, m }; const char *n[] = { "tmpfs", "ramfs", "memfd" };
    for (int i = 0; i < 3; i++) {
        char k[64]; struct fsxattr_ x; memset(&x, 0, sizeof x); int blk = 0; unsigned fl = 0;
        snprintf(k, sizeof k, "ioctl.%s.fsgetxattr", n[i]); R(k, ioctl(fds[i], FS_IOC_FSGETXATTR, &x));
        printf("%s.xflags %#x\n", k, x.xflags);
        snprintf(k, sizeof k, "ioctl.%s.getflags", n[i]); R(k, ioctl(fds[i], FS_IOC_GETFLAGS, &fl));
        printf("%s.flags %#x\n", k, fl);
        snprintf(k, sizeof k, "ioctl.%s.fibmap", n[i]); R(k, ioctl(fds[i], FIBMAP, &blk));
        snprintf(k, sizeof k, "ioctl.%s.unknown", n[i]); R(k, ioctl(fds[i], _IO('x', 0x7f), 0));
        x.xflags = 0; snprintf(k, sizeof k, "ioctl.%s.fssetxattr0", n[i]); R(k, ioctl(fds[i], FS_IOC_FSSETXATTR, &x));
    }
}

static void dumpfile(const char *k, const char *path)
{
    char b[4096]; int fd = open(path, O_RDONLY); long n = fd < 0 ? -errno : rv(read(fd, b, sizeof b - 1));
    if (fd >= 0) close(fd);
    if (n < 0) { printf("%s %ld\n", k, n); fflush(stdout); return; }
    b[n] = 0; printf("%s <<\n%s>>\n", k, b); fflush(stdout);
}
#include <dirent.h>
static void ls(const char *k, const char *path)
{
    DIR *d = opendir(path); struct dirent *e; char names[64][64]; int n = 0;
    while (d && (e = readdir(d)) && n < 64) if (e->d_name[0] != '.') snprintf(names[n++], 64, "%s", e->d_name);
    if (d) closedir(d);
    for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) if (strcmp(names[i], names[j]) > 0) { char t[64]; strcpy(t, names[i]); strcpy(names[i], names[j]); strcpy(names[j], t); }
    printf("%s", k); for (int i = 0; i < n; i++) printf(" %s", names[i]); printf("\n"); fflush(stdout);
}
static void g_thp(void)
{
    const char *d = "/sys/kernel/mm/transparent_hugepage";
    ls("thp.ls", d); ls("thp.ls.khugepaged", "/sys/kernel/mm/transparent_hugepage/khugepaged"); ls("thp.ls.hugepages-2048kB", "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB");
    const char *f[] = { "enabled", "defrag", "use_zero_page", "hpage_pmd_size", "shmem_enabled", "khugepaged/defrag",
        "khugepaged/pages_to_scan", "khugepaged/scan_sleep_millisecs", "khugepaged/alloc_sleep_millisecs",
        "khugepaged/max_ptes_none", "khugepaged/max_ptes_swap", "khugepaged/max_ptes_shared", "khugepaged/pages_collapsed",
        "khugepaged/full_scans", "hugepages-2048kB/enabled", "hugepages-2048kB/shmem_enabled", "hugepages-64kB/enabled", "shrink_underused" };
    for (unsigned i = 0; i < sizeof f / sizeof f[0]; i++) { char p[256], k[128]; snprintf(p, sizeof p, "%s/%s", d, f[i]); snprintf(k, sizeof k, "thp.%s", f[i]); dumpfile(k, p); }
    struct { const char *f, *v; } w[] = {
        { "enabled", "madvise" }, { "enabled", "madvise\n" }, { "enabled", "bogus" }, { "enabled", "" }, { "enabled", " never" }, { "enabled", "never " }, { "enabled", "always" },
        { "defrag", "defer+madvise" }, { "defrag", "defer" }, { "defrag", "xx" }, { "defrag", "madvise" },
        { "use_zero_page", "0" }, { "use_zero_page", "2" }, { "use_zero_page", "x" }, { "use_zero_page", "1" },
        { "hpage_pmd_size", "4096" }, { "shmem_enabled", "advise" }, { "shmem_enabled", "force" }, { "shmem_enabled", "deny" }, { "shmem_enabled", "inherit" }, { "shmem_enabled", "never" },
        { "khugepaged/defrag", "0" }, { "khugepaged/defrag", "2" }, { "khugepaged/defrag", "1" },
        { "khugepaged/max_ptes_none", "512" }, { "khugepaged/max_ptes_none", "511" }, { "khugepaged/pages_to_scan", "0" }, { "khugepaged/pages_collapsed", "1" },
        { "hugepages-2048kB/enabled", "inherit" }, { "hugepages-2048kB/enabled", "never" }, { "hugepages-2048kB/enabled", "bogus" },
    };
    for (unsigned i = 0; i < sizeof w / sizeof w[0]; i++) {
        char p[256], k[128]; snprintf(p, sizeof p, "%s/%s", d, w[i].f); snprintf(k, sizeof k, "thp.write.%s=[%s]", w[i].f, w[i].v);
        for (char *c = k; *c; c++) if (*c == '\n') *c = '~';
        out(k, write_str(p, w[i].v));
    }
    dumpfile("thp.enabled.after", "/sys/kernel/mm/transparent_hugepage/enabled");
    dumpfile("thp.defrag.after", "/sys/kernel/mm/transparent_hugepage/defrag");
    dumpfile("thp.hugepages-2048kB/enabled.after", "/sys/kernel/mm/transparent_hugepage/hugepages-2048kB/enabled");
}

static void g_proc(void)
{
    char *a = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); a[0] = 1;
    char line[512], want[32]; int in = 0; FILE *f = fopen("/proc/self/smaps", "r");
    snprintf(want, sizeof want, "%lx-", (unsigned long)a);
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, want, strlen(want))) { in = 1; printf("smaps.anon.header %s", strchr(line, ' ') + 1); continue; }
        if (in) { if (strchr(line, '-') && line[0] != ' ' && strchr(line, ':') == NULL) break; printf("smaps.anon %s", line); if (!strncmp(line, "VmFlags", 7)) break; }
    }
    if (f) fclose(f);
    char *s = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0); s[0] = 1; vmflags("smaps.shanon", s);
    f = fopen("/proc/self/maps", "r"); snprintf(want, sizeof want, "%lx-", (unsigned long)s);
    while (f && fgets(line, sizeof line, f)) if (!strncmp(line, want, strlen(want))) printf("maps.shanon %s", strchr(line, ' ') + 1);
    if (f) fclose(f);
    R("prctl.set_name", prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz"));
    char nm[32] = {0}; prctl(PR_GET_NAME, nm); printf("prctl.get_name %s\n", nm);
    f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f)) printf("status %s", line);
    if (f) fclose(f);
    dumpfile("comm", "/proc/self/comm");
    out("comm.write16", write_str("/proc/self/comm", "0123456789abcdefXYZ")); dumpfile("comm.after", "/proc/self/comm");
    char pp[64]; snprintf(pp, sizeof pp, "/proc/%d/comm", getppid()); out("comm.write_parent", write_str(pp, "x"));
    fflush(stdout);
}

static void child_sigbus(int how, long core)
{
    struct rlimit rl = { (rlim_t)core, (rlim_t)core }; setrlimit(RLIMIT_CORE, &rl);
    if (how == 0) kill(getpid(), SIGBUS);
    int fd = open("/tmp/short", O_RDWR | O_CREAT | O_TRUNC, 0644); ftruncate(fd, 10);
    char *p = mmap(0, 2 * PG, PROT_READ, MAP_SHARED, fd, 0); volatile char c = p[PG]; (void)c;
    _exit(9);
}
static void g_wait(void)
{
    chdir("/tmp");
    long cores[] = { 0, 4095, 4096, -1 };
    for (int how = 0; how < 2; how++) for (int i = 0; i < 4; i++) {
        pid_t c = fork(); if (!c) child_sigbus(how, cores[i]);
        int st = 0; pid_t r = waitpid(c, &st, 0);
        printf("wait.%s.core%ld %s status=%#x\n", how ? "fault" : "kill", cores[i], r == c ? "ok" : "err", st); fflush(stdout);
    }
    pid_t c = fork(); if (!c) _exit(300);
    int st; waitpid(c, &st, 0); printf("wait.exit300 status=%#x\n", st);
    R("wait.nochild", waitpid(-1, &st, 0));
    R("wait.badopt", waitpid(-1, &st, 0x1000));
    c = fork(); if (!c) _exit(1);
    R("wait.badopt_with_child", waitpid(-1, &st, 0x1000)); waitpid(c, &st, 0);
}

static void *mremap5(void *a, size_t o, size_t n, int f, void *na) { return (void *)syscall(SYS_mremap, a, o, n, f, na); }
static void g_mremap(void)
{
    int fd = open("/tmp/mr", O_RDWR | O_CREAT | O_TRUNC, 0644); ftruncate(fd, 8 * PG);
    char *f = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); f[0] = 'f';
    void *r = mremap5(f, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    out("mremap.dontunmap.shared_file", r == MAP_FAILED ? -errno : 0);
    if (r != MAP_FAILED) { printf("mremap.dontunmap.shared_file.new %d old %d\n", ((char *)r)[0], f[0]); vmflags("mremap.dontunmap.shared_file.old", f); }
    char *pf = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0); pf[0] = 'p';
    r = mremap5(pf, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    out("mremap.dontunmap.private_file", r == MAP_FAILED ? -errno : 0);
    if (r != MAP_FAILED) { printf("mremap.dontunmap.private_file.new %d old %d\n", ((char *)r)[0], pf[0]); fflush(stdout); }
    char *sa = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0); sa[0] = 's';
    r = mremap5(sa, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    out("mremap.dontunmap.shared_anon", r == MAP_FAILED ? -errno : 0);
    char *a = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); a[0] = 'a';
    r = mremap5(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
    out("mremap.dontunmap.anon", r == MAP_FAILED ? -errno : 0);
    if (r != MAP_FAILED) { printf("mremap.dontunmap.anon.new %d old %d\n", ((char *)r)[0], a[0]); fflush(stdout); }
    char *b = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    r = mremap5(b, 2 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0); out("mremap.dontunmap.grow", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, 2 * PG, 2 * PG, MREMAP_DONTUNMAP, 0); out("mremap.dontunmap.nomaymove", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b + 1, PG, PG, 0, 0); out("mremap.unaligned", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, 0, PG, 0, 0); out("mremap.oldlen0_private", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, PG, 0, 0, 0); out("mremap.newlen0", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, PG, PG, 8, 0); out("mremap.badflag", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, PG, PG, MREMAP_FIXED, b + 2 * PG); out("mremap.fixed_nomaymove", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, 2 * PG, 2 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, b + PG); out("mremap.fixed_overlap", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, 2 * PG, 2 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, b + 2 * PG + 1); out("mremap.fixed_unaligned", r == MAP_FAILED ? -errno : 0);
    r = mremap5((void *)0x600000000000UL, PG, PG, 0, 0); out("mremap.unmapped", r == MAP_FAILED ? -errno : 0);
    char *c = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); mmap(c + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    r = mremap5(c, 2 * PG, 3 * PG, 0, 0); out("mremap.grow_blocked", r == MAP_FAILED ? -errno : 0);
    r = mremap5(c, 3 * PG, 3 * PG, 0, 0); out("mremap.span_two_vmas", r == MAP_FAILED ? -errno : 0);
    char *z = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    r = mremap5(z, 0, PG, MREMAP_MAYMOVE, 0); out("mremap.oldlen0_shared", r == MAP_FAILED ? -errno : 0);
    r = mremap5(b, PG, PG, MREMAP_FIXED | MREMAP_MAYMOVE, b); out("mremap.fixed_same", r == MAP_FAILED ? -errno : 0);
}

/* ===== hwpoison ===== */
static long *shared_res;   /* pfns handed to the parent for unpoison */

static void poison_case(const char *k, char *p, int fd, int has_file)
{
    sig_base = p;
    uint64_t e0 = pagemap(p), pfn = pfn_of(e0); shared_res[0] = (long)pfn;
    long hc0 = meminfo("HardwareCorrupted");
    printf("%s.before kpf_hwpoison=%d dirty=%d\n", k, (int)(kpf(pfn) >> 19 & 1), (int)(kpf(pfn) >> 4 & 1)); fflush(stdout);
    madv(k, p, PG, MADV_HWPOISON);
    printf("%s.after kpf_hwpoison=%d hardwarecorrupted_delta_kb=%ld\n", k, (int)(kpf(pfn) >> 19 & 1), meminfo("HardwareCorrupted") - hc0);
    pm(k, p);
    char b[96]; snprintf(b, sizeof b, "%s.touch", k); touch(b, p + 0x123);
    snprintf(b, sizeof b, "%s.touch2", k); touch(b, p + 0x456);
    pm(k, p);
    if (has_file) {
        char buf[3 * PG];
        snprintf(b, sizeof b, "%s.pread_page", k); R(b, pread(fd, buf, 16, 0));
        snprintf(b, sizeof b, "%s.pread_across", k); R(b, pread(fd, buf, 3 * PG, 0));
        snprintf(b, sizeof b, "%s.pread_next", k); R(b, pread(fd, buf, 16, PG));
        snprintf(b, sizeof b, "%s.pwrite_page", k); R(b, pwrite(fd, "zz", 2, 8));
        snprintf(b, sizeof b, "%s.fsync", k); R(b, fsync(fd));
        snprintf(b, sizeof b, "%s.fsync2", k); R(b, fsync(fd));
        snprintf(b, sizeof b, "%s.touch_next", k); touch(b, p + PG);
    }
}
static void file_poison(const char *k, const char *path, int mode)
{
    /* mode 0: written with write(2) then mapped; 1: written then fsync'd; 2: stored through the mapping; 3: hole read through the mapping */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644); char buf[2 * PG]; memset(buf, 'w', sizeof buf);
    if (mode == 3) ftruncate(fd, 2 * PG); else write(fd, buf, sizeof buf);
    if (mode == 1) fsync(fd);
    char *p = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (mode == 2) p[0] = 'm'; else { volatile char c = p[0]; (void)c; }
    volatile char c2 = p[PG]; (void)c2;
    poison_case(k, p, fd, 1);
}
static void g_hwpoison_one(int which)
{
    handlers();
    switch (which) {
    case 0: { char *a = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); memset(a, 'a', 2 * PG); poison_case("hwp.anon", a, -1, 0); break; }
    case 1: file_poison("hwp.tmpfs_written", "/tmp/hwp1", 0); break;
    case 2: file_poison("hwp.tmpfs_mapstore", "/tmp/hwp2", 2); break;
    case 3: file_poison("hwp.tmpfs_hole", "/tmp/hwp3", 3); break;
    case 4: file_poison("hwp.ramfs_written", "/mnt/ramfs/hwp4", 0); break;
    case 5: file_poison("hwp.ramfs_fsynced", "/mnt/ramfs/hwp5", 1); break;
    case 6: { char *a = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0); memset(a, 's', 2 * PG); poison_case("hwp.shanon", a, -1, 0); break; }
    case 7: { /* hugetlbfs shared, poison subpage 3 */
        int fd = open("/mnt/huge/f", O_RDWR | O_CREAT | O_TRUNC, 0644);
        char *h = mmap(0, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        out("hwp.hugetlb.mmap", h == MAP_FAILED ? -errno : 0); if (h == MAP_FAILED) break;
        memset(h, 'h', 2 << 20); sig_base = h;
        uint64_t pfn = pfn_of(pagemap(h + 3 * PG)); shared_res[0] = (long)pfn; shared_res[1] = (long)pfn_of(pagemap(h));
        long hc0 = meminfo("HardwareCorrupted"), fr0 = meminfo("HugePages_Free");
        madv("hwp.hugetlb", h + 3 * PG, PG, MADV_HWPOISON);
        printf("hwp.hugetlb.after kpf_hwpoison_sub=%d kpf_hwpoison_head=%d hardwarecorrupted_delta_kb=%ld hugepages_free_delta=%ld\n",
            (int)(kpf(pfn) >> 19 & 1), (int)(kpf(pfn_of(pagemap(h)) ) >> 19 & 1), meminfo("HardwareCorrupted") - hc0, meminfo("HugePages_Free") - fr0);
        touch("hwp.hugetlb.touch_sub", h + 3 * PG + 0x123);
        touch("hwp.hugetlb.touch_other", h + 7 * PG + 0x10);
        static char buf[2 << 20];
        R("hwp.hugetlb.pread_all", pread(fd, buf, 2 << 20, 0));
        R("hwp.hugetlb.pread_at0_16", pread(fd, buf, 16, 0));
        R("hwp.hugetlb.pread_sub", pread(fd, buf, 16, 3 * PG));
        R("hwp.hugetlb.pread_after", pread(fd, buf, 16, 5 * PG));
        break; }
    case 8: { char *h = mmap(0, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        out("hwp.hugeanon.mmap", h == MAP_FAILED ? -errno : 0); if (h == MAP_FAILED) break;
        memset(h, 'h', 2 << 20); sig_base = h;
        madv("hwp.hugeanon", h + 5 * PG, PG, MADV_HWPOISON);
        touch("hwp.hugeanon.touch_sub", h + 5 * PG + 0x7);
        touch("hwp.hugeanon.touch_other", h + 0x10);
        break; }
    case 9: { char *a = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); memset(a, 'o', 2 * PG); sig_base = a;
        uint64_t pfn = pfn_of(pagemap(a)); shared_res[0] = (long)pfn; long hc0 = meminfo("HardwareCorrupted");
        madv("hwp.softoffline_anon", a, PG, MADV_SOFT_OFFLINE);
        uint64_t npfn = pfn_of(pagemap(a));
        printf("hwp.softoffline_anon.after pfn_changed=%d old_kpf_hwpoison=%d new_kpf_hwpoison=%d hardwarecorrupted_delta_kb=%ld\n", npfn != pfn,
            (int)(kpf(pfn) >> 19 & 1), (int)(kpf(npfn) >> 19 & 1), meminfo("HardwareCorrupted") - hc0);
        pm("hwp.softoffline_anon", a); touch("hwp.softoffline_anon.touch", a + 0x10);
        madv("hwp.softoffline_anon.again", a, PG, MADV_SOFT_OFFLINE);
        break; }
    case 10: { int fd = open("/tmp/so", O_RDWR | O_CREAT | O_TRUNC, 0644); char buf[2 * PG]; memset(buf, 'q', sizeof buf); write(fd, buf, sizeof buf);
        char *a = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0); volatile char c = a[0]; (void)c; sig_base = a;
        uint64_t pfn = pfn_of(pagemap(a)); shared_res[0] = (long)pfn;
        madv("hwp.softoffline_tmpfs", a, PG, MADV_SOFT_OFFLINE);
        printf("hwp.softoffline_tmpfs.after pfn_changed=%d old_kpf_hwpoison=%d\n", pfn_of(pagemap(a)) != pfn, (int)(kpf(pfn) >> 19 & 1));
        touch("hwp.softoffline_tmpfs.touch", a + 0x10); R("hwp.softoffline_tmpfs.pread", pread(fd, buf, 16, 0));
        break; }
    case 11: { /* MADV_HWPOISON twice on one page, and on an unmapped range */
        char *a = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); memset(a, 'a', 2 * PG); sig_base = a;
        madv("hwp.twice.first", a, PG, MADV_HWPOISON); madv("hwp.twice.second", a, PG, MADV_HWPOISON);
        munmap(a + PG, PG); madv("hwp.unmapped", a + PG, PG, MADV_HWPOISON);
        char *u = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); sig_base = u;
        madv("hwp.untouched_anon", u, PG, MADV_HWPOISON);
        break; }
    }
    fflush(stdout);
}
static void g_hwpoison(void)
{
    for (int w = 0; w <= 11; w++) {
        shared_res[0] = shared_res[1] = -1;
        pid_t c = fork(); if (!c) { g_hwpoison_one(w); _exit(0); }
        int st; waitpid(c, &st, 0); printf("hwp.case%d.exit status=%#x\n", w, st);
        if (shared_res[0] >= 0) {
            printf("hwp.case%d.kpf_after_exit %d\n", w, (int)(kpf((uint64_t)shared_res[0]) >> 19 & 1));
            printf("hwp.case%d.unpoison %ld\n", w, unpoison((uint64_t)shared_res[0]));
            printf("hwp.case%d.kpf_after_unpoison %d\n", w, (int)(kpf((uint64_t)shared_res[0]) >> 19 & 1));
            printf("hwp.case%d.unpoison_again %ld\n", w, unpoison((uint64_t)shared_res[0]));
        }
        fflush(stdout);
    }
    printf("hwp.final_hardwarecorrupted_kb %ld\n", meminfo("HardwareCorrupted"));
    out("hwp.unpoison.bad_text", write_str("/sys/kernel/debug/hwpoison/unpoison-pfn", "xyz"));
    out("hwp.unpoison.huge_pfn", unpoison(1ULL << 40));
    out("hwp.unpoison.pfn0", unpoison(0));
    out("hwp.corrupt.huge_pfn", write_str("/sys/kernel/debug/hwpoison/corrupt-pfn", "1099511627776"));
    { int fd = open("/sys/kernel/debug/hwpoison/unpoison-pfn", O_RDONLY); out("hwp.unpoison.open_ro", fd < 0 ? -errno : 0); }
}

static void run(const char *name, void (*g)(void))
{
    printf("== %s\n", name); fflush(stdout);
    pid_t c = fork(); if (!c) { g(); fflush(stdout); _exit(0); }
    int st; waitpid(c, &st, 0); if (st) printf("== %s ended status=%#x\n", name, st);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    shared_res = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (argc > 3 && !strcmp(argv[1], "mapsync")) { mapsync(argv[3], argv[2]); return 0; }
    const char *only = argc > 1 ? argv[1] : "";
    if (!*only || strstr(only, "mmap")) run("mmap", g_mmap);
    if (!*only || strstr(only, "memfd")) run("memfd", g_memfd);
    if (!*only || strstr(only, "stat")) run("stat", g_stat);
    if (!*only || strstr(only, "thp")) run("thp", g_thp);
    if (!*only || strstr(only, "proc")) run("proc", g_proc);
    if (!*only || strstr(only, "wait")) run("wait", g_wait);
    if (!*only || strstr(only, "mremap")) run("mremap", g_mremap);
    if (!*only || strstr(only, "hwpoison")) run("hwpoison", g_hwpoison);
    return 0;
}
