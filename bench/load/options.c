/*
 * options.c - mwrt-load's command line.
 *
 * getopt_long, with redis-benchmark's short letters where they exist (-h
 * host, -p port, -c connections, -n requests, -P pipeline, -d value size)
 * so that a comparison reads the same on both sides.  Every number is
 * range-checked and a bad one is an error with the option's name, never a
 * silent default.  The result is one mwl_options; nothing here allocates.
 *
 * Defaults: 127.0.0.1:6380 (mwrt-server's port), one thread, 50 connections, pipeline 1, the mix
 * set:1,get:10 over 100000 uniform keys with 3-byte values (redis-
 * benchmark's), closed loop for 10 s when neither -n nor --duration is
 * given, a 5 s request timeout, and a hard cap on the run's length that
 * holds even if the server stops answering.  -a / --user and --dbnum send
 * AUTH and SELECT on every connection before its first request.
 */
#include "load.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MWL_VERSION "0.1.0"

static const char usage[] =
    "usage: mwrt-load [options]\n"
    "A RESP load generator: closed loop, or open loop at a fixed rate with\n"
    "latency measured from each request's intended send time.\n"
    "\n"
    "target:\n"
    "  -h, --host HOST        server address (127.0.0.1)\n"
    "  -p, --port PORT        server port (6380, mwrt-server's; Redis: -p 6379)\n"
    "  -a, --auth PASS        send AUTH [USER] PASS on every connection first\n"
    "      --user USER        the user for AUTH (Redis ACLs; needs -a)\n"
    "      --dbnum N          send SELECT N on every connection first\n"
    "load:\n"
    "  -t, --threads N        event-loop threads (1)\n"
    "  -c, --connections N    connections in all, spread over threads (50)\n"
    "  -P, --pipeline N       requests in flight per connection (1)\n"
    "  -n, --requests N       stop after N requests in all\n"
    "      --duration S       stop after S seconds (10 if no -n)\n"
    "      --rate R           open loop: R requests/s in all (default: closed loop)\n"
    "      --timeout S        a request unanswered for S seconds is a timeout (5)\n"
    "      --hard-cap S       end the run after S seconds whatever happens\n"
    "                         (default: duration + 2 * timeout + 5, or 3600)\n"
    "workload:\n"
    "      --mix LIST         weighted commands, e.g. set:1,get:10 (the default);\n"
    "                         get set del exists incr ping hset hget lpush lpop\n"
    "      --template [W:][keys=N:]CMD\n"
    "                         a command with __key__ __key2__ __data__ placeholders,\n"
    "                         e.g. 'SET __key__ __data__'; repeat for a weighted mix;\n"
    "                         keys=N: takes this command's keys modulo N\n"
    "      --keys N           key space size (100000)\n"
    "      --dist D           uniform, zipf[:S] (S = 0.99) or seq (uniform)\n"
    "      --key-prefix P     what __key__ starts with (key:)\n"
    "  -d, --data-size N      bytes in __data__ (3)\n"
    "      --seed N           random seed (1)\n"
    "output:\n"
    "      --hdr FILE         percentile distribution, HdrHistogram text format (ms)\n"
    "      --json FILE        JSON summary\n"
    "      --csv FILE         time series: second,requests,throughput,p50/p99/max,errors\n"
    "      --interval S       time series step (1)\n"
    "  -q, --quiet            no summary on stdout and no progress line\n"
    "      --help, --version\n"
    "\n"
    "Exit status: 0 done, 1 bad usage or setup, 3 the server went away\n"
    "(partial results are written), 4 interrupted, 5 hard cap reached.\n"
    "\n"
    "examples:\n"
    "  mwrt-load -n 100000                    SET:GET 1:10 against mwrt-server on 6380\n"
    "  mwrt-load -p 6379 -a secret --dbnum 2  a Redis with a password, database 2\n"
    "  mwrt-load -c 50 -P 16 --duration 30 --mix set:1,get:3 --json out.json\n"
    "  mwrt-load --rate 20000 --duration 60 --dist zipf --csv series.csv\n"
    "                                         open loop: latency from the schedule\n"
    "  mwrt-load --template '10:HGET h:__key__ f' --template '1:HSET h:__key__ f __data__'\n"
    "The summary and --json give latency for all requests and for each command.\n";

enum {
    OPT_DURATION = 256,
    OPT_RATE,
    OPT_TIMEOUT,
    OPT_HARD_CAP,
    OPT_MIX,
    OPT_TEMPLATE,
    OPT_KEYS,
    OPT_DIST,
    OPT_PREFIX,
    OPT_SEED,
    OPT_HDR,
    OPT_JSON,
    OPT_CSV,
    OPT_INTERVAL,
    OPT_HELP,
    OPT_VERSION,
    OPT_USER,
    OPT_DBNUM,
};

