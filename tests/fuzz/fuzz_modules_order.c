/* libFuzzer harness for the module order file's grammar (init/modules_order.c): the input is a
 * whole /lib/modules/order, split at LF as the init splits it. A line the parser accepts must
 * give a NAME.ko and at most ISOVM_MODULE_TAGS_MAX well-formed tags, all inside the line; a
 * refused one must say why. Which lines a job wants is checked against the tags themselves. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "init/modules_order.h"

static int tag_ok(const char *t)
{
    size_t n = strlen(t);
    if (n < 1 || n > 32)
        return 0;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '_'))
            return 0;
    return 1;
}

static void one_line(const uint8_t *data, size_t len, unsigned line)
{
    char *buf = malloc(len + 1);
    if (!buf)
        abort();
    memcpy(buf, data, len);
    buf[len] = '\0';
    struct modules_order_line l;
    char err[256] = "";
    if (modules_order_line_parse(buf, len, &l, err, sizeof err, line)) {
        if (!err[0] || strlen(err) >= sizeof err)
            abort(); /* every refusal says why */
        free(buf);
        return;
    }
    size_t n = strlen(l.name);
    if (l.name != buf || n < 4 || strcmp(l.name + n - 3, ".ko") || l.ntags > ISOVM_MODULE_TAGS_MAX)
        abort();
    for (size_t i = 0; i < l.ntags; i++) {
        if (l.tag[i] <= buf || l.tag[i] >= buf + len || !tag_ok(l.tag[i]))
            abort();
        const char *one[1] = { l.tag[i] };
        if (!modules_order_line_wanted(&l, one, 1))
            abort(); /* a job naming one of its tags wants it */
    }
    const char *other[1] = { "no-such-tag" }; /* '-' is never in a tag */
    if (modules_order_line_wanted(&l, other, 1) != (l.ntags == 0))
        abort(); /* an untagged module always, a tagged one only for its tags */
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned line = 0;
    for (size_t at = 0; at < size;) {
        const uint8_t *lf = memchr(data + at, '\n', size - at);
        size_t end = lf ? (size_t)(lf - data) : size;
        line++;
        if (end > at)
            one_line(data + at, end - at, line);
        at = end + 1;
    }
    return 0;
}
