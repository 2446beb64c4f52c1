/* libFuzzer harness for the snapshot file reader (vmm/linux/lsnap_file.c): the input is a whole
 * snapshot file. The expectation is taken from the input's own header (so that inputs get past
 * the key check and reach the region, digest, state and RAM checks), with RAM capped at 1 MiB.
 * An input starting "GEN!" is made into a sound file first (lsnap_write of a state, log and 16 KiB
 * of RAM taken from the rest of it), then read back: the writer and the accepting paths. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vmm/linux/lsnap_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct lstate st;
    struct lsnap_expect e;
    memset(&e, 0, sizeof e);
    if (size >= sizeof(struct lsnap_header)) {
        struct lsnap_header h;
        memcpy(&h, data, sizeof h);
        memcpy(e.key, h.key, sizeof e.key);
        e.mem_size = h.mem_size <= (1u << 20) ? h.mem_size : 4096;
        e.nvcpus = h.nvcpus;
    }
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (size >= 4 && memcmp(data, "GEN!", 4) == 0) {
        static uint8_t gen_ram[16384];
        struct lsnap_dev dev = { 0 };
        char err[256];
        uint64_t bytes;
        data += 4;
        size -= 4;
        memset(&st, 0, sizeof st);
        memset(gen_ram, 0, sizeof gen_ram);
        size_t n = size < sizeof gen_ram ? size : sizeof gen_ram;
        memcpy(gen_ram, data, n);
        memcpy(&st, data, size < sizeof st ? size : sizeof st);
        st.nvcpus = 1;
        st.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
        st.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
        st.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
        st.vcpu[0].nmsrs = 1 + st.vcpu[0].nmsrs % LSTATE_MAX_MSRS;
        memset(&e, 0x5a, sizeof e.key);
        e.mem_size = sizeof gen_ram;
        e.nvcpus = 1;
        if (lsnap_write(fd, &e, &st, &dev, (const char *)data, size, gen_ram, &bytes, NULL, NULL, err, sizeof err) != 0) {
            close(fd);
            return 0;
        }
        uint8_t *ram = calloc(1, sizeof gen_ram);
        char *log = NULL;
        size_t log_len = 0;
        if (ram && lsnap_read(fd, &e, &st, &dev, &log, &log_len, ram, false, err, sizeof err) == 0 &&
            (memcmp(ram, gen_ram, sizeof gen_ram) != 0 || log_len != (size < LSNAP_LOG_MAX ? size : LSNAP_LOG_MAX)))
            abort(); /* what was written is what is read */
        free(log);
        free(ram);
        close(fd);
        return 0;
    }
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    uint8_t *ram = e.mem_size ? calloc(1, (size_t)e.mem_size) : NULL;
    char *log = NULL, err[256];
    size_t log_len = 0;
    struct lsnap_dev dev;
    if (lsnap_read(fd, &e, &st, &dev, &log, &log_len, ram ? ram : (uint8_t *)&dev, false, err, sizeof err) == 0 &&
        log_len)
        (void)log[log_len - 1];
    free(log);
    free(ram);
    close(fd);
    return 0;
}
