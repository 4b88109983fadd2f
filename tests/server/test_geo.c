/*
 * test_geo.c - the GEO family over sorted sets: GEOADD (NX, XX, CH) and
 * the geohash scores it stores, GEOPOS, GEODIST (units), GEOHASH,
 * GEORADIUS, GEORADIUSBYMEMBER and their _RO forms, GEOSEARCH and
 * GEOSEARCHSTORE (FROMLONLAT/FROMMEMBER, BYRADIUS/BYBOX, WITHCOORD,
 * WITHDIST, WITHHASH, COUNT, ANY, ASC/DESC, STORE/STOREDIST), the keys
 * COMMAND GETKEYS finds, RESP3 coordinates and Redis's errors.  Replies
 * are compared byte for byte with Redis 7.0's (distances have four
 * decimals, coordinates seventeen less trailing zeros).  Every key shares
 * the {g} hash tag so that the STORE forms run in the sharded keyspace
 * too; there, a destination in another slot is refused with CROSSSLOT.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static bool sharded(void)
{
    for (int a = 0; a + 1 < th_cfg.nargs; a++) {
        if (strcmp(th_cfg.args[a], "--keyspace") == 0 &&
            strcmp(th_cfg.args[a + 1], "sharded") == 0) {
            return true;
        }
    }
    return false;
}

/* Switch c to RESP3 (HELLO's reply differs between servers: only its
 * shape is checked). */
static void hello3(th_conn *c)
{
    const char *const argv[] = {"HELLO", "3"};
    ck_assert_int_eq(th_send_cmd(c, 2, argv, NULL), 0);
    size_t n;
    char *r = th_read_reply(c, &n);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r[0] == '%', "HELLO 3: %s", r);
    free(r);
}

