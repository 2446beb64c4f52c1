/* execve and execveat: a program the grants let the job run replaces the calling process's image. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/syscall_names.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/fd.h"
#include "vmm/core/proc_image.h"
#include "vmm/sys/exec_cache.h"
#include "vmm/sys/exec_script.h"
#include "vmm/sys/fs_target.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_fork.h"

#define EXEC_SCRIPT_DEPTH  4            /* #! scripts run through one another, at most (Linux's) */
#define EXEC_STRLEN_MAX    (32u * 4096) /* one argument or environment string (MAX_ARG_STRLEN) */
#define GUEST_AT_EMPTY_PATH       0x1000
#define GUEST_AT_SYMLINK_NOFOLLOW 0x100

/* The strings the new program starts with: argv's, then envp's, one after another in arena.
 * Its buffers are mapped, not malloc'd: a VMM thread's large malloc grows its arena, whose later
 * trim reads /proc/sys/vm/overcommit_memory, which the VMM's seccomp filter refuses. */
struct exec_args {
    char *arena;
    size_t used, limit;  /* limit: a quarter of the stack, as Linux's ARG_MAX */
    size_t *off;         /* each string's offset in arena (at most limit strings) */
    size_t n;
    size_t argc;         /* the first argc strings are argv's */
};

static void *map_anon(size_t len)
{
    void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void unmap(void *p, size_t len)
{
    if (p)
        munmap(p, len ? len : 1);
}

static int args_init(struct exec_args *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->limit = limit;
    a->arena = map_anon(limit);
    a->off = map_anon(limit * sizeof *a->off);
    return a->arena && a->off ? 0 : -ENOMEM;
}

static void args_free(struct exec_args *a)
{
    unmap(a->arena, a->limit);
    unmap(a->off, a->limit * sizeof *a->off);
}

/* Append host string s (a #! line's parts, the script's path). */
static int args_push(struct exec_args *a, const char *s)
{
    size_t len = strlen(s) + 1;
    if (len > EXEC_STRLEN_MAX || len > a->limit - a->used)
        return -E2BIG;
    memcpy(a->arena + a->used, s, len);
    a->off[a->n++] = a->used;
    a->used += len;
    return 0;
}

/* Append the strings of the job's NULL-terminated array at vec (0: none), each read once. */
static int args_copy_vec(struct exec_args *a, const struct guest_mem *gm, uint64_t vec)
{
    if (!vec)
        return 0;
    for (uint64_t i = 0;; i++) {
        uint64_t ptr, at;
        if (__builtin_mul_overflow(i, 8, &at) || __builtin_add_overflow(vec, at, &at) ||
            gmem_copy_from(gm, &ptr, at, sizeof ptr))
            return -EFAULT;
        if (!ptr)
            return 0;
        size_t room = a->limit - a->used;
        if (room == 0)
            return -E2BIG;
        long len = gmem_copy_str(gm, a->arena + a->used,
                                 ptr, room < EXEC_STRLEN_MAX ? room : EXEC_STRLEN_MAX);
        if (len == -ENAMETOOLONG)
            return -E2BIG;
        if (len < 0)
            return (int)len;
        a->off[a->n++] = a->used;
        a->used += (size_t)len + 1;
    }
}

/* A #! script: argv[0] becomes interp, [arg,] the script's path; the rest stays. */
static int args_script(struct exec_args *a, const char *interp, const char *arg, const char *path)
{
    size_t old_n = a->n, old_argc = a->argc;
    int rc = args_push(a, interp);
    if (!rc && arg)
        rc = args_push(a, arg);
    if (!rc)
        rc = args_push(a, path);
    if (rc)
        return rc;
    /* [argv0, argv1.., envp.., added..] -> [added.., argv1.., envp..] */
    size_t add = a->n - old_n, drop = old_argc ? 1 : 0, added[3];
    memcpy(added, a->off + old_n, add * sizeof *added);
    memmove(a->off + add, a->off + drop, (old_n - drop) * sizeof *a->off);
    memcpy(a->off, added, add * sizeof *added);
    a->n = add + old_n - drop;
    a->argc = add + old_argc - drop;
    return 0;
}

/* The program file: its contents, its host descriptor, and the guest path it was found at. */
struct exec_file {
    struct exec_image *img;     /* its bytes (a reference on the exec cache's) */
    const uint8_t *data;
    size_t size;
    int fd;                     /* -1 when it is the process's own (exe) */
    uint32_t cap_id;            /* the capability it was reached through (0: /proc/self/exe) */
    char guest[PATH_MAX];
};

static void file_free(struct exec_file *f)
{
    exec_image_put(f->img);
    f->img = NULL;
    f->data = NULL;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* The whole of host descriptor fd, at most max bytes: from the exec cache while the file is
 * unchanged, else read with job->lock released (a regular file: it ends). 0, -EACCES (not a
 * regular file with an execute bit), -ENOMEM (larger than the memory limit), -EIO, -EINTR
 * (the call ends meanwhile). */
static int file_read(struct job *job, int fd, uint64_t max, struct exec_file *f)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
        return -EACCES; /* as Linux: a directory, a special file, no execute bit */
    if ((uint64_t)st.st_size > max)
        return -ENOMEM;
    struct exec_image *img = exec_cache_get(job, &st);
    if (!img) {
        size_t size = (size_t)st.st_size, map_len = size;
        uint8_t *buf = map_anon(map_len);
        if (!buf)
            return -ENOMEM;
        pthread_mutex_unlock(&job->lock);
        size_t got = 0;
        int rc = 0;
        while (got < size) {
            ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
            if (n < 0 && errno == EINTR && !job_call_stopping(job))
                continue;
            if (n <= 0) {
                rc = n < 0 ? (errno == EINTR ? -EINTR : -EIO) : 0;
                break; /* shrank meanwhile: what is there */
            }
            got += (size_t)n;
        }
        pthread_mutex_lock(&job->lock);
        if (rc || job_call_stopping(job)) {
            unmap(buf, map_len);
            return rc ? rc : -EINTR;
        }
        if (!(img = exec_cache_add(job, &st, buf, map_len, got)))
            return -ENOMEM;
    }
    f->img = img;
    f->data = img->data;
    f->size = (size_t)img->size;
    return 0;
}

/* Open and read the program `raw` names relative to dirfd: beneath a grant whose capability
 * carries read and exec, or the process's own (/proc/self/exe). */
static int file_open(struct job *job, struct sc_call *c, uint64_t dirfd, const char *raw,
                     uint64_t flags, struct exec_file *f)
{
    struct proc *p = sc_proc(c);
    uint64_t max = job->policy.memory_bytes;
    f->fd = -1;
    f->cap_id = 0;
    if (!raw[0] && (flags & GUEST_AT_EMPTY_PATH)) { /* fexecve: the descriptor's file */
        struct cap *e;
        uint32_t slot;
        int rc = fd_cap(job, c, dirfd, CAP_R_READ | CAP_R_EXEC, &e, &slot);
        if (rc)
            return rc == -EBADF && dirfd < p->fds_max && p->fds[dirfd].open ? -EACCES : rc;
        if (e->kind != CAP_FILE)
            return -EACCES;
        snprintf(f->guest, sizeof f->guest, "%s", e->path ? e->path : "");
        f->cap_id = e->id;
        int fd = fcntl(e->host_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
            return -errno;
        f->fd = fd;
        return file_read(job, fd, max, f);
    }
    if (!raw[0])
        return -ENOENT;
    if (!strcmp(raw, "/proc/self/exe")) {
        snprintf(f->guest, sizeof f->guest, "%s", p->exe ? p->exe->path : job->exe_path);
        if (!p->exe)
            return -ENOENT;
        return file_read(job, p->exe->fd, max, f);
    }
    struct fs_target t;
    int rc = fs_resolve(job, c, dirfd, raw, &t);
    if (rc)
        return rc;
    if (fs_target_virtual(&t))
        return -EACCES; /* a directory the view makes up */
    if ((rc = fs_target_need(job, c, &t, CAP_R_READ | CAP_R_EXEC)))
        return rc;
    int fd = fs_target_open(job, c, &t, O_RDONLY | ((flags & GUEST_AT_SYMLINK_NOFOLLOW)
                                                     ? O_NOFOLLOW : 0), 0);
    if (fd < 0)
        return fd;
    snprintf(f->guest, sizeof f->guest, "%s", t.guest);
    f->cap_id = t.cap->id;
    f->fd = fd;
    return file_read(job, fd, max, f);
}

/* Stop the process's other threads (Linux's de_thread) and wait until they have ended.
 * 0, or -EINTR when the caller's own process or job ends meanwhile. */
static int others_end(struct job *job, struct vthread *self)
{
    struct proc *p = self->proc;
    if (p->threads_hosted <= 1)
        return 0;
    p->execing = true;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t != self && t->proc == p && t->state != VT_FREE && t->state != VT_DONE)
            atomic_store(&t->killed, true);
    }
    proc_wake(job, p, true);
    int rc = 0; /* a signal does not stop it: only the process's or the job's end */
    while (p->threads_hosted > 1 && !(rc = thread_stopping(self) ? -EINTR : 0)) {
        struct timespec ts = ns_ts(mono_ns() + 100000000ull);
        pthread_cond_timedwait(&self->wake, &job->lock, &ts);
    }
    p->execing = false;
    return rc;
}

