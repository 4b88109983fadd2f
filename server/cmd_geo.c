/*
 * server/cmd_geo.c - the GEO family: GEOADD, GEODIST, GEOHASH, GEOPOS,
 * GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their _RO
 * forms, over the sorted-set type, with Redis 7.0's options, replies and
 * errors.
 *
 * Technique.  A point is stored as a member of a sorted set whose score is
 * its 52-bit geohash: longitude in [-180, 180] and latitude in
 * [-85.05112878, 85.05112878] (the limits of Web Mercator) are each scaled
 * to a 26-bit cell index, and the two indexes are interleaved, latitude in
 * the even bits and longitude in the odd ones, so a score prefix of 2s
 * bits names a cell of a 2^s by 2^s grid and every point in that cell has
 * a score in one contiguous range.  A 52-bit integer is exact in a double,
 * so ZRANGE, ZSCORE and the rest see the same numbers Redis stores.
 *
 * A search (a circle of a radius, or a box of a width and height, around a
 * position) picks the grid level whose cells are about as large as the
 * search area, takes the cell of the centre and its eight neighbours, and
 * drops neighbours wholly outside the area's bounding box; each remaining
 * cell is one score range of the skiplist, and every point of it is then
 * tested against the exact shape with the haversine distance on a sphere
 * of the Earth's mean radius.  The cell level and the order the nine
 * cells are visited in (centre, N, S, E, W, NE, NW, SE, SW) are Redis's,
 * so an unsorted reply (ANY, or no ASC/DESC) lists points in Redis's
 * order.
 *
 * GEOADD is ZADD under another name: it turns each longitude, latitude,
 * member triple into a score, member pair and runs ZADD's handler, which
 * does NX, XX and CH.  The statistics count GEOADD only, as in Redis.
 *
 * Not handled: nothing of Redis 7.0's GEO is left out; as there, points
 * within a few decimetres of a search's edge may fall either side of it.
 *
 * The command table that names them is in commands.c; cmd.h declares them.
 */
#include "cmd.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Geohash: encoding, decoding, neighbours
 * ====================================================================== */

#define GEO_STEP 26                 /* bits per coordinate in a score */
#define GEO_LON_MIN -180.0
#define GEO_LON_MAX 180.0
#define GEO_LAT_MIN -85.05112878
#define GEO_LAT_MAX 85.05112878
#define EARTH_RADIUS_M 6372797.560856   /* the mean radius Redis uses */
#define MERCATOR_MAX 20037726.37        /* half the equator, in metres */

/* A cell of the 2^step by 2^step grid: its interleaved index.  step 0 is
 * "no cell" (a neighbour dropped from a search). */
typedef struct ghash {
    uint64_t bits;
    int step;
} ghash;

typedef struct garea {
    double lon_min, lon_max, lat_min, lat_max;
} garea;

/* v's 32 bits spread to the even bits of the result. */
static uint64_t spread(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x << 2)) & 0x3333333333333333ULL;
    x = (x | (x << 1)) & 0x5555555555555555ULL;
    return x;
}

/* The even bits of x gathered into 32 bits: spread's inverse. */
static uint32_t gather(uint64_t x)
{
    x &= 0x5555555555555555ULL;
    x = (x | (x >> 1)) & 0x3333333333333333ULL;
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
    x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
    return (uint32_t)x;
}

/* The cell of (lon, lat) at step, latitude scaled over [lat_min,
 * lat_max] (GEOHASH re-encodes over the standard [-90, 90]); false
 * outside the coordinates a score can hold. */
static bool geo_encode(double lon, double lat, double lat_min, double lat_max, int step,
                       ghash *h)
{
    if (lon > GEO_LON_MAX || lon < GEO_LON_MIN || lat > GEO_LAT_MAX || lat < GEO_LAT_MIN) {
        return false;
    }
    double cells = (double)(1ULL << step);
    double lat_off = (lat - lat_min) / (lat_max - lat_min) * cells;
    double lon_off = (lon - GEO_LON_MIN) / (GEO_LON_MAX - GEO_LON_MIN) * cells;
    // The truncation to 32 bits is the cell index (the edge value 2^step
    // stays as it is, as Redis keeps it).
    h->bits = spread((uint32_t)lat_off) | (spread((uint32_t)lon_off) << 1);
    h->step = step;
    return true;
}