static const struct option long_options[] = {
    {"host", required_argument, NULL, 'h'},
    {"port", required_argument, NULL, 'p'},
    {"auth", required_argument, NULL, 'a'},
    {"user", required_argument, NULL, OPT_USER},
    {"dbnum", required_argument, NULL, OPT_DBNUM},
    {"threads", required_argument, NULL, 't'},
    {"connections", required_argument, NULL, 'c'},
    {"pipeline", required_argument, NULL, 'P'},
    {"requests", required_argument, NULL, 'n'},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"rate", required_argument, NULL, OPT_RATE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"hard-cap", required_argument, NULL, OPT_HARD_CAP},
    {"mix", required_argument, NULL, OPT_MIX},
    {"template", required_argument, NULL, OPT_TEMPLATE},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"dist", required_argument, NULL, OPT_DIST},
    {"key-prefix", required_argument, NULL, OPT_PREFIX},
    {"data-size", required_argument, NULL, 'd'},
    {"seed", required_argument, NULL, OPT_SEED},
    {"hdr", required_argument, NULL, OPT_HDR},
    {"json", required_argument, NULL, OPT_JSON},
    {"csv", required_argument, NULL, OPT_CSV},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int parse_u64(const char *name, const char *s, uint64_t lo, uint64_t hi, uint64_t *out,
                     char *err, size_t errlen)
{
    char *end;

    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno || v < lo || v > hi) {
        snprintf(err, errlen, "%s must be a whole number from %llu to %llu, not '%s'", name,
                 (unsigned long long)lo, (unsigned long long)hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_int(const char *name, const char *s, int lo, int hi, int *out, char *err,
                     size_t errlen)
{
    uint64_t v;

    if (parse_u64(name, s, (uint64_t)lo, (uint64_t)hi, &v, err, errlen) < 0) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* A positive finite number no larger than hi. */
static int parse_positive(const char *name, const char *s, double hi, double *out, char *err,
                          size_t errlen)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v <= 0 || v > hi) {
        snprintf(err, errlen, "%s must be a number above 0 and at most %g, not '%s'", name, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_dist(mwl_options *o, const char *s, char *err, size_t errlen)
{
    if (strcmp(s, "uniform") == 0) {
        o->dist = MWL_DIST_UNIFORM;
    } else if (strcmp(s, "seq") == 0) {
        o->dist = MWL_DIST_SEQ;
    } else if (strcmp(s, "zipf") == 0) {
        o->dist = MWL_DIST_ZIPF;
    } else if (strncmp(s, "zipf:", 5) == 0) {
        o->dist = MWL_DIST_ZIPF;
        return parse_positive("--dist zipf:S", s + 5, 10.0, &o->zipf_s, err, errlen);
    } else {
        snprintf(err, errlen, "--dist must be uniform, zipf, zipf:S or seq, not '%s'", s);
        return -1;
    }
    return 0;
}

static void append_mix_text(mwl_options *o, const char *what)
{
    size_t have = strlen(o->mix_text);

    snprintf(o->mix_text + have, sizeof o->mix_text - have, "%s%s", have ? " | " : "", what);
}

static void set_defaults(mwl_options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->host, "127.0.0.1");
    o->port = 6380; // mwrt-server's default port
    o->dbnum = -1;
    o->threads = 1;
    o->connections = 50;
    o->pipeline = 1;
    o->timeout = 5.0;
    o->interval = 1.0;
    strcpy(o->prefix, "key:");
    o->keys = 100000;
    o->dist = MWL_DIST_UNIFORM;
    o->zipf_s = 0.99;
    o->data_size = 3;
    o->seed = 1;
}

int mwl_options_parse(mwl_options *o, int argc, char **argv, FILE *out, char *err, size_t errlen)
{
    uint64_t u;
    int c;

    set_defaults(o);
    optind = 0; // GNU getopt: start over, so tests can parse several times
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h:p:a:t:c:P:n:d:q", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            if (strlen(optarg) >= sizeof o->host || optarg[0] == '\0') {
                snprintf(err, errlen, "--host is empty or too long");
                return MWL_PARSE_ERROR;
            }
            strcpy(o->host, optarg);
            break;
        case 'p':
            if (parse_int("--port", optarg, 1, 65535, &o->port, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case 'a':
            if (strlen(optarg) >= sizeof o->password) {
                snprintf(err, errlen, "--auth is too long (at most %zu bytes)",
                         sizeof o->password - 1);
                return MWL_PARSE_ERROR;
            }
            strcpy(o->password, optarg);
            o->auth = 1;
            break;
        case OPT_USER:
            if (strlen(optarg) >= sizeof o->user || optarg[0] == '\0') {
                snprintf(err, errlen, "--user is empty or too long");
                return MWL_PARSE_ERROR;
            }
            strcpy(o->user, optarg);
            break;
        case OPT_DBNUM:
            if (parse_int("--dbnum", optarg, 0, 1 << 30, &o->dbnum, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case 't':
            if (parse_int("--threads", optarg, 1, 256, &o->threads, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case 'c':
            if (parse_int("--connections", optarg, 1, 10000, &o->connections, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case 'P':
            if (parse_int("--pipeline", optarg, 1, 4096, &o->pipeline, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case 'n':
            if (parse_u64("--requests", optarg, 1, UINT64_C(1) << 48, &o->requests, err, errlen) <
                0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case 'd':
            if (parse_u64("--data-size", optarg, 0, 64 << 20, &u, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            o->data_size = (size_t)u;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case OPT_DURATION:
            if (parse_positive("--duration", optarg, 86400, &o->duration, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_RATE:
            if (parse_positive("--rate", optarg, 1e8, &o->rate, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_TIMEOUT:
            if (parse_positive("--timeout", optarg, 3600, &o->timeout, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_HARD_CAP:
            if (parse_positive("--hard-cap", optarg, 7 * 86400, &o->hard_cap, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_MIX:
            if (mwl_workload_add_mix(&o->workload, optarg, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            append_mix_text(o, optarg);
            break;
        case OPT_TEMPLATE:
            if (mwl_workload_add_template(&o->workload, optarg, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            append_mix_text(o, optarg);
            break;
        case OPT_KEYS:
            if (parse_u64("--keys", optarg, 1, UINT64_C(1) << 40, &o->keys, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_DIST:
            if (parse_dist(o, optarg, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_PREFIX:
            if (strlen(optarg) >= sizeof o->prefix) {
                snprintf(err, errlen, "--key-prefix is too long (at most %zu bytes)",
                         sizeof o->prefix - 1);
                return MWL_PARSE_ERROR;
            }
            strcpy(o->prefix, optarg);
            break;
        case OPT_SEED:
            if (parse_u64("--seed", optarg, 0, UINT64_MAX, &o->seed, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_HDR:
            o->hdr_path = optarg;
            break;
        case OPT_JSON:
            o->json_path = optarg;
            break;
        case OPT_CSV:
            o->csv_path = optarg;
            break;
        case OPT_INTERVAL:
            if (parse_positive("--interval", optarg, 3600, &o->interval, err, errlen) < 0) {
                return MWL_PARSE_ERROR;
            }
            if (o->interval < 0.01) {
                snprintf(err, errlen, "--interval must be at least 0.01 s");
                return MWL_PARSE_ERROR;
            }
            break;
        case OPT_HELP:
            fputs(usage, out);
            return MWL_PARSE_EXIT;
        case OPT_VERSION:
            fprintf(out, "mwrt-load %s\n", MWL_VERSION);
            return MWL_PARSE_EXIT;
        case ':':
            snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
            return MWL_PARSE_ERROR;
        default:
            snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
            return MWL_PARSE_ERROR;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return MWL_PARSE_ERROR;
    }

    if (o->user[0] && !o->auth) {
        snprintf(err, errlen, "--user needs a password (-a PASS)");
        return MWL_PARSE_ERROR;
    }
    if (o->connections < o->threads) {
        snprintf(err, errlen, "--connections (%d) must be at least --threads (%d)",
                 o->connections, o->threads);
        return MWL_PARSE_ERROR;
    }
    if (o->requests == 0 && o->duration == 0) {
        o->duration = 10.0;
    }
    if (o->hard_cap == 0) {
        o->hard_cap = o->duration > 0 ? o->duration + 2 * o->timeout + 5 : 3600;
    }
    if (o->workload.n == 0) {
        if (mwl_workload_add_mix(&o->workload, "set:1,get:10", err, errlen) < 0) {
            return MWL_PARSE_ERROR;
        }
        append_mix_text(o, "set:1,get:10");
    }
    if (mwl_keydist_init(&(mwl_keydist){0}, o->dist, o->keys, o->zipf_s) < 0) {
        snprintf(err, errlen, "bad key distribution");
        return MWL_PARSE_ERROR;
    }
    return MWL_PARSE_OK;
}
