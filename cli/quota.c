/* `isovm quota set|show|report|serve|keeper`: budgets into the ledger, usage out of it as a table, JSON or OpenMetrics or over HTTP for Prometheus, and the keeper service. */
#include "cli/quota.h"
#include <errno.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/quota_metrics.h"
#include "cli/quota_serve.h"
#include "quota/keeper.h"
#include "lib/log.h"
#include "policy/units.h"
#include "quota/budget.h"
#include "quota/ledger.h"
#include "vmm/run/launch.h"

static void quota_usage(FILE *f)
{
    fprintf(f,
        "usage: isovm quota set [--ledger PATH] TENANT ITEM...\n"
        "       isovm quota show [--ledger PATH] TENANT\n"
        "       isovm quota report [--ledger PATH] [--tenant T] [--since WHEN]\n"
        "                          [--format table|json|openmetrics|prometheus]\n"
        "       isovm quota serve [--ledger PATH] --listen ADDR:PORT\n"
        "       isovm quota keeper [--ledger PATH] [--socket PATH]\n"
        "Budgets that span a tenant's jobs, kept in an SQLite ledger (docs/quota.md).\n"
        "ITEM: cpu=DURATION/WINDOW (cpu=10h/day), io=SIZE/WINDOW and net=SIZE/WINDOW\n"
        "      (io=200GiB/month), jobs=N (jobs at once), memory=SIZE (guest RAM at once),\n"
        "      NAME=unlimited to lift one. WINDOW: hour, day, week, month (calendar, UTC).\n"
        "--ledger PATH  the ledger (default: $ISOVM_LEDGER, else /var/lib/isovm/ledger.db for\n"
        "               root, else ~/.local/state/isovm/ledger.db); made if missing\n"
        "--format       openmetrics: OpenMetrics 1.0; prometheus: the Prometheus text format\n"
        "               0.0.4 (what Debian's promtool checks)\n"
        "--since WHEN   jobs started since WHEN: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), or a\n"
        "               duration ago (24h, 90m)\n"
        "serve          answers GET /metrics over HTTP/1.1 for Prometheus until SIGINT or SIGTERM:\n"
        "               OpenMetrics when Accept asks for application/openmetrics-text, else the\n"
        "               Prometheus text format; read-only; 404 other paths, 405 other methods\n"
        "--listen ADDR:PORT  a numeric IPv4 address or [IPv6], PORT 1..65535; meant for loopback\n"
        "               (127.0.0.1:9464): there is no TLS and no authentication\n"
        "keeper         the keeper service: holds the ledger for every `launch --tenant` given\n"
        "               --ledger-socket PATH (or $ISOVM_LEDGER_SOCKET), so that a launch does not\n"
        "               open SQLite itself; SIGINT or SIGTERM: no new jobs, the running ones to\n"
        "               their end, then exit (again: at once)\n"
        "--socket PATH  the keeper service's Unix socket (made 0600; root and the service's user;\n"
        "               default /run/isovm/ledger.sock, where a root launch with the default\n"
        "               ledger finds it)\n"
        "Exit status: 0 (serve, keeper: after SIGINT or SIGTERM); 1 when the ledger cannot be used\n"
        "(serve: or the address cannot be listened on; keeper: or the socket); 125 on bad usage.\n");
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_errv(fmt, ap);
    va_end(ap);
    fprintf(stderr, "(isovm quota --help for usage)\n");
    return EXIT_ISOVM_ERROR;
}

/* --since: a UTC date or time, or a duration before now. */
static int since_parse(const char *s, int64_t now_s, int64_t *out)
{
    struct tm tm = { 0 };
    const char *end;
    if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) && !*end) {
        *out = (int64_t)timegm(&tm);
        return 0;
    }
    memset(&tm, 0, sizeof tm);
    if ((end = strptime(s, "%Y-%m-%d", &tm)) && !*end) {
        *out = (int64_t)timegm(&tm);
        return 0;
    }
    uint64_t ns;
    if (duration_parse(s, &ns) == 0) {
        uint64_t secs = ns / 1000000000ull;
        *out = secs > (uint64_t)now_s ? 0 : now_s - (int64_t)secs;
        return 0;
    }
    return -EINVAL;
}