static garea geo_decode(ghash h)
{
    uint32_t ilat = gather(h.bits), ilon = gather(h.bits >> 1);
    double cells = (double)(1ULL << h.step);
    double lat_span = GEO_LAT_MAX - GEO_LAT_MIN, lon_span = GEO_LON_MAX - GEO_LON_MIN;
    garea a = {
        .lat_min = GEO_LAT_MIN + (ilat / cells) * lat_span,
        .lat_max = GEO_LAT_MIN + ((ilat + 1.0) / cells) * lat_span,
        .lon_min = GEO_LON_MIN + (ilon / cells) * lon_span,
        .lon_max = GEO_LON_MIN + ((ilon + 1.0) / cells) * lon_span,
    };
    return a;
}

/* The position a score stands for: the centre of its cell, clamped to
 * the coordinates a score can hold. */
static void score_to_lonlat(double score, double *lon, double *lat)
{
    ghash h = {(uint64_t)score, GEO_STEP};
    garea a = geo_decode(h);
    *lon = fmin(fmax((a.lon_min + a.lon_max) / 2, GEO_LON_MIN), GEO_LON_MAX);
    *lat = fmin(fmax((a.lat_min + a.lat_max) / 2, GEO_LAT_MIN), GEO_LAT_MAX);
}

static uint64_t cell_to_score_bits(ghash h)
{
    return h.bits << (52 - 2 * h.step);
}

/* The cell dlon columns east and dlat rows north of h, wrapping around
 * the grid as the geohash does. */
static ghash geo_move(ghash h, int dlon, int dlat)
{
    uint32_t mask = (uint32_t)((1ULL << h.step) - 1);
    uint32_t ilat = (gather(h.bits) + (uint32_t)dlat) & mask;
    uint32_t ilon = (gather(h.bits >> 1) + (uint32_t)dlon) & mask;
    ghash r = {spread(ilat) | (spread(ilon) << 1), h.step};
    return r;
}

/* ======================================================================
 * Distances and search areas
 * ====================================================================== */

static double deg_rad(double d)
{
    return d * (M_PI / 180.0);
}

static double rad_deg(double r)
{
    return r / (M_PI / 180.0);
}

/* Great-circle distance in metres (haversine). */
static double geo_distance(double lon1, double lat1, double lon2, double lat2)
{
    double lat1r = deg_rad(lat1), lat2r = deg_rad(lat2);
    double u = sin((lat2r - lat1r) / 2);
    double v = sin((deg_rad(lon2) - deg_rad(lon1)) / 2);
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(u * u + cos(lat1r) * cos(lat2r) * v * v));
}

/* What to search: a circle (radius) or a box (width, height) around
 * (lon, lat), its sizes in the unit whose length in metres is conv. */
typedef struct geo_shape {
    bool box;
    double lon, lat;
    double radius, width, height;
    double conv;
    double bounds[4];           /* lon min, lat min, lon max, lat max */
} geo_shape;

/* Whether (lon, lat) is inside s, and its distance from s's centre in
 * metres. */
static bool in_shape(const geo_shape *s, double lon, double lat, double *dist)
{
    if (!s->box) {
        *dist = geo_distance(s->lon, s->lat, lon, lat);
        return *dist <= s->radius * s->conv;
    }
    // A box on the sphere: the east-west distance is measured along the
    // point's parallel, the north-south one along its meridian.
    double dx = geo_distance(lon, lat, s->lon, lat);
    double dy = geo_distance(lon, lat, lon, s->lat);
    if (dx > s->width * s->conv / 2 || dy > s->height * s->conv / 2) {
        return false;
    }
    *dist = geo_distance(s->lon, s->lat, lon, lat);
    return true;
}

/* The grid level whose cells cover a search of range metres around
 * latitude lat: the finest at which a cell is still about twice the
 * range, coarser near the poles where cells are narrower. */
static int steps_for_range(double range, double lat)
{
    if (range == 0) {
        return GEO_STEP;
    }
    int step = 1;
    while (range < MERCATOR_MAX) {
        range *= 2;
        step++;
    }
    step -= 2;
    if (lat > 66 || lat < -66) {
        step--;
        if (lat > 80 || lat < -80) {
            step--;
        }
    }
    return step < 1 ? 1 : step > GEO_STEP ? GEO_STEP : step;
}

