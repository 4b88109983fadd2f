/*
 * report.c - mwrt-load's results: the JSON summary, the human summary and
 * the per-interval CSV rows.
 *
 * Latencies are reported in microseconds in JSON and CSV (fractional, so
 * loopback's tens of µs keep their digits) and in milliseconds in the
 * human summary and the HdrHistogram table (hist.c), as wrk2 prints them.
 * The counts obey sent = ok + errors + timeouts + dropped: every request
 * written is accounted for exactly once.  Both summaries give the latency
 * of all requests and then of each command of the workload ("commands").
 * Nothing here allocates.
 */
#include "load.h"

#include <inttypes.h>

static const double percentiles[] = {50, 90, 99, 99.9, 99.99};
static const char *const percentile_names[] = {"p50", "p90", "p99", "p99.9", "p99.99"};
#define NPCT (sizeof percentiles / sizeof percentiles[0])

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20) {
            fprintf(f, "\\u%04x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

static const char *dist_name(mwl_dist_kind k)
{
    return k == MWL_DIST_ZIPF ? "zipf" : k == MWL_DIST_SEQ ? "seq" : "uniform";
}

/* One latency object in µs: count, min, mean, percentiles, max. */
static void json_latency(FILE *f, const mwl_hist *h)
{
    fprintf(f, "{\"count\": %" PRIu64 ", \"min\": %.3f, \"mean\": %.3f", h->count,
            h->count ? (double)h->min / 1e3 : 0.0, mwl_hist_mean(h) / 1e3);
    for (size_t i = 0; i < NPCT; i++) {
        fprintf(f, ", \"%s\": %.3f", percentile_names[i],
                (double)mwl_hist_percentile(h, percentiles[i]) / 1e3);
    }
    fprintf(f, ", \"max\": %.3f}", (double)h->max / 1e3);
}

/* ,"commands": one entry per command of the workload, in its order. */
static void write_json_commands(const mwl_result *r, FILE *f)
{
    if (!r->cmd_h) {
        return;
    }
    fprintf(f, ",\n  \"commands\": [");
    for (int i = 0; i < r->o->workload.n; i++) {
        const mwl_template *t = &r->o->workload.t[i];
        fprintf(f, "%s\n    {\"command\": ", i ? "," : "");
        json_string(f, t->text);
        fprintf(f, ", \"weight\": %u, \"completed\": %" PRIu64 ", \"errors\": %" PRIu64
                   ", \"latency_us\": ",
                t->weight, r->cmd_h[i].count, r->cmd_errors[i]);
        json_latency(f, &r->cmd_h[i]);
        fprintf(f, "}");
    }
    fprintf(f, "\n  ]");
}

int mwl_write_json(const mwl_result *r, FILE *f)
{
    const mwl_options *o = r->o;
    const mwl_hist *h = r->h;

    fprintf(f, "{\n  \"tool\": \"mwrt-load\",\n  \"status\": ");
    json_string(f, r->status);
    fprintf(f, ",\n  \"message\": ");
    json_string(f, r->message);
    fprintf(f, ",\n  \"config\": {\"host\": ");
    json_string(f, o->host);
    fprintf(f,
            ", \"port\": %d, \"threads\": %d, \"connections\": %d, \"pipeline\": %d, "
            "\"requests\": %" PRIu64 ", \"duration_s\": %g, \"rate\": %g, \"mode\": \"%s\", "
            "\"timeout_s\": %g, \"keys\": %" PRIu64 ", \"dist\": \"%s\", \"zipf_s\": %g, "
            "\"data_size\": %zu, \"seed\": %" PRIu64 ", \"workload\": ",
            o->port, o->threads, o->connections, o->pipeline, o->requests, o->duration, o->rate,
            o->rate > 0 ? "open" : "closed", o->timeout, o->keys, dist_name(o->dist), o->zipf_s,
            o->data_size, o->seed);
    json_string(f, o->mix_text);
    fprintf(f, ", \"auth\": %s, \"dbnum\": %d},\n", o->auth ? "true" : "false", o->dbnum);
    fprintf(f,
            "  \"sent\": %" PRIu64 ",\n  \"ok\": %" PRIu64 ",\n  \"errors\": %" PRIu64
            ",\n  \"timeouts\": %" PRIu64 ",\n  \"dropped\": %" PRIu64
            ",\n  \"completed\": %" PRIu64 ",\n  \"unsent\": %" PRIu64 ",\n",
            r->t.sent, r->t.ok, r->t.errors, r->t.timeouts, r->t.dropped, r->t.ok + r->t.errors,
            r->t.unsent);
    fprintf(f, "  \"first_error\": ");
    json_string(f, r->first_error);
    fprintf(f, ",\n  \"start_monotonic_s\": %.6f", r->start);
    fprintf(f, ",\n  \"elapsed_s\": %.6f,\n  \"throughput_rps\": %.3f,\n", r->t.elapsed,
            r->t.elapsed > 0 ? (double)(r->t.ok + r->t.errors) / r->t.elapsed : 0.0);
    fprintf(f, "  \"latency_us\": {\"count\": %" PRIu64 ", \"min\": %.3f, \"mean\": %.3f, \"stddev\": %.3f",
            h->count, h->count ? (double)h->min / 1e3 : 0.0, mwl_hist_mean(h) / 1e3,
            mwl_hist_stddev(h) / 1e3);
    for (size_t i = 0; i < NPCT; i++) {
        fprintf(f, ", \"%s\": %.3f", percentile_names[i],
                (double)mwl_hist_percentile(h, percentiles[i]) / 1e3);
    }
    fprintf(f, ", \"max\": %.3f}", (double)h->max / 1e3);
    write_json_commands(r, f);
    fprintf(f, "\n}\n");
    return ferror(f) ? -1 : 0;
}

void mwl_write_summary(const mwl_result *r, FILE *f)
{
    const mwl_options *o = r->o;
    const mwl_hist *h = r->h;

    fprintf(f, "mwrt-load: %s:%d, %d thread(s), %d connection(s), pipeline %d, ", o->host, o->port,
            o->threads, o->connections, o->pipeline);
    if (o->rate > 0) {
        fprintf(f, "open loop at %.0f req/s\n", o->rate);
    } else {
        fprintf(f, "closed loop\n");
    }
    fprintf(f, "workload: %s; %" PRIu64 " keys, %s, %zu-byte values\n", o->mix_text, o->keys,
            dist_name(o->dist), o->data_size);
    fprintf(f, "status: %s%s%s\n", r->status, r->message[0] ? ": " : "", r->message);
    fprintf(f,
            "requests: %" PRIu64 " sent, %" PRIu64 " ok, %" PRIu64 " errors, %" PRIu64
            " timeouts, %" PRIu64 " dropped in %.3f s\n",
            r->t.sent, r->t.ok, r->t.errors, r->t.timeouts, r->t.dropped, r->t.elapsed);
    if (r->first_error[0]) {
        fprintf(f, "first error reply: %s\n", r->first_error);
    }
    fprintf(f, "throughput: %.1f req/s\n",
            r->t.elapsed > 0 ? (double)(r->t.ok + r->t.errors) / r->t.elapsed : 0.0);
    fprintf(f, "latency (ms): min %.3f", h->count ? (double)h->min / 1e6 : 0.0);
    for (size_t i = 0; i < NPCT; i++) {
        fprintf(f, "  %s %.3f", percentile_names[i],
                (double)mwl_hist_percentile(h, percentiles[i]) / 1e6);
    }
    fprintf(f, "  max %.3f  mean %.3f\n", (double)h->max / 1e6, mwl_hist_mean(h) / 1e6);
    if (!r->cmd_h) {
        return;
    }
    fprintf(f, "by command (ms):\n");
    for (int i = 0; i < o->workload.n; i++) {
        const mwl_hist *c = &r->cmd_h[i];
        fprintf(f, "  %-28.28s %10" PRIu64 " done %8" PRIu64 " errors", o->workload.t[i].text,
                c->count, r->cmd_errors[i]);
        for (size_t k = 0; k < NPCT; k += 2) { // p50, p99, p99.99
            fprintf(f, "  %s %.3f", percentile_names[k],
                    (double)mwl_hist_percentile(c, percentiles[k]) / 1e6);
        }
        fprintf(f, "  max %.3f\n", (double)c->max / 1e6);
    }
}

int mwl_csv_header(FILE *f)
{
    fprintf(f, "second,requests,throughput,p50_us,p99_us,max_us,errors,timeouts\n");
    return ferror(f) ? -1 : 0;
}

int mwl_csv_row(FILE *f, double second, double span, uint64_t requests, const mwl_hist *h,
                uint64_t errors, uint64_t timeouts)
{
    fprintf(f, "%.3f,%" PRIu64 ",%.1f,%.3f,%.3f,%.3f,%" PRIu64 ",%" PRIu64 "\n", second, requests,
            span > 0 ? (double)requests / span : 0.0, (double)mwl_hist_percentile(h, 50) / 1e3,
            (double)mwl_hist_percentile(h, 99) / 1e3, (double)h->max / 1e3, errors, timeouts);
    return ferror(f) ? -1 : 0;
}