static void signals_reset(struct proc *p)
{
    for (unsigned s = 0; s < 64; s++) { /* handlers back to SIG_DFL; what is ignored stays so */
        uint64_t *a = p->sig.action[s];
        uint64_t handler = a[0] == (uint64_t)(uintptr_t)SIG_IGN ? a[0] : 0;
        memset(a, 0, sizeof p->sig.action[s]);
        a[0] = handler;
    }
}

/* Past the point of no return: the caller's process gets the new image. SC_STOP when it
 * cannot (the process is killed, as Linux kills it), else SC_REDIRECT. */
static int64_t exec_commit(struct job *job, struct sc_call *c, const struct proc_image *img,
                           struct exec_args *a, const char *filename, struct exec_file *f)
{
    struct vthread *self = c->self;
    struct proc *p = self->proc;
    if (others_end(job, self))
        return -EINTR; /* the process or job ends anyway */
    proc_vfork_release(job, p);
    struct guest_mem *gm = p->gm;
    uint64_t peak = gm->user_pages_peak;
    gmem_space_clear(gm, true); /* no host call of this process is under way */
    gm->user_pages_peak = peak;
    size_t strs_len = (a->n + 1) * sizeof(char *);
    char **strs = map_anon(strs_len);
    int rc = strs ? 0 : -ENOMEM;
    char err[256] = "cannot load it";
    uint64_t rsp = 0;
    if (!rc) {
        for (size_t i = 0; i < a->n; i++)
            strs[i] = a->arena + a->off[i];
        strs[a->n] = NULL;
        struct proc_image_args ia = { .argc = (int)a->argc, .argv = strs,
                                      .envc = (int)(a->n - a->argc), .envp = strs + a->argc,
                                      .execfn = filename };
        rc = proc_image_load(job, gm, img, &ia, &rsp, err, sizeof err);
    }
    struct proc_exe *exe = NULL;
    if (!rc && f->fd >= 0 && !(exe = proc_exe_new(f->fd, f->guest)))
        rc = -ENOMEM;
    struct kvm_regs regs = { .rcx = img->info.entry, .r11 = 0x202, .rsp = rsp };
    if (!rc)
        rc = vcpu_setup(&job->vm, &self->vcpu, &regs, 0, NULL, p->pg->pml4_gpa);
    if (rc) {
        unmap(strs, strs_len);
        char msg[400];
        snprintf(msg, sizeof msg, "job killed by SIGSEGV: execve of %.200s failed after its old image "
                 "was gone: %s", f->guest, err);
        if (rc == -ENOMEM)
            job->stats.enomem_total++;
        proc_end(job, p, proc_status_signaled(SIGSEGV), msg);
        return SC_STOP;
    }
    if (exe) {
        f->fd = -1; /* the exe's now */
        proc_exe_put(p->exe);
        p->exe = exe;
    }
    proc_image_apply(p, img);
    fd_table_exec(job, p);
    signals_reset(p);
    sig_timers_exec(p);
    /* the thread takes the process's id (Linux: a thread other than the first that execs
     * becomes it) and starts afresh */
    self->tid = p->pid;
    self->fs_base = 0;
    self->clear_child_tid = 0;
    self->robust_list = self->robust_len = 0;
    self->altstack = (struct sig_altstack){ .flags = 2 /* SS_DISABLE: none, as Linux's exec */ };
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    size_t cn = strnlen(base, sizeof self->comm - 1); /* Linux keeps the first 15 bytes */
    memcpy(self->comm, base, cn);
    self->comm[cn] = '\0';
    self->tlb_gen = 0; /* and the firmware reloads CR3 at its start */
    audit_exec(job, p->pid, c->nr, f->guest, f->cap_id, a->argc ? strs[0] : "");
    unmap(strs, strs_len);
    log_debug("process %d execs %s", p->pid, f->guest);
    return SC_REDIRECT; /* the vCPU starts the new image: no answer to write */
}