/* s's bounding box in degrees.  The box's east and west edges are
 * meridians' arcs whose spread in longitude is widest on the parallel
 * nearer the pole: the northern edge in the northern hemisphere, the
 * southern one in the southern. */
static void shape_bounds(geo_shape *s)
{
    double h = s->conv * (s->box ? s->height / 2 : s->radius);
    double w = s->conv * (s->box ? s->width / 2 : s->radius);
    double dlat = rad_deg(h / EARTH_RADIUS_M);
    double dlon_top = rad_deg(w / EARTH_RADIUS_M / cos(deg_rad(s->lat + dlat)));
    double dlon_bottom = rad_deg(w / EARTH_RADIUS_M / cos(deg_rad(s->lat - dlat)));
    double dlon = s->lat < 0 ? dlon_bottom : dlon_top;
    s->bounds[0] = s->lon - dlon;
    s->bounds[2] = s->lon + dlon;
    s->bounds[1] = s->lat - dlat;
    s->bounds[3] = s->lat + dlat;
}

/* The nine cells to scan for s, in Redis's order (centre, N, S, E, W,
 * NE, NW, SE, SW); a cell with step 0 is not scanned. */
static void search_cells(geo_shape *s, ghash cells[9])
{
    shape_bounds(s);
    double range = s->box ? sqrt((s->width / 2) * (s->width / 2) +
                                 (s->height / 2) * (s->height / 2))
                          : s->radius;
    int step = steps_for_range(range * s->conv, s->lat);
    static const int dir[9][2] = {{0, 0}, {0, 1}, {0, -1}, {1, 0}, {-1, 0},
                                  {1, 1}, {-1, 1}, {1, -1}, {-1, -1}};
    ghash centre;
    garea a;
    for (int pass = 0; pass < 2; pass++) {
        geo_encode(s->lon, s->lat, GEO_LAT_MIN, GEO_LAT_MAX, step, &centre);
        a = geo_decode(centre);
        for (int i = 0; i < 9; i++) {
            cells[i] = geo_move(centre, dir[i][0], dir[i][1]);
        }
        if (pass == 1 || step <= 1) {
            break;
        }
        // The neighbours may fall short of the area when the centre sits
        // near a cell's edge: one level coarser then.
        garea n = geo_decode(cells[1]), so = geo_decode(cells[2]);
        garea e = geo_decode(cells[3]), w = geo_decode(cells[4]);
        if (!(n.lat_max < s->bounds[3] || so.lat_min > s->bounds[1] ||
              e.lon_max < s->bounds[2] || w.lon_min > s->bounds[0])) {
            break;
        }
        step--;
    }
    if (step >= 2) {
        // Drop the neighbours on a side the area does not reach past.
        static const ghash none = {0, 0};
        if (a.lat_min < s->bounds[1]) {
            cells[2] = cells[7] = cells[8] = none;
        }
        if (a.lat_max > s->bounds[3]) {
            cells[1] = cells[5] = cells[6] = none;
        }
        if (a.lon_min < s->bounds[0]) {
            cells[4] = cells[8] = cells[6] = none;
        }
        if (a.lon_max > s->bounds[2]) {
            cells[3] = cells[7] = cells[5] = none;
        }
    }
}

/* ======================================================================
 * Collecting the points of a search
 * ====================================================================== */

typedef struct gpoint {
    const char *m;              /* the member, borrowed from the zset */
    size_t mn;
    double lon, lat, dist, score;
} gpoint;

typedef struct garray {
    gpoint *p;
    size_t n, cap;
    bool oom;
} garray;

static void garray_push(garray *g, const gpoint *p)
{
    if (g->n == g->cap) {
        size_t cap = g->cap == 0 ? 16 : g->cap * 2;
        gpoint *np = realloc(g->p, cap * sizeof *np);
        if (np == NULL) {
            g->oom = true;
            return;
        }
        g->p = np;
        g->cap = cap;
    }
    g->p[g->n++] = *p;
}

