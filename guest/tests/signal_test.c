/* Signal delivery (issue 17 part 5): handlers on a Linux frame with siginfo and ucontext, masks
 * and pending signals, SA_RESTART and EINTR, rt_sigsuspend, SIGCHLD, the alternate stack,
 * SA_RESETHAND and SA_NODEFER, a signal to a thread spinning in user code, a default action
 * once unblocked, CPU faults (SIGSEGV, SIGFPE) to handlers; hostile: forged rt_sigreturn frames, a handler in the firmware's space.
 * Prints one line per check, then "all checks passed". */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static volatile sig_atomic_t got, got_sig, got_code, got_pid, got_status, got_blocked;
static volatile uintptr_t got_sp, got_uc;

static void on_info(int sig, siginfo_t *si, void *uc)
{
    got++;
    got_sig = sig;
    got_code = si->si_code;
    got_pid = si->si_pid;
    got_status = si->si_status;
    got_uc = (uintptr_t)uc;
    int local;
    got_sp = (uintptr_t)&local;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    got_blocked = sigismember(&cur, sig);
}

static void handle(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void msleep(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int status_of(pid_t pid)
{
    int st = -1;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

static void check_basic(void)
{
    handle(SIGUSR1, 0);
    got = 0;
    /* values in callee-saved registers survive the handler */
    volatile long a = 11, b = 22, c = 33;
    raise(SIGUSR1);
    CHECK("a handler runs with siginfo and ucontext", got == 1 && got_sig == SIGUSR1 &&
          got_pid == getpid() && got_uc != 0, "got %d sig %d pid %d uc %lx", got, got_sig,
          got_pid, (unsigned long)got_uc);
    CHECK("the signal is blocked in its handler, not after", got_blocked == 1, "blocked %d",
          got_blocked);
    CHECK("the interrupted code goes on", a + b + c == 66, "%ld", a + b + c);
    got = 0;
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
    CHECK("tgkill: SI_TKILL", got == 1 && got_code == SI_TKILL, "got %d code %d", got, got_code);
}

static void check_mask(void)
{
    handle(SIGUSR2, 0);
    got = 0;
    sigset_t set, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGUSR2);
    sigpending(&pend);
    CHECK("blocked: pending, no handler yet", got == 0 && sigismember(&pend, SIGUSR2),
          "got %d pending %d", got, sigismember(&pend, SIGUSR2));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    CHECK("unblocked: the handler runs at once", got == 1, "got %d", got);
}

/* a child signals the parent while it reads an empty pipe, then writes to it */
static void check_restart(int flags, const char *name, int want_eintr)
{
    handle(SIGUSR1, flags);
    int p[2];
    if (pipe(p) != 0)
        return;
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        msleep(50);
        kill(parent, SIGUSR1);
        msleep(50);
        (void)!write(p[1], "z", 1);
        _exit(0);
    }
    got = 0;
    char ch = 0;
    ssize_t r = read(p[0], &ch, 1);
    int e = errno;
    if (want_eintr)
        CHECK(name, got == 1 && r == -1 && e == EINTR, "got %d r %zd errno %d", got, r, e);
    else
        CHECK(name, got == 1 && r == 1 && ch == 'z', "got %d r %zd errno %d", got, r, e);
    status_of(pid);
    close(p[0]);
    close(p[1]);
}

static void check_suspend_and_sigchld(void)
{
    handle(SIGUSR1, 0);
    sigset_t set, old, none;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, &old);
    int go[2];
    if (pipe(go) != 0)
        return;
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        msleep(30);
        kill(parent, SIGUSR1);
        char ch; /* it ends once the parent's mask is back (SIGCHLD blocked again) */
        (void)!read(go[0], &ch, 1);
        _exit(0);
    }
    got = 0;
    sigemptyset(&none);
    int r = sigsuspend(&none);
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, NULL, &now);
    CHECK("sigsuspend: EINTR after the handler, the mask back", r == -1 && e == EINTR &&
          got == 1 && sigismember(&now, SIGUSR1), "r %d errno %d got %d", r, e, got);
    (void)!write(go[1], "g", 1);
    close(go[0]);
    close(go[1]);
    status_of(pid);
    /* that child's SIGCHLD is pending: blocked signals are kept though ignored by default */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    int taken = sigtimedwait(&chld, NULL, &(struct timespec){ 0, 0 });
    CHECK("a blocked SIGCHLD is kept though its default ignores it", taken == SIGCHLD,
          "sigtimedwait gave %d (%s)", taken, strerror(errno));
    /* SIGCHLD with the child's pid and status */
    handle(SIGCHLD, 0);
    got = 0;
    pid = fork();
    if (pid == 0)
        _exit(3);
    while (got == 0)
        sigsuspend(&none);
    CHECK("SIGCHLD: the child's pid, CLD_EXITED, its status", got_sig == SIGCHLD &&
          got_pid == pid && got_code == CLD_EXITED && got_status == 3, "sig %d pid %d/%d code %d "
          "status %d", got_sig, got_pid, pid, got_code, got_status);
    status_of(pid);
    signal(SIGCHLD, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void check_altstack_and_flags(void)
{
    static char alt[64 << 10];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
    CHECK("sigaltstack", sigaltstack(&ss, NULL) == 0, "errno %d", errno);
    handle(SIGUSR1, SA_ONSTACK);
    got = 0;
    raise(SIGUSR1);
    CHECK("SA_ONSTACK: the handler's stack is the alternate one", got == 1 &&
          got_sp >= (uintptr_t)alt && got_sp < (uintptr_t)alt + sizeof alt, "sp %lx alt %p",
          (unsigned long)got_sp, (void *)alt);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    handle(SIGUSR1, SA_NODEFER);
    raise(SIGUSR1);
    CHECK("SA_NODEFER: not blocked in its handler", got_blocked == 0, "blocked %d", got_blocked);
    handle(SIGUSR1, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    CHECK("SA_RESETHAND: SIG_DFL after one", now.sa_handler == SIG_DFL, "handler %p",
          (void *)now.sa_handler);
}

static volatile int spin_stop;
static void on_stop(int sig) { (void)sig; spin_stop = 1; }

static void *spinner(void *arg)
{
    (void)arg;
    while (!spin_stop) /* user code, no syscall */
        ;
    return NULL;
}

static void check_async(void)
{
    signal(SIGUSR2, on_stop);
    spin_stop = 0;
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    msleep(20);
    pthread_kill(t, SIGUSR2);
    for (int i = 0; i < 500 && !spin_stop; i++)
        msleep(10);
    CHECK("a thread spinning in user code runs its handler", spin_stop == 1, "stop %d", spin_stop);
    if (spin_stop)
        pthread_join(t, NULL);
}

static void check_default_when_unblocked(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR1, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        raise(SIGUSR1);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        _exit(0);
    }
    int st = status_of(pid);
    CHECK("a blocked fatal signal ends the process once unblocked",
          WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1, "status 0x%x", st);
}

static sigjmp_buf fault_jmp;
static volatile uintptr_t fault_addr;
static volatile int fault_code, fault_sig;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_sig = sig;
    fault_code = si->si_code;
    fault_addr = (uintptr_t)si->si_addr;
    siglongjmp(fault_jmp, 1);
}

