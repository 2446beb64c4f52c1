/* The module order file's grammar (init/abi.h): a module's file name, then the file system types
 * it serves, one space apart; and the tags a job file asks for. */
#include "init/modules_order.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool module_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n > 200 || strcmp(s + n - 3, ".ko") || s[0] == '.')
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return false;
    return true;
}

static bool module_tag_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 32)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return false;
    return true;
}

int modules_order_line_parse(char *text, size_t len, struct modules_order_line *l, char *err,
                             size_t errlen, unsigned line)
{
    memset(l, 0, sizeof *l);
    if (strlen(text) != len) {
        snprintf(err, errlen, "line %u of %s: a NUL byte", line, ISOVM_MODULES_ORDER);
        return -EINVAL;
    }
    l->name = text;
    char *sp = strchr(text, ' ');
    while (sp) {
        *sp = '\0';
        char *t = sp + 1;
        sp = strchr(t, ' ');
        if (sp)
            *sp = '\0'; /* the next round starts there: already a NUL */
        if (!module_tag_ok(t) || l->ntags == ISOVM_MODULE_TAGS_MAX) {
            snprintf(err, errlen, "line %u of %s: \"%.40s\" is not a tag ([a-z0-9_]+, one space "
                     "apart, at most %d)", line, ISOVM_MODULES_ORDER, t, ISOVM_MODULE_TAGS_MAX);
            return -EINVAL;
        }
        l->tag[l->ntags++] = t;
    }
    if (!module_name_ok(l->name)) {
        snprintf(err, errlen, "line %u of %s: \"%.60s\" is not a module file name (NAME.ko)", line,
                 ISOVM_MODULES_ORDER, l->name);
        return -EINVAL;
    }
    return 0;
}

bool modules_order_line_wanted(const struct modules_order_line *l, const char *const *tags,
                               size_t ntags)
{
    if (!l->ntags)
        return true;
    for (size_t i = 0; i < l->ntags; i++)
        for (size_t j = 0; j < ntags; j++)
            if (!strcmp(l->tag[i], tags[j]))
                return true;
    return false;
}

static void tag_add(const char **tags, size_t *n, size_t max, const char *t)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(tags[i], t))
            return;
    if (*n < max)
        tags[(*n)++] = t;
}

size_t modules_wanted_tags(const struct job_spec *spec, const char **tags, size_t max)
{
    size_t n = 0;
    if (spec->root_fstype)
        tag_add(tags, &n, max, spec->root_fstype);
    if (spec->overlay != JOB_OVERLAY_NONE)
        tag_add(tags, &n, max, "overlay");
    if (spec->overlay == JOB_OVERLAY_DISK && spec->overlay_fstype)
        tag_add(tags, &n, max, spec->overlay_fstype);
    for (size_t i = 0; i < spec->ndisks; i++)
        tag_add(tags, &n, max, spec->disks[i].fstype);
    if (spec->nshares)
        tag_add(tags, &n, max, "9p");
    if (spec->has_net)
        tag_add(tags, &n, max, "net");
    return n;
}