/* The first node of z with a score of at least min, or NULL. */
static srv_znode *first_at_least(srv_zset *z, double min)
{
    srv_znode *n = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (n->level[i].fwd != NULL && n->level[i].fwd->score < min) {
            n = n->level[i].fwd;
        }
    }
    return n->level[0].fwd;
}

/* Add the points of cell c inside s to g, stopping once g holds limit
 * (0: no limit). */
static void scan_cell(srv_zset *z, ghash c, const geo_shape *s, garray *g, size_t limit)
{
    double min = (double)cell_to_score_bits(c);
    ghash next = {c.bits + 1, c.step};
    double max = (double)cell_to_score_bits(next);
    for (srv_znode *n = first_at_least(z, min); n != NULL && n->score < max;
         n = n->level[0].fwd) {
        gpoint p = {.m = n->entry->key, .mn = n->entry->klen, .score = n->score};
        score_to_lonlat(n->score, &p.lon, &p.lat);
        if (in_shape(s, p.lon, p.lat, &p.dist)) {
            garray_push(g, &p);
        }
        if (limit != 0 && g->n >= limit) {
            break;
        }
    }
}

/* Every point of z inside s, in Redis's order; at most limit (0: all). */
static void search_points(srv_zset *z, geo_shape *s, garray *g, size_t limit)
{
    ghash cells[9];
    search_cells(s, cells);
    int last = -1;
    for (int i = 0; i < 9 && !g->oom; i++) {
        if (cells[i].step == 0 && cells[i].bits == 0) {
            continue;
        }
        // With a huge area adjacent cells may be the same cell.
        if (last >= 0 && cells[i].bits == cells[last].bits && cells[i].step == cells[last].step) {
            continue;
        }
        scan_cell(z, cells[i], s, g, limit);
        last = i;
        if (limit != 0 && g->n >= limit) {
            break;
        }
    }
}

static int by_dist_asc(const void *a, const void *b)
{
    double x = ((const gpoint *)a)->dist, y = ((const gpoint *)b)->dist;
    return x > y ? 1 : x < y ? -1 : 0;
}

static int by_dist_desc(const void *a, const void *b)
{
    return -by_dist_asc(a, b);
}

/* ======================================================================
 * Arguments and replies
 * ====================================================================== */

/* Longitude and latitude at arguments i, i + 1; false after replying
 * Redis's error. */
static bool lonlat_arg(ctx *x, size_t i, double *lon, double *lat)
{
    if (!srv_str2d(x->argv[i], x->argl[i], lon) || !srv_str2d(x->argv[i + 1], x->argl[i + 1], lat)) {
        srv_reply_error(x->out, E_NOTFLOAT);
        return false;
    }
    if (*lon < GEO_LON_MIN || *lon > GEO_LON_MAX || *lat < GEO_LAT_MIN || *lat > GEO_LAT_MAX) {
        srv_reply_errorf(x->out, "ERR invalid longitude,latitude pair %f,%f", *lon, *lat);
        return false;
    }
    return true;
}

/* The length in metres of the unit at argument i (m, km, ft, mi); 0
 * after replying the error. */
static double unit_arg(ctx *x, size_t i)
{
    if (arg_is(x, i, "m")) {
        return 1;
    } else if (arg_is(x, i, "km")) {
        return 1000;
    } else if (arg_is(x, i, "ft")) {
        return 0.3048;
    } else if (arg_is(x, i, "mi")) {
        return 1609.34;
    }
    srv_reply_error(x->out, "ERR unsupported unit provided. please use M, KM, FT, MI");
    return 0;
}

/* A non-negative number at argument i (what names it in the error). */
static bool size_arg(ctx *x, size_t i, const char *what, double *v)
{
    if (!srv_str2d(x->argv[i], x->argl[i], v)) {
        srv_reply_errorf(x->out, "ERR need numeric %s", what);
        return false;
    }
    return true;
}

/* RADIUS unit at argument i into s; false after replying the error. */
static bool radius_arg(ctx *x, size_t i, geo_shape *s)
{
    if (!size_arg(x, i, "radius", &s->radius)) {
        return false;
    }
    if (s->radius < 0) {
        srv_reply_error(x->out, "ERR radius cannot be negative");
        return false;
    }
    s->box = false;
    return (s->conv = unit_arg(x, i + 1)) > 0;
}