START_TEST(geo_add_pos_dist_hash)
{
    START();
    th_conn *c = CONNECT();
    // GEOADD: scores are 52-bit geohashes; NX, XX, CH as ZADD's
    EXPECT(c, ":2\r\n", "GEOADD", "{g}s", "13.361389", "38.115556", "Palermo", "15.087269",
           "37.502669", "Catania");
    EXPECT(c, "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n"
              "3479447370796909\r\n", "ZRANGE", "{g}s", "0", "-1", "WITHSCORES");
    EXPECT(c, ":0\r\n", "GEOADD", "{g}s", "13.361389", "38.115556", "Palermo");
    EXPECT(c, ":1\r\n", "GEOADD", "{g}s", "CH", "13.4", "38.1", "Palermo");
    EXPECT(c, ":1\r\n", "GEOADD", "{g}s", "NX", "13.361389", "38.115556", "Palermo", "12.5",
           "37.8", "Marsala");
    EXPECT(c, ":1\r\n", "GEOADD", "{g}s", "XX", "CH", "13.361389", "38.115556", "Palermo", "14",
           "37", "Nowhere");
    EXPECT(c, ":3\r\n", "ZCARD", "{g}s");
    EXPECT(c, "-ERR syntax error\r\n", "GEOADD", "{g}s", "XX", "NX", "1", "1", "x");
    EXPECT(c, "-ERR syntax error\r\n", "GEOADD", "{g}s", "CH", "XX", "foo", "1", "1", "x");
    EXPECT(c, "-ERR syntax error\r\n", "GEOADD", "{g}s", "1", "1", "x", "2");
    EXPECT(c, "-ERR value is not a valid float\r\n", "GEOADD", "{g}s", "1", "1", "x", "foo", "bar",
           "y");
    EXPECT(c, "-ERR invalid longitude,latitude pair 181.000000,1.000000\r\n", "GEOADD", "{g}s",
           "181", "1", "x");
    EXPECT(c, "-ERR invalid longitude,latitude pair 1.000000,85.060000\r\n", "GEOADD", "{g}s", "1",
           "85.06", "x");
    EXPECT(c, "-ERR wrong number of arguments for 'geoadd' command\r\n", "GEOADD", "{g}s", "1",
           "2");
    // GEOPOS, GEODIST, GEOHASH
    EXPECT(c, "*3\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
              "*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n", "GEOPOS",
           "{g}s", "Palermo", "nope", "Catania");
    EXPECT(c, "*1\r\n*-1\r\n", "GEOPOS", "{g}none", "a");
    EXPECT(c, "$11\r\n166274.1516\r\n", "GEODIST", "{g}s", "Palermo", "Catania");
    EXPECT(c, "$8\r\n166.2742\r\n", "GEODIST", "{g}s", "Palermo", "Catania", "km");
    EXPECT(c, "$8\r\n103.3182\r\n", "GEODIST", "{g}s", "Palermo", "Catania", "MI");
    EXPECT(c, "$11\r\n545518.8700\r\n", "GEODIST", "{g}s", "Palermo", "Catania", "ft");
    EXPECT(c, "$6\r\n0.0000\r\n", "GEODIST", "{g}s", "Palermo", "Palermo");
    EXPECT(c, "$-1\r\n", "GEODIST", "{g}s", "Palermo", "nope");
    EXPECT(c, "$-1\r\n", "GEODIST", "{g}none", "Palermo", "Catania");
    EXPECT(c, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n", "GEODIST", "{g}s",
           "Palermo", "Catania", "furlong");
    EXPECT(c, "-ERR syntax error\r\n", "GEODIST", "{g}s", "Palermo", "Catania", "km", "extra");
    EXPECT(c, "*4\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n$11\r\nsqdtr74hyu0\r\n$11\r\nsq8zh3q0zn0\r\n",
           "GEOHASH", "{g}s", "Palermo", "nope", "Catania", "Marsala");
    EXPECT(c, "*1\r\n$-1\r\n", "GEOHASH", "{g}none", "a");
    EXPECT(c, ":1\r\n", "GEOADD", "{g}w", "-5.6", "42.6", "test");
    EXPECT(c, "*1\r\n$11\r\nezs42e44yx0\r\n", "GEOHASH", "{g}w", "test");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(geo_search)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":7\r\n", "GEOADD", "{g}n", "-73.9454966", "40.747533", "lic", "-73.9733487",
           "40.7648057", "cpark", "-73.9903085", "40.7362513", "usq", "-74.0131604", "40.7126674",
           "wtc", "-73.7858139", "40.6428986", "jfk", "-73.9375699", "40.7498929", "q4",
           "-73.9564142", "40.7480973", "4545");
    // GEORADIUS: sorted, with the extras, COUNT, ANY, DESC
    EXPECT(c, "*3\r\n$5\r\ncpark\r\n$4\r\n4545\r\n$3\r\nusq\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "3", "km", "ASC");
    EXPECT(c, "*3\r\n*2\r\n$5\r\ncpark\r\n$6\r\n0.7750\r\n*2\r\n$4\r\n4545\r\n$6\r\n2.3651\r\n"
              "*2\r\n$3\r\nusq\r\n$6\r\n2.7697\r\n", "GEORADIUS", "{g}n", "-73.9798091",
           "40.7598464", "3", "km", "WITHDIST", "ASC");
    EXPECT(c, "*3\r\n*4\r\n$5\r\ncpark\r\n$6\r\n0.7750\r\n:1791875761332224\r\n*2\r\n$21\r\n"
              "-73.97334784269332886\r\n$20\r\n40.76480639569881959\r\n*4\r\n$4\r\n4545\r\n$6\r\n"
              "2.3651\r\n:1791875796750882\r\n*2\r\n$21\r\n-73.95641237497329712\r\n$20\r\n"
              "40.74809751381645384\r\n*4\r\n$3\r\nusq\r\n$6\r\n2.7697\r\n:1791875485187452\r\n"
              "*2\r\n$21\r\n-73.99031013250350952\r\n$20\r\n40.73625022711770782\r\n", "GEORADIUS",
           "{g}n", "-73.9798091", "40.7598464", "3", "km", "WITHCOORD", "WITHHASH", "WITHDIST",
           "ASC");
    EXPECT(c, "*3\r\n$5\r\ncpark\r\n$4\r\n4545\r\n$3\r\nusq\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "10", "km", "COUNT", "3");
    EXPECT(c, "*3\r\n$3\r\nwtc\r\n$3\r\nusq\r\n$5\r\ncpark\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "10", "km", "COUNT", "3", "ANY");
    EXPECT(c, "*2\r\n$3\r\nwtc\r\n$2\r\nq4\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464",
           "10", "km", "COUNT", "2", "DESC");
    EXPECT(c, "*4\r\n$3\r\nlic\r\n$3\r\nusq\r\n$4\r\n4545\r\n$5\r\ncpark\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "2", "mi", "DESC");
    EXPECT(c, "*1\r\n$5\r\ncpark\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464", "3000",
           "ft");
    EXPECT(c, "*0\r\n", "GEORADIUS", "{g}n", "0", "0", "1", "km");
    EXPECT(c, "*3\r\n$5\r\ncpark\r\n$4\r\n4545\r\n$3\r\nusq\r\n", "GEORADIUS_RO", "{g}n",
           "-73.9798091", "40.7598464", "3", "km", "ASC");
    EXPECT(c, "*0\r\n", "GEORADIUS", "{g}none", "-73.9798091", "40.7598464", "3", "km", "ASC");
    // GEORADIUSBYMEMBER
    EXPECT(c, "*5\r\n$3\r\nwtc\r\n$3\r\nusq\r\n$5\r\ncpark\r\n$4\r\n4545\r\n$3\r\nlic\r\n",
           "GEORADIUSBYMEMBER", "{g}n", "wtc", "7", "km");
    EXPECT(c, "*2\r\n*2\r\n$3\r\nwtc\r\n$6\r\n0.0000\r\n*2\r\n$3\r\nusq\r\n$6\r\n3.2544\r\n",
           "GEORADIUSBYMEMBER", "{g}n", "wtc", "7", "km", "WITHDIST", "COUNT", "2");
    EXPECT(c, "*2\r\n$3\r\nwtc\r\n$3\r\nusq\r\n", "GEORADIUSBYMEMBER_RO", "{g}n", "wtc", "4", "km",
           "ASC");
    EXPECT(c, "-ERR could not decode requested zset member\r\n", "GEORADIUSBYMEMBER", "{g}n",
           "nope", "7", "km");
    EXPECT(c, "*0\r\n", "GEORADIUSBYMEMBER", "{g}none", "nope", "7", "km");
    // GEOSEARCH: FROMLONLAT / FROMMEMBER, BYRADIUS / BYBOX
    EXPECT(c, "*4\r\n$5\r\ncpark\r\n$4\r\n4545\r\n$3\r\nusq\r\n$3\r\nlic\r\n", "GEOSEARCH", "{g}n",
           "FROMLONLAT", "-73.9798091", "40.7598464", "BYBOX", "6", "6", "km", "ASC");
    EXPECT(c, "*4\r\n*2\r\n$5\r\ncpark\r\n$6\r\n0.7750\r\n*2\r\n$4\r\n4545\r\n$6\r\n2.3651\r\n"
              "*2\r\n$3\r\nusq\r\n$6\r\n2.7697\r\n*2\r\n$3\r\nlic\r\n$6\r\n3.1991\r\n",
           "GEOSEARCH", "{g}n", "FROMLONLAT", "-73.9798091", "40.7598464", "BYBOX", "6", "6", "km",
           "WITHDIST", "ASC");
    EXPECT(c, "*6\r\n$3\r\nwtc\r\n$3\r\nusq\r\n$5\r\ncpark\r\n$4\r\n4545\r\n$3\r\nlic\r\n$2\r\n"
              "q4\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc", "BYBOX", "14", "14", "km");
    EXPECT(c, "*2\r\n*2\r\n$3\r\nusq\r\n*2\r\n$21\r\n-73.99031013250350952\r\n$20\r\n"
              "40.73625022711770782\r\n*2\r\n$3\r\nwtc\r\n*2\r\n$21\r\n-74.01316255331039429\r\n"
              "$20\r\n40.71266718145121644\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc",
           "BYRADIUS", "4", "km", "DESC", "WITHCOORD");
    EXPECT(c, "*1\r\n$3\r\nwtc\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc", "BYRADIUS", "40",
           "km", "COUNT", "1", "ANY");
    EXPECT(c, "-ERR could not decode requested zset member\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER",
           "nope", "BYRADIUS", "4", "km");
    EXPECT(c, "*0\r\n", "GEOSEARCH", "{g}none", "FROMMEMBER", "nope", "BYRADIUS", "4", "km");
    // errors, in Redis's order
    EXPECT(c, "-ERR the ANY argument requires COUNT argument\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "10", "km", "ANY", "ASC");
    EXPECT(c, "-ERR syntax error\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464", "10",
           "km", "COUNT");
    EXPECT(c, "-ERR COUNT must be > 0\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464", "10",
           "km", "COUNT", "0");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "10", "km", "COUNT", "x");
    EXPECT(c, "-ERR radius cannot be negative\r\n", "GEORADIUS", "{g}n", "-73.9798091",
           "40.7598464", "-1", "km");
    EXPECT(c, "-ERR need numeric radius\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464",
           "x", "km");
    EXPECT(c, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "40.7598464", "1", "yd");
    EXPECT(c, "-ERR invalid longitude,latitude pair -73.979809,91.000000\r\n", "GEORADIUS", "{g}n",
           "-73.9798091", "91", "1", "km");
    EXPECT(c, "-ERR syntax error\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464", "1", "km",
           "BOGUS");
    EXPECT(c, "-ERR syntax error\r\n", "GEORADIUS", "{g}n", "-73.9798091", "40.7598464", "1", "km",
           "STORE");
    EXPECT(c, "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
              "WITHCOORD options\r\n",
           "GEORADIUS", "{g}n", "-73.9798091", "40.7598464", "1", "km", "STORE", "{g}d",
           "WITHDIST");
    EXPECT(c, "-ERR syntax error\r\n", "GEORADIUS_RO", "{g}n", "-73.9798091", "40.7598464", "1",
           "km", "STORE", "{g}d");
    EXPECT(c, "-ERR syntax error\r\n", "GEOSEARCH", "{g}n", "FROMLONLAT", "-73.9798091",
           "40.7598464", "FROMMEMBER", "wtc", "BYBOX", "6", "6", "km");
    EXPECT(c, "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH\r\n",
           "GEOSEARCH", "{g}n", "BYBOX", "6", "6", "km", "ASC");
    EXPECT(c, "-ERR wrong number of arguments for 'geosearch' command\r\n", "GEOSEARCH", "{g}n",
           "FROMMEMBER", "wtc", "ASC");
    EXPECT(c, "-ERR syntax error\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc", "BYRADIUS", "3",
           "km", "BYBOX", "3", "3", "km");
    EXPECT(c, "-ERR height or width cannot be negative\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER",
           "wtc", "BYBOX", "3", "-3", "km");
    EXPECT(c, "-ERR need numeric height\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc", "BYBOX",
           "3", "x", "km");
    EXPECT(c, "-ERR syntax error\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc", "BYRADIUS", "3",
           "km", "STOREDIST");
    EXPECT(c, "-ERR syntax error\r\n", "GEOSEARCH", "{g}n", "FROMMEMBER", "wtc", "BYRADIUS", "3",
           "km", "STORE", "{g}d");
    EXPECT(c, "+OK\r\n", "SET", "{g}str", "x");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "GEORADIUS", "{g}str", "0", "0", "1", "km");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "GEOSEARCH", "{g}str", "FROMMEMBER", "a", "BYRADIUS", "1", "km");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "GEOPOS",
           "{g}str", "a");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "GEOHASH",
           "{g}str", "a");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "GEODIST",
           "{g}str", "a", "b");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "GEOADD",
           "{g}str", "0", "0", "a");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(geo_store)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":2\r\n", "GEOADD", "{g}s", "13.361389", "38.115556", "Palermo", "15.087269",
           "37.502669", "Catania");
    // STORE keeps the geohashes, STOREDIST the distances in the unit
    EXPECT(c, ":2\r\n", "GEORADIUS", "{g}s", "15", "37", "200", "km", "STORE", "{g}d");
    EXPECT(c, "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n"
              "3479447370796909\r\n", "ZRANGE", "{g}d", "0", "-1", "WITHSCORES");
    EXPECT(c, ":2\r\n", "GEORADIUS", "{g}s", "15", "37", "200", "km", "STOREDIST", "{g}d");
    EXPECT(c, "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n"
              "190.44242984775784\r\n", "ZRANGE", "{g}d", "0", "-1", "WITHSCORES");
    EXPECT(c, ":1\r\n", "GEORADIUS", "{g}s", "15", "37", "200", "km", "STOREDIST", "{g}d", "DESC",
           "COUNT", "1");
    EXPECT(c, "*2\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n", "ZRANGE", "{g}d", "0", "-1",
           "WITHSCORES");
    EXPECT(c, ":2\r\n", "GEORADIUSBYMEMBER", "{g}s", "Palermo", "500", "km", "STORE", "{g}d");
    EXPECT(c, "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n", "ZRANGE", "{g}d", "0", "-1");
    EXPECT(c, ":2\r\n", "GEOSEARCHSTORE", "{g}d", "{g}s", "FROMLONLAT", "15", "37", "BYBOX", "400",
           "400", "km");
    EXPECT(c, "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n"
              "3479447370796909\r\n", "ZRANGE", "{g}d", "0", "-1", "WITHSCORES");
    EXPECT(c, ":2\r\n", "GEOSEARCHSTORE", "{g}d", "{g}s", "FROMMEMBER", "Palermo", "BYRADIUS",
           "200", "km", "STOREDIST", "ASC");
    EXPECT(c, "*4\r\n$7\r\nPalermo\r\n$1\r\n0\r\n$7\r\nCatania\r\n$18\r\n166.27415156960032\r\n",
           "ZRANGE", "{g}d", "0", "-1", "WITHSCORES");
    // an empty result, or a missing source, deletes the destination
    EXPECT(c, ":0\r\n", "GEOSEARCHSTORE", "{g}d", "{g}s", "FROMLONLAT", "0", "0", "BYRADIUS", "1",
           "km");
    EXPECT(c, ":0\r\n", "EXISTS", "{g}d");
    EXPECT(c, ":1\r\n", "GEOADD", "{g}d", "0", "0", "x");
    EXPECT(c, ":0\r\n", "GEORADIUS", "{g}none", "0", "0", "1", "km", "STORE", "{g}d");
    EXPECT(c, ":0\r\n", "EXISTS", "{g}d");
    EXPECT(c, ":1\r\n", "GEOADD", "{g}d", "0", "0", "x");
    EXPECT(c, ":0\r\n", "GEOSEARCHSTORE", "{g}d", "{g}none", "FROMMEMBER", "x", "BYRADIUS", "1",
           "km");
    EXPECT(c, ":0\r\n", "EXISTS", "{g}d");
    EXPECT(c, "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD "
              "options\r\n",
           "GEOSEARCHSTORE", "{g}d", "{g}s", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km",
           "WITHDIST");
    EXPECT(c, "+OK\r\n", "SET", "{g}str", "x");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "GEORADIUS", "{g}str", "0", "0", "1", "km", "STORE", "{g}d");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "GEOSEARCHSTORE", "{g}d", "{g}str", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km");
    // the source can be the destination
    EXPECT(c, ":2\r\n", "GEORADIUS", "{g}s", "15", "37", "200", "km", "STOREDIST", "{g}s");
    EXPECT(c, "*4\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n$7\r\nPalermo\r\n$18\r\n"
              "190.44242984775784\r\n", "ZRANGE", "{g}s", "0", "-1", "WITHSCORES");
    // keys of the movable forms
    EXPECT(c, "*3\r\n$4\r\n{g}s\r\n$4\r\n{g}a\r\n$4\r\n{g}b\r\n", "COMMAND", "GETKEYS",
           "GEORADIUS", "{g}s", "0", "0", "1", "km", "STORE", "{g}a", "STOREDIST", "{g}b");
    EXPECT(c, "*2\r\n$4\r\n{g}s\r\n$4\r\n{g}a\r\n", "COMMAND", "GETKEYS", "GEORADIUSBYMEMBER",
           "{g}s", "m", "1", "km", "STORE", "{g}a");
    EXPECT(c, "*1\r\n$4\r\n{g}s\r\n", "COMMAND", "GETKEYS", "GEORADIUS", "{g}s", "0", "0", "1",
           "km");
    EXPECT(c, "*2\r\n$4\r\n{g}d\r\n$4\r\n{g}s\r\n", "COMMAND", "GETKEYS", "GEOSEARCHSTORE", "{g}d",
           "{g}s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(geo_resp3)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":2\r\n", "GEOADD", "{g}s", "13.361389", "38.115556", "Palermo", "15.087269",
           "37.502669", "Catania");
    hello3(c);
    EXPECT(c, "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n", "GEOPOS",
           "{g}s", "Palermo", "nope");
    EXPECT(c, "*2\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n"
              ",15.08726745843887329\r\n,37.50266842333162032\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n"
              "190.4424\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n"
              ",38.11555639549629859\r\n", "GEORADIUS", "{g}s", "15", "37", "200", "km",
           "WITHCOORD", "WITHDIST", "WITHHASH", "ASC");
    EXPECT(c, "_\r\n", "GEODIST", "{g}s", "Palermo", "nope");
    EXPECT(c, "*1\r\n_\r\n", "GEOHASH", "{g}s", "nope");
    th_close(c);
    STOP();
}
END_TEST

/* Sharded: the destination of a STORE must share the source's slot, as
 * for every command of two keys. */
START_TEST(geo_crossslot)
{
    if (!sharded()) {
        return;
    }
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":1\r\n", "GEOADD", "{g}s", "13.361389", "38.115556", "Palermo");
    EXPECT(c, "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
           "GEORADIUS", "{g}s", "15", "37", "200", "km", "STORE", "{h}d");
    EXPECT(c, "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
           "GEORADIUSBYMEMBER", "{g}s", "Palermo", "200", "km", "STOREDIST", "{h}d");
    EXPECT(c, "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
           "GEOSEARCHSTORE", "{h}d", "{g}s", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km");
    EXPECT(c, ":0\r\n", "EXISTS", "{h}d");
    EXPECT(c, ":1\r\n", "GEORADIUS", "{g}s", "15", "37", "200", "km", "STORE", "{g}d");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_geo(void)
{
    TCase *tc = tcase_create("geo");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, geo_add_pos_dist_hash);
    tcase_add_test(tc, geo_search);
    tcase_add_test(tc, geo_store);
    tcase_add_test(tc, geo_resp3);
    tcase_add_test(tc, geo_crossslot);
    return tc;
}