static int64_t do_execve(struct job *job, struct sc_call *c, uint64_t dirfd, uint64_t path_gva,
                         uint64_t argv_gva, uint64_t envp_gva, uint64_t flags)
{
    if (flags & ~(uint64_t)(GUEST_AT_EMPTY_PATH | GUEST_AT_SYMLINK_NOFOLLOW))
        return -EINVAL;
    char filename[PATH_MAX];
    long n = fs_path_copy(c, path_gva, filename);
    if (n < 0)
        return n;
    uint64_t stack = proc_image_stack_bytes(job->policy.memory_bytes);
    struct exec_args a;
    struct exec_file f = { .fd = -1 };
    int rc = args_init(&a, stack / 4);
    if (!rc)
        rc = args_copy_vec(&a, sc_gm(c), argv_gva);
    a.argc = a.n;
    if (!rc)
        rc = args_copy_vec(&a, sc_gm(c), envp_gva);
    /* the program, through as many #! interpreters as EXEC_SCRIPT_DEPTH allows */
    char line[EXEC_SCRIPT_HEADER + 1], next[EXEC_SCRIPT_HEADER + 1];
    const char *name = filename;
    for (unsigned depth = 0; !rc; depth++) {
        rc = file_open(job, c, dirfd, name, flags, &f);
        if (rc)
            break;
        const char *interp, *arg;
        int script = exec_script_parse(f.data, f.size, line, &interp, &arg);
        if (script <= 0) {
            rc = script;
            break;
        }
        if (depth == EXEC_SCRIPT_DEPTH) {
            rc = -ELOOP;
            break;
        }
        /* the script is named as it was asked for (Linux: its filename) */
        rc = args_script(&a, interp, arg, depth ? name : filename);
        memcpy(next, line, sizeof next); /* interp points into line; keep it for the open */
        name = next + (interp - line);
        file_free(&f);
        dirfd = GUEST_AT_FDCWD;
        flags = 0;
    }
    struct proc_image img;
    char err[256] = "";
    if (!rc && (rc = proc_image_check(sc_gm(c), f.data, f.size, stack, &img, err, sizeof err)))
        log_debug("execve %s: not a program isovm runs: %s", f.guest, err);
    if (!rc && thread_stopping(c->self))
        rc = -EINTR;
    int64_t ret = rc ? rc : exec_commit(job, c, &img, &a, filename, &f);
    if (rc && rc != -EINTR)
        log_debug("%s %s: %s", syscall_name_any((unsigned)c->nr), filename, strerror(-rc));
    file_free(&f);
    args_free(&a);
    return ret;
}

int64_t sys_execve(struct job *job, struct sc_call *c)
{
    return do_execve(job, c, GUEST_AT_FDCWD, c->a[0], c->a[1], c->a[2], 0);
}

int64_t sys_execveat(struct job *job, struct sc_call *c)
{
    return do_execve(job, c, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4]);
}