/* WIDTH HEIGHT unit at argument i into s. */
static bool box_arg(ctx *x, size_t i, geo_shape *s)
{
    if (!size_arg(x, i, "width", &s->width) || !size_arg(x, i + 1, "height", &s->height)) {
        return false;
    }
    if (s->width < 0 || s->height < 0) {
        srv_reply_error(x->out, "ERR height or width cannot be negative");
        return false;
    }
    s->box = true;
    return (s->conv = unit_arg(x, i + 2)) > 0;
}

/* A distance as Redis gives it: four decimals, a bulk string. */
static void reply_distance(ctx *x, double d)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%.4f", d);
    srv_reply_bulk(x->out, buf, (size_t)n);
}

/* A coordinate as Redis's "human" long double: 17 decimals less the
 * trailing zeros; a bulk string in RESP2, a double in RESP3. */
static void reply_coord(ctx *x, double v)
{
    char buf[80];
    int n = snprintf(buf, sizeof buf, "%.17Lf", (long double)v);
    if (n <= 0 || (size_t)n >= sizeof buf) {
        n = snprintf(buf, sizeof buf, "%.17g", v);
    } else if (strchr(buf, '.') != NULL) {
        while (buf[n - 1] == '0') {
            n--;
        }
        if (buf[n - 1] == '.') {
            n--;
        }
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        n = 1;
    }
    if (!x->out->resp3) {
        srv_reply_bulk(x->out, buf, (size_t)n);
        return;
    }
    srv_buf_append(x->out, ",", 1);
    srv_buf_append(x->out, buf, (size_t)n);
    srv_buf_append(x->out, "\r\n", 2);
}

/* The position of member i's argument in sorted set z; false if it is
 * not a member. */
static bool member_lonlat(srv_zset *z, ctx *x, size_t i, double *lon, double *lat)
{
    srv_znode *n = srv_zset_find(z, x->argv[i], x->argl[i]);
    if (n == NULL) {
        return false;
    }
    score_to_lonlat(n->score, lon, lat);
    return true;
}

/* ======================================================================
 * GEOADD, GEOPOS, GEODIST, GEOHASH
 * ====================================================================== */

/* GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD of each
 * point's geohash score. */
void cmd_geoadd(ctx *x)
{
    bool nx = false, xx = false;
    size_t i = 2;
    for (; i < x->argc; i++) {
        if (arg_is(x, i, "NX")) {
            nx = true;
        } else if (arg_is(x, i, "XX")) {
            xx = true;
        } else if (!arg_is(x, i, "CH")) {
            break;
        }
    }
    if ((x->argc - i) % 3 != 0 || (nx && xx)) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    size_t points = (x->argc - i) / 3, argc = i + 2 * points;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *argl = malloc(argc * sizeof *argl);
    char (*scores)[24] = malloc((points ? points : 1) * sizeof *scores);
    if (argv == NULL || argl == NULL || scores == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        goto done;
    }
    argv[0] = "zadd";
    argl[0] = 4;
    for (size_t k = 1; k < i; k++) {
        argv[k] = x->argv[k];
        argl[k] = x->argl[k];
    }
    for (size_t p = 0; p < points; p++) {
        size_t a = i + 3 * p;
        double lon, lat;
        ghash h;
        if (!lonlat_arg(x, a, &lon, &lat)) {
            goto done;
        }
        geo_encode(lon, lat, GEO_LAT_MIN, GEO_LAT_MAX, GEO_STEP, &h);
        int n = snprintf(scores[p], sizeof scores[p], "%llu",
                         (unsigned long long)cell_to_score_bits(h));
        argv[i + 2 * p] = scores[p];
        argl[i + 2 * p] = (size_t)n;
        argv[i + 2 * p + 1] = x->argv[a + 2];
        argl[i + 2 * p + 1] = x->argl[a + 2];
    }
    {
        ctx z = *x;
        z.argc = argc;
        z.argv = argv;
        z.argl = argl;
        cmd_zadd(&z);
    }
done:
    free(argv);
    free(argl);
    free(scores);
}

/* GEOPOS key member [...]: each member's [longitude, latitude], or a
 * null array. */