/* Human units for the table: "1.50 GiB", "2h 03m 04s", "0.25 s". */
static void human(int r, uint64_t v, char *buf, size_t len)
{
    if (r == QUOTA_CPU) {
        uint64_t s = v / 1000000000ull;
        if (s >= 3600)
            snprintf(buf, len, "%" PRIu64 "h %02" PRIu64 "m %02" PRIu64 "s", s / 3600, s / 60 % 60,
                     s % 60);
        else if (s >= 60)
            snprintf(buf, len, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
        else
            snprintf(buf, len, "%.2f s", (double)v / 1e9);
    } else if (r == QUOTA_JOBS) {
        snprintf(buf, len, "%" PRIu64, v);
    } else {
        static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double d = (double)v;
        int u = 0;
        while (d >= 1024 && u < 5) {
            d /= 1024;
            u++;
        }
        if (u == 0)
            snprintf(buf, len, "%" PRIu64 " B", v);
        else
            snprintf(buf, len, "%.2f %s", d, unit[u]);
    }
}

/* RFC 3339 ("2026-12-05T15:04:05Z") when iso, else "2026-12-05 15:04". */
static void utc_text(int64_t s, bool iso, char *buf, size_t len)
{
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        !(iso ? strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) : strftime(buf, len, "%Y-%m-%d %H:%M", &tm)))
        snprintf(buf, len, "%" PRId64, s);
}

struct report_ctx {
    const char *format;
    int64_t now_s;
    int tenants;
    json_t *list;                  /* json: the tenants' objects */
};

static int report_table(const struct ledger_tenant_use *t, struct report_ctx *c)
{
    if (c->tenants++ == 0)
        printf("%-20s %-8s %-16s %-18s %-16s %s\n", "TENANT", "BUDGET", "USED", "LIMIT", "LEFT",
               "UNTIL");
    for (int r = 0; r < QUOTA_NRES; r++) {
        const struct quota_budget *b = &t->budgets.of[r];
        char used[40], limit[48], left[40], until[40] = "-";
        human(r, t->used[r], used, sizeof used);
        if (r == QUOTA_JOBS)
            snprintf(used, sizeof used, "%" PRIu64 " running", t->used[r]);
        if (!b->set) {
            snprintf(limit, sizeof limit, "unlimited");
            snprintf(left, sizeof left, "-");
        } else {
            char item[64];
            quota_budget_format((enum quota_resource)r, b, item, sizeof item);
            snprintf(limit, sizeof limit, "%s", strchr(item, '=') + 1);
            human(r, b->amount > t->used[r] ? b->amount - t->used[r] : 0, left, sizeof left);
            if (b->window != QUOTA_AT_ONCE)
                utc_text(quota_window_end(b->window, c->now_s), false, until,
                         sizeof until);
        }
        printf("%-20s %-8s %-16s %-18s %-16s %s\n", t->tenant,
               quota_resource_name((enum quota_resource)r), used, limit, left, until);
    }
    char cpu[40], wall[40], rd[40], wr[40], rx[40], tx[40], peak[40];
    human(QUOTA_CPU, t->total.cpu_ns, cpu, sizeof cpu);
    human(QUOTA_CPU, t->total.wall_ns, wall, sizeof wall);
    human(QUOTA_IO, t->total.read_bytes, rd, sizeof rd);
    human(QUOTA_IO, t->total.write_bytes, wr, sizeof wr);
    human(QUOTA_NET, t->total.net_rx_bytes, rx, sizeof rx);
    human(QUOTA_NET, t->total.net_tx_bytes, tx, sizeof tx);
    human(QUOTA_MEMORY, t->total.memory_peak_bytes, peak, sizeof peak);
    printf("%-20s jobs %" PRIu64 " (%" PRIu64 " running, %" PRIu64 " recovered after their VMM "
           "died): cpu %s, wall %s, read %s in %" PRIu64 " ops, written %s in %" PRIu64
           " ops, net in %s, out %s, memory peak %s, %" PRIu64 " hypercalls\n",
           t->tenant, t->jobs_total, t->jobs_running, t->jobs_recovered, cpu, wall, rd,
           t->total.read_ops, wr, t->total.write_ops, rx, tx, peak, t->total.hypercalls);
    return 0;
}