/* CPU faults go to the job's handler: a bad pointer (SIGSEGV, SEGV_MAPERR, the address) and a
 * division by zero (SIGFPE, FPE_INTDIV); the job goes on after siglongjmp */
static void check_faults(void)
{
    handle(SIGSEGV, 0);
    handle(SIGFPE, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    fault_sig = 0;
    if (sigsetjmp(fault_jmp, 1) == 0) {
        volatile int *bad = (int *)0x1230;
        *bad = 1;
    }
    CHECK("SIGSEGV to a handler: the address, SEGV_MAPERR", fault_sig == SIGSEGV &&
          fault_addr == 0x1230 && fault_code == SEGV_MAPERR, "sig %d addr %lx code %d", fault_sig,
          (unsigned long)fault_addr, fault_code);
    fault_sig = 0;
    volatile int zero = 0, x = 7;
    if (sigsetjmp(fault_jmp, 1) == 0)
        x = x / zero;
    CHECK("SIGFPE to a handler: FPE_INTDIV", fault_sig == SIGFPE && fault_code == FPE_INTDIV,
          "sig %d code %d", fault_sig, fault_code);
    signal(SIGSEGV, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    /* blocked: the default action, as Linux forces it */
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGSEGV, &sa, NULL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        sigprocmask(SIG_BLOCK, &set, NULL);
        volatile int *bad = (int *)0x1230;
        *bad = 1;
        _exit(0);
    }
    int st = status_of(pid);
    CHECK("a fault whose signal is blocked ends the process", WIFSIGNALED(st) &&
          WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
}

/* ---- hostile ----------------------------------------------------------------------------- */

static void exit42(void) { _exit(42); }
static void cli_then_exit(void)
{
    __asm__ volatile("cli");
    _exit(43);
}

/* rt_sigreturn of a frame the job made up: rip, rsp, eflags, cs as given */
static void forged_sigreturn(uint64_t rip, uint64_t rflags, uint16_t cs, uint64_t fpstate)
{
    static uint64_t stack[4096];
    static uint8_t frame[1024] __attribute__((aligned(16)));
    memset(frame, 0, sizeof frame);
    uint64_t *mc = (uint64_t *)(frame + 48); /* uc_mcontext */
    mc[15] = (uint64_t)(uintptr_t)&stack[4000]; /* rsp */
    mc[16] = rip;
    mc[17] = rflags;
    memcpy(frame + 48 + 144, &cs, 2);
    memcpy(frame + 48 + 184, &fpstate, 8);
    __asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall" : : "r"(frame + 8) : "memory");
    _exit(99);
}

static int run_child(void (*fn)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(98);
    }
    return status_of(pid);
}

static void forge_kernel_rip(void) { forged_sigreturn(0xffff800000001000ull, 0x202, 0x33, 0); }
static void forge_noncanonical(void) { forged_sigreturn(0x0000900000000000ull, 0x202, 0x33, 0); }
static void forge_ring0_cs(void) { forged_sigreturn((uintptr_t)exit42, 0x202, 0x08, 0); }
static void forge_iopl(void) { forged_sigreturn((uintptr_t)cli_then_exit, 0x3202, 0x33, 0); }
static void forge_bad_fpstate(void) { forged_sigreturn((uintptr_t)exit42, 0x202, 0x33, 8); }

/* A forged XSAVE state: the frame's own, with a reserved byte of its header set */
static void on_forge_xheader(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    uint8_t *fp = (uint8_t *)uc->uc_mcontext.fpregs;
    fp[512 + 20] = 1; /* XSAVE header bytes 16..63 are reserved */
}

static void forge_xsave_header(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_forge_xheader;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    _exit(42);
}

static void firmware_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = (void (*)(int))(uintptr_t)0x80000; /* the firmware's code, not the job's */
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
}

