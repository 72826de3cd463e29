// Patches librdkafka's mock cluster so that a Fetch finding no data waits for data as a real
// broker does: the request is held until a producer appends to any partition (then it is
// answered again, with what is there, or held again until its deadline) or until its MaxWait
// has passed (then answered empty). Unpatched, the mock built an empty answer at once and sent
// it only after the whole MaxWait, whatever arrived meanwhile, so a consumer had to fetch with
// a wait of a few milliseconds to see data soon — polling that took a quarter of a core per
// process at no load on the bench machine and slowed everything else on it.
//
// While a fetch is held its connection reads no further requests, which is how a Kafka broker
// serves a connection (one request at a time, answers in order), so answers never overtake it.
// A fetch that meets an injected error is answered at once.
//
// `node patch-fetch-wait.mjs <librdkafka src dir>`; exits non-zero when the code it changes
// is not there exactly once (a different librdkafka), so build.sh stops instead of building a
// broker that behaves otherwise.
import { join } from 'node:path';
import { patchFile } from './patch-source.mjs';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node patch-fetch-wait.mjs <librdkafka src dir>\n');
  process.exit(2);
}

const patch = (file, edits) => patchFile(join(dir, file), edits, 'patch-fetch-wait');

patch('rdkafka_mock_handlers.c', [
  [
    '#include "rdkafka_mock_int.h"\n',
    `#include "rdkafka_mock_int.h"
/* mlstream (patch-fetch-wait.mjs): in rdkafka_mock.c */
rd_bool_t mlstream_fetch_hold(rd_kafka_mock_connection_t *mconn,
                              rd_kafka_buf_t *rkbuf, size_t start,
                              int32_t MaxWait);
`,
  ],
  [
    `            rd_calloc(mcluster->broker_cnt, sizeof(*changed_leaders));

        if (rkbuf->rkbuf_reqhdr.ApiVersion <= 14) {
                rd_kafka_buf_read_i32(rkbuf, &ReplicaId);`,
    `            rd_calloc(mcluster->broker_cnt, sizeof(*changed_leaders));
        /* mlstream: where the request body starts, to read it again later */
        const size_t mlstream_start = rd_slice_offset(&rkbuf->rkbuf_reader);

        if (rkbuf->rkbuf_reqhdr.ApiVersion <= 14) {
                rd_kafka_buf_read_i32(rkbuf, &ReplicaId);`,
  ],
  [
    `        if (!totsize && MaxWait > 0)
                resp->rkbuf_ts_retry = rd_clock() + (MaxWait * 1000);
`,
    `        /* mlstream: no data yet; hold the request until a producer appends
         * or MaxWait has passed (patch-fetch-wait.mjs). */
        if (!totsize && MaxWait > 0 && !all_err &&
            mlstream_fetch_hold(mconn, rkbuf, mlstream_start, MaxWait)) {
                rd_kafka_buf_destroy(resp);
                rd_free(changed_leaders);
                return 0;
        }
`,
  ],
]);