void cmd_geopos(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_reply_array(x->out, (long long)(x->argc - 2));
    for (size_t i = 2; i < x->argc; i++) {
        double lon, lat;
        if (r == 0 || !member_lonlat((srv_zset *)o, x, i, &lon, &lat)) {
            srv_reply_null_array(x->out);
            continue;
        }
        srv_reply_array(x->out, 2);
        reply_coord(x, lon);
        reply_coord(x, lat);
    }
}

/* GEODIST key member1 member2 [M|KM|FT|MI]: their distance, or null. */
void cmd_geodist(ctx *x)
{
    double conv = 1;
    if (x->argc == 5) {
        if ((conv = unit_arg(x, 4)) == 0) {
            return;
        }
    } else if (x->argc > 5) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_null(x->out);
        }
        return;
    }
    double lon1, lat1, lon2, lat2;
    if (!member_lonlat((srv_zset *)o, x, 2, &lon1, &lat1) ||
        !member_lonlat((srv_zset *)o, x, 3, &lon2, &lat2)) {
        srv_reply_null(x->out);
        return;
    }
    reply_distance(x, geo_distance(lon1, lat1, lon2, lat2) / conv);
}

/* GEOHASH key member [...]: each member's standard 11-character geohash
 * (re-encoded over latitudes [-90, 90]; the 11th character, past the 52
 * bits a score holds, is always '0'), or null. */
void cmd_geohash(ctx *x)
{
    static const char alphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_reply_array(x->out, (long long)(x->argc - 2));
    for (size_t i = 2; i < x->argc; i++) {
        double lon, lat;
        ghash h;
        if (r == 0 || !member_lonlat((srv_zset *)o, x, i, &lon, &lat) ||
            !geo_encode(lon, lat, -90, 90, GEO_STEP, &h)) {
            srv_reply_null(x->out);
            continue;
        }
        char buf[11];
        for (int k = 0; k < 10; k++) {
            buf[k] = alphabet[(h.bits >> (52 - (k + 1) * 5)) & 0x1f];
        }
        buf[10] = '0';
        srv_reply_bulk(x->out, buf, sizeof buf);
    }
}

/* ======================================================================
 * GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER
 * ====================================================================== */

enum {
    GS_COORDS = 1 << 0,         /* GEORADIUS[_RO]: key lon lat radius unit */
    GS_MEMBER = 1 << 1,         /* GEORADIUSBYMEMBER[_RO]: key member radius unit */
    GS_NOSTORE = 1 << 2,        /* the _RO forms: no STORE / STOREDIST */
    GS_SEARCH = 1 << 3,         /* GEOSEARCH[STORE]: FROM... and BY... options */
    GS_STORE = 1 << 4,          /* GEOSEARCHSTORE: destination at argv[1] */
};

typedef struct geo_opts {
    bool withdist, withhash, withcoord, any, storedist;
    bool frommember, fromlonlat, byradius, bybox;
    int sort;                   /* 0 none, 1 ASC, -1 DESC */
    long long count;            /* 0: all */
    size_t store;               /* the destination's argument, 0: none */
} geo_opts;

/* The options from argument `from` on into o and s (zs: the source, for
 * FROMMEMBER, NULL when missing); false after replying the error. */