static void kernel_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = (void (*)(int))(uintptr_t)0xffff800000001000ull;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
}

static void check_hostile(void)
{
    int st = run_child(forge_kernel_rip);
    CHECK("forged frame: a kernel rip is SIGSEGV", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
          "status 0x%x", st);
    st = run_child(forge_noncanonical);
    CHECK("forged frame: a non-canonical rip is SIGSEGV", WIFSIGNALED(st) &&
          WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
    st = run_child(forge_ring0_cs);
    /* isovm never reads cs (ring 3 goes on: 42); Linux loads it with RPL 3, which iret
     * refuses (SIGSEGV): neither runs the job in ring 0 */
    CHECK("forged frame: a ring-0 cs is not loaded", (WIFEXITED(st) && WEXITSTATUS(st) == 42) ||
          (WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV), "status 0x%x", st);
    st = run_child(forge_iopl);
    CHECK("forged frame: IOPL 3 is not given (cli faults)", WIFSIGNALED(st) &&
          WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
    st = run_child(forge_bad_fpstate);
    CHECK("forged frame: an unreadable FPU state is SIGSEGV", WIFSIGNALED(st) &&
          WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
    if (__builtin_cpu_supports("avx")) {
        st = run_child(forge_xsave_header);
        CHECK("forged frame: reserved XSAVE header bytes are SIGSEGV", WIFSIGNALED(st) &&
              WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
    }
    st = run_child(firmware_handler);
    CHECK("a handler in the firmware's space: SIGSEGV", WIFSIGNALED(st) &&
          WTERMSIG(st) == SIGSEGV, "status 0x%x", st);
    st = run_child(kernel_handler);
    CHECK("a handler at a kernel address: SIGSEGV", WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
          "status 0x%x", st);
}

/* AVX: a handler that uses ymm8 leaves the interrupted code's ymm8 as it was (the frame holds
 * the XSAVE state, not only fxsave's 128-bit halves), and starts with AVX's initial state. */
static volatile int avx_initial;
static void on_clobber_ymm(int sig)
{
    (void)sig;
    uint8_t y[32];
    __asm__ volatile("vmovdqu %%ymm8, %0" : "=m"(y));
    int zero = 1;
    for (int i = 16; i < 32; i++)
        zero &= y[i] == 0;
    avx_initial = zero;
    __asm__ volatile("vpcmpeqd %%ymm8, %%ymm8, %%ymm8" ::: "xmm8"); /* all ones */
}

static void check_avx(void)
{
    if (!__builtin_cpu_supports("avx")) {
        printf("skip AVX: this CPU does not offer it\n");
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_clobber_ymm;
    sigaction(SIGUSR1, &sa, NULL);
    uint8_t pat[32] __attribute__((aligned(32))), out[32] __attribute__((aligned(32)));
    for (int i = 0; i < 32; i++)
        pat[i] = (uint8_t)(i * 7 + 1);
    long nr = SYS_kill;
    /* ymm8 set, the signal sent and taken at the syscall's end, ymm8 read: no C library code
     * (which may use ymm registers) in between */
    __asm__ volatile("vmovdqu (%[p]), %%ymm8\n\t"
                     "syscall\n\t"
                     "vmovdqu %%ymm8, (%[o])\n\t"
                     "vzeroupper"
                     : "+a"(nr)
                     : [p] "r"(pat), [o] "r"(out), "D"((long)getpid()), "S"((long)SIGUSR1)
                     : "rcx", "r11", "memory", "xmm8");
    CHECK("AVX: ymm8 kept across a handler that changes it", !memcmp(pat, out, 32),
          "upper half now %02x%02x.., want %02x%02x..", out[16], out[17], pat[16], pat[17]);
    CHECK("AVX: a handler starts with ymm's upper halves initial", avx_initial, "not zero");
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_basic();
    check_mask();
    check_restart(SA_RESTART, "SA_RESTART: a read goes on after the handler", 0);
    check_restart(0, "no SA_RESTART: the read fails with EINTR", 1);
    check_suspend_and_sigchld();
    check_altstack_and_flags();
    check_async();
    check_default_when_unblocked();
    check_faults();
    check_avx();
    check_hostile();
    return check_done();
}
