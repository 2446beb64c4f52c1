/* The initramfs writer: archives that GNU cpio lists and extracts byte for byte, names refused,
 * the buffer never overrun. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmm/linux/cpio.h"

static void test_extract(void **state)
{
    (void)state;
    static uint8_t buf[1 << 16];
    struct cpio c;
    cpio_init(&c, buf, sizeof buf);
    cpio_dir(&c, "isovm", 0755);
    cpio_dir(&c, "lib", 0755);
    cpio_dir(&c, "lib/modules", 0755);
    cpio_file(&c, "isovm/job", 0644, "version 1\narg /bin/true\n", 24);
    cpio_file(&c, "init", 0755, "\x7f" "ELF....", 8);
    cpio_file(&c, "lib/modules/a.ko", 0644, "abc", 3); /* 3 bytes: padding follows */
    cpio_file(&c, "empty", 0600, NULL, 0);
    cpio_trailer(&c);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.len % 4, 0);
    assert_memory_equal(buf, "070701", 6);
    if (access("/usr/bin/cpio", X_OK) != 0) {
        printf("note: no /usr/bin/cpio: archive not extracted\n");
        return;
    }
    char dir[] = "/tmp/test_cpio.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], cmd[512];
    snprintf(path, sizeof path, "%s/a.cpio", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, c.len, f), c.len);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cd %s && mkdir x && cd x && cpio -id --quiet < ../a.cpio && "
             "printf 'version 1\\narg /bin/true\\n' | cmp - isovm/job && printf abc | cmp - lib/modules/a.ko && "
             "test -d lib/modules && test -x init && test -f empty && ! test -s empty && "
             "test \"$(stat -c %%a init)\" = 755 && test \"$(stat -c %%a empty)\" = 600",
             dir);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    (void)system(cmd);
    assert_int_equal(rc, 0);
}

static void test_refusals(void **state)
{
    (void)state;
    uint8_t buf[256];
    const char *bad[] = { "", "/abs", "a/../b", "..", "a//b", "a/", "./a" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cpio c;
        cpio_init(&c, buf, sizeof buf);
        cpio_file(&c, bad[i], 0644, "x", 1);
        assert_int_equal(c.err, -EINVAL);
        assert_int_equal(c.len, 0);
    }
    /* too small: -ENOSPC, never a byte past cap */
    memset(buf, 0xaa, sizeof buf);
    struct cpio c;
    cpio_init(&c, buf, 200);
    cpio_file(&c, "f", 0644, "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789", 110);
    assert_int_equal(c.err, -ENOSPC);
    assert_true(c.len <= 200);
    for (size_t i = 200; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0xaa);
    cpio_trailer(&c); /* ignored after the error */
    assert_int_equal(c.err, -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
