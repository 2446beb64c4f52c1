/* libFuzzer harness for the grants' 9P2000.L server (vmm/share/): the input is a sequence of
 * requests (each a little-endian u16 length, then that many bytes, whose own size field is set
 * to that length unless the input's first byte is odd), served after Tversion and a Tattach of
 * fid 1 to each of two grants (/w rw, /r ro) over a small tree in a private temporary directory.
 * Twrite's data and Tread's destination are plain buffers here. Every reply must be a whole
 * message no longer than the room given. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "devices/virtio/le.h"
#include "devices/virtio/p9/p9_wire.h"
#include "lib/clock.h"
#include "vmm/caps/fd.h"
#include "vmm/caps/grants.h"
#include "vmm/share/p9_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct job *job;
static uint8_t reply[65536], rdata[65536], req[P9_REQ_MAX + 65536];

static void setup(void)
{
    static char base[] = "/tmp/isovm-fuzz-p9.XXXXXX";
    if (!mkdtemp(base))
        abort();
    char p[256];
    snprintf(p, sizeof p, "%s/w", base);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/w/sub", base);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/r", base);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/w/a.txt", base);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs("some file data\n", f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/w/esc", base);
    if (symlink("../r", p) < 0) { /* already there */ }
    job = calloc(1, sizeof *job);
    struct policy pol;
    memset(&pol, 0, sizeof pol);
    pol.max_capabilities = 64;
    snprintf(pol.grants[0].guest, sizeof pol.grants[0].guest, "/w");
    snprintf(pol.grants[0].host, sizeof pol.grants[0].host, "%s/w", base);
    pol.grants[0].rights = CAP_RIGHTS_RW;
    snprintf(pol.grants[1].guest, sizeof pol.grants[1].guest, "/r");
    snprintf(pol.grants[1].host, sizeof pol.grants[1].host, "%s/r", base);
    pol.grants[1].rights = CAP_RIGHTS_RO;
    pol.ngrants = 2;
    if (!job || job_init(job, &pol) < 0 || fd_table_init(job) < 0)
        abort();
    job->start_ns = mono_ns();
    if (grants_open(job) < 0)
        abort();
}

static size_t serve(struct p9_server *s, const uint8_t *msg, size_t len, bool fix_size)
{
    if (len > sizeof req)
        len = sizeof req;
    memcpy(req, msg, len);
    uint32_t sz = len >= 4 ? (uint32_t)le_get(req, 4) : 0;
    if (fix_size && len >= 4) {
        le_put(req, len, 4);
        sz = (uint32_t)len;
    }
    struct p9_msg m = { .req = req, .req_len = len, .size = sz, .reply = reply, .reply_cap = sizeof reply };
    struct iovec rv = { rdata, sizeof rdata }, wv;
    m.rdata = &rv;
    m.nrdata = 1;
    m.rdata_cap = sizeof rdata;
    if (len >= P9_TWRITE_HDR && req[4] == P9_TWRITE) { /* the data after the fixed fields */
        m.req_len = P9_TWRITE_HDR;
        wv = (struct iovec){ req + P9_TWRITE_HDR, len - P9_TWRITE_HDR };
        m.wdata = &wv;
        m.nwdata = 1;
        m.wdata_len = len - P9_TWRITE_HDR;
    }
    size_t n = p9_server_handle(s, &m);
    size_t hdr = reply[4] == P9_TREAD + 1 ? P9_RREAD_HDR : n;
    if (n < P9_HDR_LEN || hdr > sizeof reply || le_get(reply, 4) != n)
        abort();
    return n;
}

static void session(struct p9_server *s)
{
    uint8_t b[128];
    struct p9_out o;
    p9_out_begin(&o, b, sizeof b, P9_TVERSION, P9_NOTAG);
    p9_put32(&o, 65536);
    p9_put_str(&o, "9P2000.L", 8);
    serve(s, b, p9_out_end(&o), false);
    for (uint32_t fid = 1; fid <= 2; fid++) {
        p9_out_begin(&o, b, sizeof b, P9_TATTACH, 1);
        p9_put32(&o, fid);
        p9_put32(&o, P9_NOFID);
        p9_put_str(&o, "u", 1);
        p9_put_str(&o, fid == 1 ? "/w" : "/r", 2);
        p9_put32(&o, 0);
        serve(s, b, p9_out_end(&o), false);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!job)
        setup();
    struct p9_server s;
    p9_server_init(&s, job);
    session(&s);
    bool fix = size && !(data[0] & 1);
    for (size_t off = 1; off + 2 <= size;) {
        size_t n = (size_t)le_get(data + off, 2);
        off += 2;
        if (n > size - off)
            n = size - off;
        serve(&s, data + off, n, fix);
        off += n;
    }
    p9_server_fini(&s);
    return 0;
}