/* JSON keys carry their units. */
static const char *const json_key[QUOTA_NRES] = { "cpu_ns", "io_bytes", "net_bytes", "jobs",
                                                  "memory_bytes" };

static int report_json(const struct ledger_tenant_use *t, struct report_ctx *c)
{
    json_t *budgets = json_object();
    for (int r = 0; r < QUOTA_NRES; r++) {
        const struct quota_budget *b = &t->budgets.of[r];
        json_t *o = json_object();
        json_object_set_new(o, r == QUOTA_JOBS ? "running" : r == QUOTA_MEMORY ? "held" : "used",
                            json_integer((json_int_t)t->used[r]));
        if (b->set) {
            json_object_set_new(o, "limit", json_integer((json_int_t)b->amount));
            json_object_set_new(o, "left", json_integer((json_int_t)(b->amount > t->used[r]
                                                                         ? b->amount - t->used[r]
                                                                         : 0)));
            if (b->window != QUOTA_AT_ONCE) {
                char a[32], z[32];
                utc_text(quota_window_start(b->window, c->now_s), true, a, sizeof a);
                utc_text(quota_window_end(b->window, c->now_s), true, z, sizeof z);
                json_object_set_new(o, "window", json_string(quota_window_name(b->window)));
                json_object_set_new(o, "window_start", json_string(a));
                json_object_set_new(o, "window_end", json_string(z));
            }
        } else {
            json_object_set_new(o, "limit", json_null());
        }
        json_object_set_new(budgets, json_key[r], o);
    }
    const struct ledger_usage *u = &t->total;
    json_t *usage = json_pack("{sIsIsIsIsIsIsIsIsIsI}", "cpu_ns", (json_int_t)u->cpu_ns,
                              "wall_ns", (json_int_t)u->wall_ns, "memory_peak_bytes",
                              (json_int_t)u->memory_peak_bytes, "read_bytes",
                              (json_int_t)u->read_bytes, "read_ops", (json_int_t)u->read_ops,
                              "write_bytes", (json_int_t)u->write_bytes, "write_ops",
                              (json_int_t)u->write_ops, "net_rx_bytes", (json_int_t)u->net_rx_bytes,
                              "net_tx_bytes", (json_int_t)u->net_tx_bytes, "hypercalls",
                              (json_int_t)u->hypercalls);
    json_t *o = json_pack("{sssIsIsIsoso}", "tenant", t->tenant, "jobs_total",
                          (json_int_t)t->jobs_total, "jobs_running", (json_int_t)t->jobs_running,
                          "jobs_recovered", (json_int_t)t->jobs_recovered, "budgets", budgets,
                          "usage", usage);
    if (!o)
        return -ENOMEM;
    json_array_append_new(c->list, o);
    return 0;
}

static int collect(const struct ledger_tenant_use *t, void *ctx)
{
    struct report_ctx *c = ctx;
    if (!strcmp(c->format, "table"))
        return report_table(t, c);
    return report_json(t, c);
}

/* --ledger PATH options from argv[i] on, into path (the last one wins); returns the index of
 * the first other argument, or -1 for a path too long. */
static int ledger_arg(int argc, char **argv, int i, char *path, size_t len)
{
    for (; i < argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--ledger") && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--ledger=", 9))
            v = argv[i] + 9;
        else
            break;
        if (!*v || snprintf(path, len, "%s", v) >= (int)len)
            return -1;
    }
    return i;
}

static int open_ledger(const char *path, struct ledger **l)
{
    char err[512];
    if (ledger_open(path, l, err, sizeof err) < 0) {
        log_err("%s", err);
        return 1;
    }
    return 0;
}

