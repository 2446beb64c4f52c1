/* 9P2000.L on the wire: message types, and a bounds-checked reader and writer of its fields. */
#ifndef ISOVM_P9_WIRE_H
#define ISOVM_P9_WIRE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The message types isovm's server knows (T: request, R = T + 1: its reply). */
enum p9_type {
    P9_RLERROR = 7,
    P9_TSTATFS = 8, P9_TLOPEN = 12, P9_TLCREATE = 14, P9_TSYMLINK = 16, P9_TMKNOD = 18,
    P9_TRENAME = 20, P9_TREADLINK = 22, P9_TGETATTR = 24, P9_TSETATTR = 26,
    P9_TXATTRWALK = 30, P9_TXATTRCREATE = 32, P9_TREADDIR = 40, P9_TFSYNC = 50, P9_TLOCK = 52,
    P9_TGETLOCK = 54, P9_TLINK = 70, P9_TMKDIR = 72, P9_TRENAMEAT = 74, P9_TUNLINKAT = 76,
    P9_TVERSION = 100, P9_TAUTH = 102, P9_TATTACH = 104, P9_TFLUSH = 108, P9_TWALK = 110,
    P9_TREAD = 116, P9_TWRITE = 118, P9_TCLUNK = 120, P9_TREMOVE = 122,
};

#define P9_HDR_LEN     7u          /* size[4] type[1] tag[2] */
#define P9_NOTAG       0xffffu
#define P9_NOFID       0xffffffffu
#define P9_MAXWELEM    16u         /* names in one Twalk */
#define P9_QID_LEN     13u         /* type[1] version[4] path[8] */
#define P9_QTDIR       0x80
#define P9_QTSYMLINK   0x02
#define P9_QTFILE      0x00
#define P9_NAME_MAX    255u        /* one path component, as Linux's NAME_MAX */
#define P9_STR_MAX     4096u       /* any string (a symlink's target: PATH_MAX) */
#define P9_TREAD_HDR   23u         /* Tread: hdr fid[4] offset[8] count[4] */
#define P9_TWRITE_HDR  23u         /* Twrite: hdr fid[4] offset[8] count[4], then the data */
#define P9_RREAD_HDR   11u         /* Rread: hdr count[4], then the data */

/* Fields read from one message: every read checks the bytes are there; after the first one
 * that is not, `bad` is set and every later read gives zeros (check bad once, at the end). */
struct p9_in {
    const uint8_t *p;
    size_t len, off;
    bool bad;
};

/* A string field: `len` bytes at `s` (not NUL-terminated on the wire). */
struct p9_str {
    const char *s;
    uint16_t len;
};

void p9_in_init(struct p9_in *in, const void *msg, size_t len);
uint8_t p9_get8(struct p9_in *in);
uint16_t p9_get16(struct p9_in *in);
uint32_t p9_get32(struct p9_in *in);
uint64_t p9_get64(struct p9_in *in);
/* A string of at most max bytes with no NUL in it (else bad). */
struct p9_str p9_get_str(struct p9_in *in, size_t max);
/* Are all bytes read (a message with bytes left over is malformed)? */
bool p9_in_done(const struct p9_in *in);

/* A reply being written into buf[0..cap): the header first (p9_out_begin), fields after it,
 * then p9_out_end fills in the size. A field that does not fit sets `bad`. */
struct p9_out {
    uint8_t *p;
    size_t cap, off;
    bool bad;
};

void p9_out_begin(struct p9_out *out, void *buf, size_t cap, uint8_t type, uint16_t tag);
void p9_put8(struct p9_out *out, uint8_t v);
void p9_put16(struct p9_out *out, uint16_t v);
void p9_put32(struct p9_out *out, uint32_t v);
void p9_put64(struct p9_out *out, uint64_t v);
void p9_put_str(struct p9_out *out, const char *s, size_t len);
void p9_put_qid(struct p9_out *out, uint8_t type, uint32_t version, uint64_t path);
/* The message's length (its size field set), or 0 when something did not fit. */
size_t p9_out_end(struct p9_out *out);

/* Is s[0..len) one path component a server may use as a name: 1..P9_NAME_MAX bytes, no '/'
 * and no NUL, not "." and not ".."? */
bool p9_name_ok(const struct p9_str *s);

#endif
