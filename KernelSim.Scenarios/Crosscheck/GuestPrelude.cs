namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// The fixed part of every guest program: the mapping table that turns addresses back into "buf+0x10", the
/// SIGBUS/SIGSEGV handler that records siginfo and resumes with siglongjmp (or lets a default disposition kill),
/// user-mode loads and stores one byte at a time, and the "@@KS" lines the host parses. Output carries no pointers
/// or times, only names, offsets and numbers, so the same kernel prints the same text.
/// </summary>
internal static class GuestPrelude
{
    /// <summary>C source placed before the generated steps.</summary>
    public const string Text = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <fcntl.h>
        #include <setjmp.h>
        #include <signal.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <sys/prctl.h>
        #include <sys/stat.h>
        #include <sys/types.h>
        #include <sys/uio.h>
        #include <sys/wait.h>
        #include <unistd.h>
        #include <linux/falloc.h>

        struct ks_map { const char *name; unsigned char *base; unsigned long size; };
        static struct ks_map ks_maps[64];
        static int ks_fds[64];
        static int ks_step;
        static int ks_disp[65];            /* 0 default, 1 catch, 2 ignore */
        static sigjmp_buf ks_jb;
        static volatile int ks_armed;
        static volatile unsigned long ks_done;

        static void ks_sym(char *out, size_t n, unsigned long a)
        {
            for (int i = 0; i < 64; i++)
                if (ks_maps[i].name && a >= (unsigned long)ks_maps[i].base && a - (unsigned long)ks_maps[i].base < ks_maps[i].size) {
                    unsigned long off = a - (unsigned long)ks_maps[i].base;
                    if (off) snprintf(out, n, "%s+0x%lx", ks_maps[i].name, off); else snprintf(out, n, "%s", ks_maps[i].name);
                    return;
                }
            snprintf(out, n, "unknown");
        }

        static void ks_handler(int sig, siginfo_t *si, void *uc)
        {
            char sym[96];
            (void)uc;
            ks_sym(sym, sizeof sym, (unsigned long)si->si_addr);
            printf("@@KS %d signal=%d code=%d addr=%s lsb=%d\n", ks_step, sig, si->si_code, sym, sig == SIGBUS ? (int)si->si_addr_lsb : 0);
            fflush(stdout);
            if (ks_disp[sig] == 0) { signal(sig, SIG_DFL); raise(sig); return; } /* the default action kills, as without a handler */
            if (ks_armed) siglongjmp(ks_jb, 1);
            /* not in a user access: sent at a system call's exit (memory_failure's kill), the program goes on */
        }

        static void ks_sigaction(int sig, int disp)
        {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            ks_disp[sig] = disp;
            if (disp == 2) sa.sa_handler = SIG_IGN;
            else { sa.sa_sigaction = ks_handler; sa.sa_flags = SA_SIGINFO | SA_NODEFER; }
            sigaction(sig, &sa, NULL);
        }

        static void ks_begin(int step) { ks_step = step; printf("@@KS %d begin\n", step); fflush(stdout); }
        static void ks_ret(long r) { printf("@@KS %d ret=%ld\n", ks_step, r); printf("@@KS %d end\n", ks_step); fflush(stdout); }
        static void ks_note(const char *s) { printf("@@KS %d note=%s\n", ks_step, s); fflush(stdout); }
        static long ks_sys(long r) { return r < 0 ? -errno : r; }

        static unsigned char ks_fill(int kind, unsigned long a, unsigned long b, unsigned long i)
        {
            return kind == 1 ? (unsigned char)a : kind == 2 ? (unsigned char)(i * a + b) : (unsigned char)(i ^ a);
        }

        static long ks_access(unsigned char *p, unsigned long len, int write, int kind, unsigned long a, unsigned long b)
        {
            ks_done = 0;
            if (sigsetjmp(ks_jb, 1) == 0) {
                ks_armed = 1;
                for (unsigned long i = 0; i < len; i++) {
                    if (write) ((volatile unsigned char *)p)[i] = ks_fill(kind, a, b, i);
                    else (void)((volatile unsigned char *)p)[i];
                    ks_done = i + 1;
                }
            }
            ks_armed = 0;
            return (long)ks_done;
        }

        static long ks_map(int slot, const char *name, unsigned long size, int prot, int flags, int fd, long off)
        {
            void *p = mmap(NULL, size, prot, flags, fd, off);
            if (p == MAP_FAILED) return -errno;
            ks_maps[slot].name = name; ks_maps[slot].base = p; ks_maps[slot].size = size;
            return 0;
        }

        static void ks_fillmap(int slot, int kind, unsigned long a, unsigned long b)
        {
            for (unsigned long i = 0; i < ks_maps[slot].size; i++) ks_maps[slot].base[i] = ks_fill(kind, a, b, i);
        }

        static long ks_shm(int slot, const char *name, unsigned long size, int prot, int populate)
        {
            int fd = memfd_create(name, 0);
            if (fd < 0) return -errno;
            if (ftruncate(fd, size) < 0) return -errno;
            return ks_map(slot, name, size, prot, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
        }

        static long ks_sysfs_write(const char *path, const char *text)
        {
            int fd = open(path, O_WRONLY);
            if (fd < 0) return -errno;
            long r = ks_sys(write(fd, text, strlen(text)));
            close(fd);
            return r;
        }

        static long ks_sysfs_lines(const char *path)
        {
            char buf[4096], *line, *save;
            int fd = open(path, O_RDONLY);
            if (fd < 0) return -errno;
            long n = read(fd, buf, sizeof buf - 1), count = 0;
            close(fd);
            if (n < 0) return -errno;
            buf[n] = 0;
            for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) { ks_note(line); count++; }
            return count;
        }

        #define KS_AT(slot, off) ((void *)(ks_maps[slot].base + (off)))

        static void ks_steps(void);

        int main(void)
        {
            setvbuf(stdout, NULL, _IOLBF, 0);
            pid_t pid = fork();
            if (pid == 0) { ks_steps(); printf("@@KS done\n"); fflush(stdout); _exit(0); }
            int status = 0;
            waitpid(pid, &status, 0);
            if (WIFSIGNALED(status)) printf("@@KS exit signal=%d\n", WTERMSIG(status));
            else printf("@@KS exit status=%d\n", WEXITSTATUS(status));
            fflush(stdout);
            return 0;
        }

        """;
}
