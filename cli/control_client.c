/* `isovm cap list|revoke|info --control PATH`: one request to a running VMM's control socket. */
#include "cli/control_client.h"
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "vmm/run/launch.h"
#include "lib/log.h"

#define CLIENT_TIMEOUT_S 5

#define CAP_SYNOPSIS                                                            \
        "usage: isovm cap list   --control PATH [--json]\n"                    \
        "       isovm cap revoke --control PATH (CAP_ID | --path GUEST_PATH)\n" \
        "       isovm cap info   --control PATH\n"

static void cap_usage(FILE *f)
{
    fprintf(f, CAP_SYNOPSIS
        "\n"
        "Talks to a running job's VMM through its control socket (the policy's \"control\").\n"
        "  list     the job's capabilities: id, parent, kind, how it was made, rights, expiry,\n"
        "           descriptors holding it, state and guest path (--json: one JSON object a line)\n"
        "  revoke   revoke capability CAP_ID (an id from list or the audit log), or the grant at\n"
        "           GUEST_PATH, and everything derived from it; the job's next use of any of them\n"
        "           fails with EKEYREVOKED. The console itself cannot be revoked.\n"
        "  info     the job's id, the VMM's pid, uptime\n"
        "\n"
        "Exit status: 0 done, 1 the VMM refused (e.g. no such capability), 125 bad usage or the\n"
        "socket cannot be reached. See docs/control.md.\n");
}

static int cap_bad_usage(const char *msg)
{
    log_err("cap: %s", msg);
    fputs(CAP_SYNOPSIS "(isovm cap --help for more)\n", stderr);
    return EXIT_ISOVM_ERROR;
}

/* Send `request` (one line) and read the whole answer. 0, or 125 after a message. */
static int exchange(const char *path, const char *request, char **answer)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        log_err("control socket %s: path longer than %zu bytes", path, sizeof addr.sun_path - 1);
        return EXIT_ISOVM_ERROR;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_err("control socket %s: %s", path, strerror(errno));
        return EXIT_ISOVM_ERROR;
    }
    struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        int e = errno;
        log_err("control socket %s: cannot connect: %s%s", path, strerror(e),
                e == ENOENT || e == ECONNREFUSED
                    ? " (is the job running, with \"control\" set to this path?)" : "");
        close(fd);
        return EXIT_ISOVM_ERROR;
    }
    size_t rlen = strlen(request);
    char *line = malloc(rlen + 2);
    if (!line) {
        close(fd);
        log_err("out of memory");
        return EXIT_ISOVM_ERROR;
    }
    memcpy(line, request, rlen);
    line[rlen] = '\n';
    ssize_t sent = send(fd, line, rlen + 1, MSG_NOSIGNAL);
    free(line);
    if (sent != (ssize_t)(rlen + 1)) {
        log_err("control socket %s: cannot send the request: %s", path,
                sent < 0 ? strerror(errno) : "short write");
        close(fd);
        return EXIT_ISOVM_ERROR;
    }
    shutdown(fd, SHUT_WR);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        close(fd);
        log_err("out of memory");
        return EXIT_ISOVM_ERROR;
    }
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            fclose(f);
            free(buf);
            close(fd);
            log_err("control socket %s: no answer: %s", path,
                    e == EAGAIN ? "timed out" : strerror(e));
            return EXIT_ISOVM_ERROR;
        }
        fwrite(chunk, 1, (size_t)n, f);
    }
    close(fd);
    if (fclose(f) != 0) {
        free(buf);
        log_err("out of memory");
        return EXIT_ISOVM_ERROR;
    }
    *answer = buf;
    return 0;
}

/* The answer's last line ("ok ..." / "error ..."): its start, or NULL when there is none. */
static char *status_line(char *answer)
{
    size_t len = strlen(answer);
    if (len == 0 || answer[len - 1] != '\n')
        return NULL;
    answer[len - 1] = '\0';
    char *last = strrchr(answer, '\n');
    return last ? last + 1 : answer;
}

static const char *json_str_or(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

/* A guest-chosen string for a terminal: control characters (C0, DEL, C1) and backslashes as
 * \xNN or \u00NN, never raw. */
static void print_clean(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || c == '\\') {
            printf("\\x%02x", c);
        } else if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f) {
            printf("\\u%04x", (unsigned char)s[1]);
            s++;
        } else {
            putchar(c);
        }
    }
    putchar('\n');
}

