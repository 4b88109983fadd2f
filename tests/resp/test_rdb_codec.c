/*
 * test_rdb_codec.c - the RDB format's codecs alone (server/rdb_codec.c):
 * Redis's CRC-64 on its own test vector and in pieces, and LZF
 * decompression of literal runs, back references (overlapping ones too)
 * and malformed input.
 */
#include "rdb.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(crc64_vector)
{
    // Redis's crc64 test: "123456789" -> 0xe9c6d914c4b8d9ca.
    ck_assert_uint_eq(srv_crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
    ck_assert_uint_eq(srv_crc64(srv_crc64(0, "1234", 4), "56789", 5), 0xe9c6d914c4b8d9caULL);
    ck_assert_uint_eq(srv_crc64(0, "", 0), 0);
}
END_TEST

START_TEST(lzf_decompress)
{
    char out[64];
    // A literal run of 3 ("abc"), then a back reference of length 2+4=6
    // at distance 3: "abcabcabc".
    const unsigned char in[] = {2, 'a', 'b', 'c', (4 << 5) | 0, 2};
    ck_assert(srv_lzf_decompress(in, sizeof in, out, 9));
    ck_assert_int_eq(memcmp(out, "abcabcabc", 9), 0);
    // Length 7 takes the next byte: 7+3+2 = 12 copies of 'x' at distance 1.
    const unsigned char rep[] = {0, 'x', (7 << 5) | 0, 3, 0};
    ck_assert(srv_lzf_decompress(rep, sizeof rep, out, 13));
    ck_assert_int_eq(memcmp(out, "xxxxxxxxxxxxx", 13), 0);
    // Wrong size, a reference before the start, a truncated run.
    ck_assert(!srv_lzf_decompress(in, sizeof in, out, 8));
    const unsigned char back[] = {0, 'a', (1 << 5) | 0, 5};
    ck_assert(!srv_lzf_decompress(back, sizeof back, out, 4));
    const unsigned char cut[] = {5, 'a', 'b'};
    ck_assert(!srv_lzf_decompress(cut, sizeof cut, out, 6));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rdb_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, crc64_vector);
    tcase_add_test(tc, lzf_decompress);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
