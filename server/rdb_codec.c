/*
 * server/rdb_codec.c - the two codecs of the RDB format that need nothing
 * else: Redis's CRC-64 and LZF decompression (rdb.h declares them; tests
 * link this file alone).
 */
#include "rdb.h"

#include <pthread.h>
#include <string.h>

/* ======================================================================
 * CRC-64 and LZF
 * ====================================================================== */

static uint64_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

/* The table of the reflected Jones polynomial 0xad93d23594c935a9. */
static void crc_init(void)
{
    const uint64_t poly = 0x95ac9329ac4bc9b5ULL;   // 0xad93d23594c935a9 bit-reversed
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        }
        crc_table[i] = c;
    }
}

uint64_t srv_crc64(uint64_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        crc = crc_table[(crc ^ s[i]) & 0xff] ^ (crc >> 8);
    }
    return crc;
}

/* LZF: a control byte below 32 is a run of ctrl+1 literal bytes; else its
 * top 3 bits are a length (7: plus the next byte) and the rest with the
 * next byte an offset back into what was produced: copy length+2 bytes. */
bool srv_lzf_decompress(const void *in, size_t n, void *out, size_t outn)
{
    const unsigned char *ip = in, *end = ip + n;
    unsigned char *op = out, *oend = op + outn;
    while (ip < end) {
        unsigned ctrl = *ip++;
        if (ctrl < 32) {
            size_t len = ctrl + 1;
            if ((size_t)(end - ip) < len || (size_t)(oend - op) < len) {
                return false;
            }
            memcpy(op, ip, len);
            ip += len;
            op += len;
            continue;
        }
        size_t len = ctrl >> 5;
        if (len == 7) {
            if (ip >= end) {
                return false;
            }
            len += *ip++;
        }
        if (ip >= end) {
            return false;
        }
        size_t back = ((size_t)(ctrl & 0x1f) << 8) + *ip++ + 1;
        len += 2;
        if (back > (size_t)(op - (unsigned char *)out) || (size_t)(oend - op) < len) {
            return false;
        }
        const unsigned char *ref = op - back;
        for (size_t i = 0; i < len; i++) {
            op[i] = ref[i];     // the copy may overlap what it writes
        }
        op += len;
    }
    return op == oend;
}