static bool geo_parse(ctx *x, size_t from, int flags, srv_zset *zs, geo_shape *s, geo_opts *o)
{
    bool ok_store = !(flags & (GS_NOSTORE | GS_SEARCH)), search = flags & GS_SEARCH;
    for (size_t i = from; i < x->argc; i++) {
        size_t left = x->argc - i - 1;
        if (arg_is(x, i, "WITHDIST")) {
            o->withdist = true;
        } else if (arg_is(x, i, "WITHHASH")) {
            o->withhash = true;
        } else if (arg_is(x, i, "WITHCOORD")) {
            o->withcoord = true;
        } else if (arg_is(x, i, "ANY")) {
            o->any = true;
        } else if (arg_is(x, i, "ASC")) {
            o->sort = 1;
        } else if (arg_is(x, i, "DESC")) {
            o->sort = -1;
        } else if (arg_is(x, i, "COUNT") && left >= 1) {
            if (!arg_ll(x, ++i, &o->count)) {
                return false;
            }
            if (o->count <= 0) {
                srv_reply_error(x->out, "ERR COUNT must be > 0");
                return false;
            }
        } else if (ok_store && (arg_is(x, i, "STORE") || arg_is(x, i, "STOREDIST")) &&
                   left >= 1) {
            o->storedist = arg_is(x, i, "STOREDIST");
            o->store = ++i;
        } else if ((flags & GS_STORE) && arg_is(x, i, "STOREDIST")) {
            o->storedist = true;
        } else if (search && !o->fromlonlat && arg_is(x, i, "FROMMEMBER") && left >= 1) {
            i++;
            if (zs != NULL && !member_lonlat(zs, x, i, &s->lon, &s->lat)) {
                srv_reply_error(x->out, "ERR could not decode requested zset member");
                return false;
            }
            o->frommember = true;
        } else if (search && !o->frommember && arg_is(x, i, "FROMLONLAT") && left >= 2) {
            if (!lonlat_arg(x, i + 1, &s->lon, &s->lat)) {
                return false;
            }
            o->fromlonlat = true;
            i += 2;
        } else if (search && !o->bybox && arg_is(x, i, "BYRADIUS") && left >= 2) {
            if (!radius_arg(x, i + 1, s)) {
                return false;
            }
            o->byradius = true;
            i += 2;
        } else if (search && !o->byradius && arg_is(x, i, "BYBOX") && left >= 3) {
            if (!box_arg(x, i + 1, s)) {
                return false;
            }
            o->bybox = true;
            i += 3;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return false;
        }
    }
    return true;
}

/* Check the combination of options; false after replying the error. */
static bool geo_check(ctx *x, int flags, const geo_opts *o)
{
    if ((o->store || (flags & GS_STORE)) && (o->withdist || o->withhash || o->withcoord)) {
        srv_reply_errorf(x->out,
                         "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                         (flags & GS_STORE) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return false;
    }
    if ((flags & GS_SEARCH) && !o->frommember && !o->fromlonlat) {
        srv_reply_errorf(x->out, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                         (int)x->argl[0], x->argv[0]);
        return false;
    }
    if ((flags & GS_SEARCH) && !o->byradius && !o->bybox) {
        srv_reply_errorf(x->out, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                         (int)x->argl[0], x->argv[0]);
        return false;
    }
    if (o->any && o->count == 0) {
        srv_reply_error(x->out, "ERR the ANY argument requires COUNT argument");
        return false;
    }
    return true;
}

/* Reply the first n points of g with the options' extras. */
static void geo_reply(ctx *x, const geo_opts *o, const geo_shape *s, const garray *g, size_t n)
{
    long long extras = o->withdist + o->withhash + o->withcoord;
    srv_reply_array(x->out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        const gpoint *p = &g->p[i];
        if (extras > 0) {
            srv_reply_array(x->out, extras + 1);
        }
        srv_reply_bulk(x->out, p->m, p->mn);
        if (o->withdist) {
            reply_distance(x, p->dist / s->conv);
        }
        if (o->withhash) {
            srv_reply_int(x->out, (long long)p->score);
        }
        if (o->withcoord) {
            srv_reply_array(x->out, 2);
            reply_coord(x, p->lon);
            reply_coord(x, p->lat);
        }
    }
}

/* Store the first n points of g at argument dst (scores: geohashes, or
 * distances in the search's unit), replacing it, or deleting it when n is
 * 0; reply n. */
static void geo_store(ctx *x, size_t dst, bool storedist, const geo_shape *s, const garray *g,
                      size_t n)
{
    if (n == 0) {
        srv_ks_del(x->argv[dst], x->argl[dst]);
        srv_reply_int(x->out, 0);
        return;
    }
    srv_zset *res = srv_zset_new();
    if (res == NULL) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const gpoint *p = &g->p[i];
        ok = srv_zset_add(res, p->m, p->mn, storedist ? p->dist / s->conv : p->score) >= 0;
    }
    if (!ok || !srv_ks_set(x->argv[dst], x->argl[dst], &res->ob, false)) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
    } else {
        // GEORADIUS's destination is not in its key spec: a client blocked
        // on it (BZPOPMIN) is told here.
        srv_blk_touch(x->argv[dst], x->argl[dst]);
        srv_reply_int(x->out, (long long)n);
    }
    mw_decref(&res->ob);
}