static int quota_set(int argc, char **argv, const char *path)
{
    if (argc < 2)
        return bad_usage("quota set: give a tenant and at least one budget (isovm quota set acme "
                         "cpu=10h/day jobs=4)");
    const char *tenant = argv[0];
    if (!ledger_tenant_valid(tenant))
        return bad_usage("quota set: tenant '%s': 1 to %d of A-Z a-z 0-9 . _ -, not starting with "
                         ". or -", tenant, LEDGER_TENANT_MAX);
    struct quota_budgets b = { 0 };
    bool lift[QUOTA_NRES] = { 0 };
    char err[256];
    for (int i = 1; i < argc; i++) {
        if (quota_budget_apply(&b, argv[i], err, sizeof err) < 0)
            return bad_usage("quota set: %s", err);
        const char *eq = strchr(argv[i], '=');
        for (int r = 0; eq && !strcmp(eq + 1, "unlimited") && r < QUOTA_NRES; r++) {
            const char *name = quota_resource_name((enum quota_resource)r);
            if (strlen(name) == (size_t)(eq - argv[i]) && !strncmp(argv[i], name, strlen(name)))
                lift[r] = true;
        }
    }
    struct ledger *l;
    if (open_ledger(path, &l))
        return 1;
    char lerr[512];
    int rc = ledger_budgets_set(l, tenant, &b, lift, lerr, sizeof lerr);
    ledger_close(l);
    if (rc < 0) {
        log_err("%s", lerr);
        return 1;
    }
    return 0;
}

static int quota_show(int argc, char **argv, const char *path)
{
    if (argc != 1)
        return bad_usage("quota show: give one tenant");
    if (!ledger_tenant_valid(argv[0]))
        return bad_usage("quota show: tenant '%s' is not a tenant name", argv[0]);
    struct ledger *l;
    if (open_ledger(path, &l))
        return 1;
    struct quota_budgets b;
    bool known;
    char err[512];
    int rc = ledger_budgets_get(l, argv[0], &b, &known, err, sizeof err);
    ledger_close(l);
    if (rc < 0) {
        log_err("%s", err);
        return 1;
    }
    if (!known) {
        log_err("quota show: no tenant '%s' in the ledger %s", argv[0], path);
        return 1;
    }
    printf("%s", argv[0]);
    for (int r = 0; r < QUOTA_NRES; r++) {
        char item[64];
        quota_budget_format((enum quota_resource)r, &b.of[r], item, sizeof item);
        printf(" %s", item);
    }
    printf("\n");
    return 0;
}

static int quota_report(int argc, char **argv, const char *path)
{
    const char *tenant = NULL, *format = "table", *since = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = !strcmp(a, "--tenant") ? &tenant : !strcmp(a, "--format") ? &format
                           : !strcmp(a, "--since") ? &since : NULL;
        if (!dst)
            return bad_usage("quota report: unknown argument '%s'", a);
        if (i + 1 >= argc)
            return bad_usage("quota report: %s needs a value", a);
        *dst = argv[++i];
    }
    if (strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "openmetrics") &&
        strcmp(format, "prometheus"))
        return bad_usage("quota report: --format '%s': table, json, openmetrics or prometheus",
                         format);
    if (tenant && !ledger_tenant_valid(tenant))
        return bad_usage("quota report: --tenant '%s' is not a tenant name", tenant);
    int64_t now_s = (int64_t)time(NULL), since_s = 0;
    if (since && since_parse(since, now_s, &since_s) < 0)
        return bad_usage("quota report: --since '%s': YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or a "
                         "duration ago (24h)", since);
    struct ledger *l;
    if (open_ledger(path, &l))
        return 1;
    char err[512];
    if (!strcmp(format, "openmetrics") || !strcmp(format, "prometheus")) {
        int rc = quota_metrics_write(stdout, l, tenant, since_s, now_s,
                                     !strcmp(format, "openmetrics"), err, sizeof err);
        ledger_close(l);
        if (rc < 0)
            log_err("%s", err);
        return rc < 0 ? 1 : 0;
    }
    struct report_ctx c = { .format = format, .now_s = now_s };
    if (!strcmp(format, "json"))
        c.list = json_array();
    int rc = ledger_report(l, tenant, since_s, now_s, collect, &c, err, sizeof err);
    ledger_close(l);
    if (rc < 0) {
        log_err("%s", rc == -ENOMEM ? "out of memory" : err);
        json_decref(c.list);
        return 1;
    }
    if (!strcmp(format, "json")) {
        char at[32];
        utc_text(now_s, true, at, sizeof at);
        json_t *doc = json_pack("{sssssIso}", "ledger", path, "generated_at", at, "since_s",
                                (json_int_t)since_s, "tenants", c.list);
        char *s = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
        if (!s) {
            json_decref(doc);
            log_err("out of memory");
            return 1;
        }
        printf("%s\n", s);
        free(s);
        json_decref(doc);
    } else if (c.tenants == 0) {
        printf("no tenants%s%s in the ledger %s\n", tenant ? " named " : "", tenant ? tenant : "",
               path);
    }
    return 0;
}