/* One row of the `cap list` table from one JSON line. */
static void print_row(const char *line)
{
    json_error_t err;
    json_t *o = json_loads(line, 0, &err);
    if (!o || !json_is_object(o)) {
        printf("? %s\n", line);
        json_decref(o);
        return;
    }
    char rights[128] = "", parent[16] = "-", expires[32] = "-";
    json_t *r = json_object_get(o, "rights");
    size_t i;
    json_t *v;
    json_array_foreach(r, i, v) {
        size_t l = strlen(rights);
        snprintf(rights + l, sizeof rights - l, "%s%s", l ? "," : "", json_string_value(v));
    }
    if (!rights[0])
        strcpy(rights, "none");
    json_int_t p = json_integer_value(json_object_get(o, "parent"));
    if (p)
        snprintf(parent, sizeof parent, "%lld", (long long)p);
    json_int_t e = json_integer_value(json_object_get(o, "expires_in_ns"));
    if (e)
        snprintf(expires, sizeof expires, "%.3fs", (double)e / 1e9);
    bool revoked = json_is_true(json_object_get(o, "revoked"));
    bool expired = json_is_true(json_object_get(o, "expired"));
    const char *where = json_str_or(o, "path", json_str_or(o, "console", "-"));
    printf("%-5lld %-6s %-7s %-7s %-40s %-9s %-4lld %-7s ",
           (long long)json_integer_value(json_object_get(o, "cap")), parent,
           json_str_or(o, "kind", "?"), json_str_or(o, "how", "?"), rights, expires,
           (long long)json_integer_value(json_object_get(o, "refs")),
           expired ? "expired" : revoked ? "revoked" : "live");
    print_clean(where);
    json_decref(o);
}

int cap_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "control", required_argument, NULL, 'c' },
        { "path", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    if (argc < 2)
        return cap_bad_usage("missing command (list, revoke or info)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        cap_usage(stdout);
        return 0;
    }
    bool list = !strcmp(cmd, "list"), revoke = !strcmp(cmd, "revoke"),
         info = !strcmp(cmd, "info");
    if (!list && !revoke && !info)
        return cap_bad_usage("unknown command (expected list, revoke or info)");
    const char *control = NULL, *guest_path = NULL;
    bool json = false;
    int c;
    optind = 1;
    opterr = 0;
    argc--, argv++;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': control = optarg; break;
        case 'p': guest_path = optarg; break;
        case 'j': json = true; break;
        case 'h': cap_usage(stdout); return 0;
        case ':': return cap_bad_usage("an option needs a value");
        default: return cap_bad_usage("unknown option");
        }
    }
    if (!control)
        return cap_bad_usage("--control PATH is required (the job's control socket)");
    if ((guest_path && !revoke) || (json && !list))
        return cap_bad_usage(guest_path ? "--path goes with revoke" : "--json goes with list");
    char request[4096];
    if (list || info) {
        if (optind != argc)
            return cap_bad_usage("unexpected argument");
        snprintf(request, sizeof request, "%s", list ? "list" : "info");
    } else if (guest_path) {
        if (optind != argc)
            return cap_bad_usage("give either CAP_ID or --path GUEST_PATH, not both");
        if (guest_path[0] != '/' || strpbrk(guest_path, "\r\n") ||
            strlen(guest_path) > sizeof request - 20)
            return cap_bad_usage("--path: expected an absolute guest path on one line");
        snprintf(request, sizeof request, "revoke-path %s", guest_path);
    } else {
        if (optind + 1 != argc)
            return cap_bad_usage("revoke: expected one CAP_ID or --path GUEST_PATH");
        const char *id = argv[optind];
        if (!id[0] || strspn(id, "0123456789") != strlen(id) || strlen(id) > 10)
            return cap_bad_usage("revoke: CAP_ID must be a capability id (a positive number)");
        snprintf(request, sizeof request, "revoke %s", id);
    }
    char *answer = NULL;
    int rc = exchange(control, request, &answer);
    if (rc)
        return rc;
    char *status = status_line(answer);
    if (!status || (strncmp(status, "ok", 2) != 0 && strncmp(status, "error ", 6) != 0)) {
        log_err("control socket %s: unexpected answer", control);
        free(answer);
        return EXIT_ISOVM_ERROR;
    }
    if (!strncmp(status, "error ", 6)) {
        log_err("cap %s: %s", cmd, status + 6);
        free(answer);
        return 1;
    }
    if (list && !json)
        printf("%-5s %-6s %-7s %-7s %-40s %-9s %-4s %-7s %s\n", "CAP", "PARENT", "KIND", "HOW",
               "RIGHTS", "EXPIRES", "REFS", "STATE", "PATH");
    for (char *line = answer; line < status;) {
        char *nl = strchr(line, '\n');
        *nl = '\0';
        if (list && !json)
            print_row(line);
        else
            puts(line);
        line = nl + 1;
    }
    if (revoke) {
        long n = strtol(status + 2, NULL, 10);
        printf("revoked %ld capabilit%s\n", n, n == 1 ? "y" : "ies");
    }
    free(answer);
    return fflush(stdout) == 0 ? 0 : EXIT_ISOVM_ERROR;
}