/* Sharded, a destination outside the source's slot is refused as a
 * two-key command across slots is (the router already checked
 * GEOSEARCHSTORE's, whose destination is at a fixed place). */
static bool store_slot_ok(ctx *x, size_t src, size_t from)
{
    if (!srv_split()) {
        return true;
    }
    unsigned slot = srv_key_slot(x->argv[src], x->argl[src]);
    for (size_t i = from; i + 1 < x->argc; i++) {
        if (arg_is(x, i, "STORE") || arg_is(x, i, "STOREDIST")) {
            i++;
            if (srv_key_slot(x->argv[i], x->argl[i]) != slot) {
                srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
                return false;
            }
        }
    }
    return true;
}

/* The search commands, start reading here: the source at argument src;
 * the centre and size from the fixed arguments (GEORADIUS*) or from the
 * options (GEOSEARCH*); collect, sort, cut at COUNT, then reply or
 * store. */
static void geo_search(ctx *x, int flags)
{
    size_t src = (flags & GS_STORE) ? 2 : 1;
    size_t from = (flags & GS_COORDS) ? 6 : (flags & GS_MEMBER) ? 5 : src + 1;
    if ((flags & (GS_COORDS | GS_MEMBER)) && !(flags & GS_NOSTORE) && !store_slot_ok(x, 1, from)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, src, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_zset *z = r > 0 ? (srv_zset *)o : NULL;
    geo_shape s = {.conv = 1};
    if (flags & GS_COORDS) {
        if (!lonlat_arg(x, 2, &s.lon, &s.lat) || !radius_arg(x, 4, &s)) {
            return;
        }
    } else if ((flags & GS_MEMBER) && z != NULL) {
        if (!member_lonlat(z, x, 2, &s.lon, &s.lat)) {
            srv_reply_error(x->out, "ERR could not decode requested zset member");
            return;
        }
        if (!radius_arg(x, 3, &s)) {
            return;
        }
    }
    geo_opts opt = {0};
    if (flags & GS_STORE) {
        opt.store = 1;
    }
    if (!geo_parse(x, from, flags, z, &s, &opt) || !geo_check(x, flags, &opt)) {
        return;
    }
    if (z == NULL) {
        if (opt.store) {
            srv_ks_del(x->argv[opt.store], x->argl[opt.store]);
            srv_reply_int(x->out, 0);
        } else {
            srv_buf_append(x->out, "*0\r\n", 4);
        }
        return;
    }
    if (opt.count != 0 && opt.sort == 0 && !opt.any) {
        opt.sort = 1;   // the nearest COUNT, unless ANY asked for any
    }
    garray g = {0};
    search_points(z, &s, &g, opt.any ? (size_t)opt.count : 0);
    if (g.oom) {
        free(g.p);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (opt.sort != 0 && g.n > 1) {
        qsort(g.p, g.n, sizeof *g.p, opt.sort > 0 ? by_dist_asc : by_dist_desc);
    }
    size_t n = opt.count != 0 && (size_t)opt.count < g.n ? (size_t)opt.count : g.n;
    if (opt.store) {
        geo_store(x, opt.store, opt.storedist, &s, &g, n);
    } else {
        geo_reply(x, &opt, &s, &g, n);
    }
    free(g.p);
}

/* GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD]
 * [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key]
 * [STOREDIST key] */
void cmd_georadius(ctx *x)
{
    geo_search(x, GS_COORDS);
}

void cmd_georadius_ro(ctx *x)
{
    geo_search(x, GS_COORDS | GS_NOSTORE);
}

/* GEORADIUSBYMEMBER key member radius unit [options as GEORADIUS] */
void cmd_georadiusbymember(ctx *x)
{
    geo_search(x, GS_MEMBER);
}

void cmd_georadiusbymember_ro(ctx *x)
{
    geo_search(x, GS_MEMBER | GS_NOSTORE);
}

/* GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX
 * w h unit [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST]
 * [WITHHASH] */
void cmd_geosearch(ctx *x)
{
    geo_search(x, GS_SEARCH);
}

/* GEOSEARCHSTORE destination source (GEOSEARCH's options) [STOREDIST] */
void cmd_geosearchstore(ctx *x)
{
    geo_search(x, GS_SEARCH | GS_STORE);
}