static int quota_keeper_cmd(int argc, char **argv, const char *path)
{
    const char *sock = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--socket"))
            return bad_usage("quota keeper: unknown argument '%s'", argv[i]);
        if (i + 1 >= argc || !argv[i + 1][0])
            return bad_usage("quota keeper: --socket needs a path (/run/isovm/ledger.sock)");
        sock = argv[++i];
    }
    if (!sock) { /* the default: made with its folder */
        sock = KEEPER_DEFAULT_SOCKET;
        if (mkdir("/run/isovm", 0755) < 0 && errno != EEXIST) {
            log_err("quota keeper: cannot make /run/isovm: %s (give --socket PATH)", strerror(errno));
            return 1;
        }
    }
    return keeper_service_run(path, sock);
}

static int quota_serve_cmd(int argc, char **argv, const char *path)
{
    const char *listen = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--listen"))
            return bad_usage("quota serve: unknown argument '%s'", argv[i]);
        if (i + 1 >= argc)
            return bad_usage("quota serve: --listen needs ADDR:PORT (127.0.0.1:9464)");
        listen = argv[++i];
    }
    if (!listen)
        return bad_usage("quota serve: give --listen ADDR:PORT (127.0.0.1:9464)");
    struct quota_listen at;
    if (quota_listen_parse(listen, &at) < 0)
        return bad_usage("quota serve: --listen '%s': a numeric IPv4 address or a bracketed IPv6 one, "
                         "a colon and a port 1..65535 (127.0.0.1:9464, [::1]:9464)", listen);
    return quota_serve(path, listen, &at);
}

int cmd_quota(int argc, char **argv)
{
    char path[4096] = "";
    /* isovm quota [--ledger PATH] SUBCOMMAND [--ledger PATH] ARGS... */
    int i = ledger_arg(argc, argv, 1, path, sizeof path);
    if (i < 0)
        return bad_usage("quota: --ledger needs a path (at most %zu bytes)", sizeof path - 1);
    if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
        quota_usage(i >= argc ? stderr : stdout);
        return i >= argc ? EXIT_ISOVM_ERROR : 0;
    }
    const char *sub = argv[i];
    i = ledger_arg(argc, argv, i + 1, path, sizeof path);
    if (i < 0)
        return bad_usage("quota: --ledger needs a path (at most %zu bytes)", sizeof path - 1);
    if (!path[0] && ledger_default_path(path, sizeof path) < 0)
        return bad_usage("quota: no ledger path (give --ledger PATH, or set ISOVM_LEDGER or HOME)");
    if (!strcmp(sub, "set"))
        return quota_set(argc - i, argv + i, path);
    if (!strcmp(sub, "show"))
        return quota_show(argc - i, argv + i, path);
    if (!strcmp(sub, "report"))
        return quota_report(argc - i, argv + i, path);
    if (!strcmp(sub, "serve"))
        return quota_serve_cmd(argc - i, argv + i, path);
    if (!strcmp(sub, "keeper"))
        return quota_keeper_cmd(argc - i, argv + i, path);
    return bad_usage("quota: unknown subcommand '%s' (set, show, report, serve, keeper)", sub);
}