const HELD = `/* mlstream (patch-fetch-wait.mjs): Fetch requests held until data arrives. */
typedef struct mlstream_held_s {
        TAILQ_ENTRY(mlstream_held_s) link;
        rd_kafka_mock_connection_t *mconn;
        rd_kafka_buf_t *rkbuf; /* the request, kept */
        size_t start;          /* its body's offset in rkbuf_reader */
        rd_ts_t deadline;      /* when its MaxWait has passed */
        rd_kafka_timer_t tmr;
} mlstream_held_t;

static TAILQ_HEAD(, mlstream_held_s)
    mlstream_held = TAILQ_HEAD_INITIALIZER(mlstream_held);
/* The deadline of the held request being answered again, 0 otherwise. */
static rd_ts_t mlstream_again_deadline;
static rd_kafka_timer_t mlstream_wake_tmr;

static void rd_kafka_mock_connection_close(rd_kafka_mock_connection_t *mconn,
                                           const char *reason);

static rd_bool_t mlstream_fetch_is_held(rd_kafka_mock_connection_t *mconn) {
        mlstream_held_t *h;
        TAILQ_FOREACH(h, &mlstream_held, link) {
                if (h->mconn == mconn)
                        return rd_true;
        }
        return rd_false;
}

static void mlstream_held_free(mlstream_held_t *h) {
        TAILQ_REMOVE(&mlstream_held, h, link);
        rd_kafka_timer_stop(&h->mconn->broker->cluster->timers, &h->tmr,
                            rd_true);
        rd_kafka_buf_destroy(h->rkbuf);
        rd_free(h);
}

static void mlstream_fetch_timeout_cb(rd_kafka_timers_t *rkts, void *arg);

/* Holds \\p rkbuf (a Fetch that found no data) on \\p mconn; rd_false when its
 * MaxWait has passed already and it must be answered now. */
rd_bool_t mlstream_fetch_hold(rd_kafka_mock_connection_t *mconn,
                              rd_kafka_buf_t *rkbuf,
                              size_t start,
                              int32_t MaxWait) {
        rd_ts_t now      = rd_clock();
        rd_ts_t deadline = mlstream_again_deadline
                               ? mlstream_again_deadline
                               : now + (rd_ts_t)MaxWait * 1000;
        mlstream_held_t *h;

        if (now >= deadline)
                return rd_false;
        h = rd_calloc(1, sizeof(*h));
        rd_kafka_buf_keep(rkbuf);
        h->mconn    = mconn;
        h->rkbuf    = rkbuf;
        h->start    = start;
        h->deadline = deadline;
        TAILQ_INSERT_TAIL(&mlstream_held, h, link);
        rd_kafka_timer_start_oneshot(&mconn->broker->cluster->timers, &h->tmr,
                                     rd_false, deadline - now,
                                     mlstream_fetch_timeout_cb, h);
        rd_kafka_mock_connection_set_blocking(mconn, rd_true);
        return rd_true;
}

/* Answers \\p h again (data may have arrived, or its deadline passed). */
static void mlstream_fetch_answer_again(mlstream_held_t *h) {
        rd_kafka_mock_connection_t *mconn = h->mconn;
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        rd_kafka_buf_t *rkbuf             = h->rkbuf;
        rd_ts_t deadline                  = h->deadline;
        size_t start                      = h->start;
        int r;

        rd_kafka_buf_keep(rkbuf);
        mlstream_held_free(h);
        rd_slice_seek(&rkbuf->rkbuf_reader, start);
        mlstream_again_deadline = deadline;
        r = mcluster->api_handlers[RD_KAFKAP_Fetch].cb(mconn, rkbuf);
        mlstream_again_deadline = 0;
        rd_kafka_buf_destroy(rkbuf);
        if (r == -1) {
                rd_kafka_mock_connection_close(mconn, "Parse error");
                return;
        }
        if (!mlstream_fetch_is_held(mconn))
                rd_kafka_mock_connection_set_blocking(mconn, rd_false);
}

static void mlstream_fetch_timeout_cb(rd_kafka_timers_t *rkts, void *arg) {
        mlstream_fetch_answer_again(arg);
}

/* After an append: every held request is answered again. */
static void mlstream_fetch_wake_cb(rd_kafka_timers_t *rkts, void *arg) {
        TAILQ_HEAD(, mlstream_held_s) now = TAILQ_HEAD_INITIALIZER(now);
        mlstream_held_t *h;

        /* Requests held again while answering go back on mlstream_held, not
         * on this round's list. */
        TAILQ_CONCAT(&now, &mlstream_held, link);
        while ((h = TAILQ_FIRST(&now))) {
                TAILQ_REMOVE(&now, h, link);
                TAILQ_INSERT_TAIL(&mlstream_held, h, link);
                mlstream_fetch_answer_again(h);
        }
}

static void mlstream_fetch_wake(rd_kafka_mock_cluster_t *mcluster) {
        if (!TAILQ_EMPTY(&mlstream_held))
                rd_kafka_timer_start_oneshot(&mcluster->timers,
                                             &mlstream_wake_tmr, rd_false, 1,
                                             mlstream_fetch_wake_cb, mcluster);
}

static void mlstream_fetch_forget(rd_kafka_mock_connection_t *mconn) {
        mlstream_held_t *h, *tmp;
        TAILQ_FOREACH_SAFE(h, &mlstream_held, link, tmp) {
                if (h->mconn == mconn)
                        mlstream_held_free(h);
        }
}

`;

patch('rdkafka_mock.c', [
  [
    '#include "rdkafka_mock_int.h"\n',
    `#include "rdkafka_mock_int.h"
/* mlstream (patch-fetch-wait.mjs): below, with the held Fetch requests */
static void mlstream_fetch_wake(rd_kafka_mock_cluster_t *mcluster);
`,
  ],
  [
    `static void rd_kafka_mock_connection_close(rd_kafka_mock_connection_t *mconn,
                                           const char *reason) {
        rd_kafka_buf_t *rkbuf;
`,
    `${HELD}static void rd_kafka_mock_connection_close(rd_kafka_mock_connection_t *mconn,
                                           const char *reason) {
        rd_kafka_buf_t *rkbuf;

        mlstream_fetch_forget(mconn);
`,
  ],
  [
    `                        rd_kafka_buf_destroy(rkbuf);
                        if (r == -1) {
                                rd_kafka_mock_connection_close(mconn,
                                                               "Parse error");
                                return;
                        }
`,
    `                        rd_kafka_buf_destroy(rkbuf);
                        if (r == -1) {
                                rd_kafka_mock_connection_close(mconn,
                                                               "Parse error");
                                return;
                        }
                        /* mlstream: the next request waits for a held fetch */
                        if (mlstream_fetch_is_held(mconn))
                                break;
`,
  ],
  [
    `                     mpart->start_offset, mpart->end_offset, orig_start_offset);

        return mset;`,
    `                     mpart->start_offset, mpart->end_offset, orig_start_offset);

        mlstream_fetch_wake(mpart->topic->cluster);
        return mset;`,
  ],
]);
