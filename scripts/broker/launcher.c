/*
 * mlstream-broker: a local Kafka-protocol broker for tests, built on
 * librdkafka's mock cluster (rdkafka_mock.h).
 *
 * Usage:
 *   mlstream-broker [--brokers N] [--port P] [--die-with-parent]
 *                   [--debug CONTEXTS] [topic:partitions[:replication] ...]
 *
 * Protocol (line based, see scripts/broker/README.md):
 *   - the first stdout line is "BOOTSTRAP host:port[,host:port...]"
 *     (or "ERR <reason>" if the cluster could not be started);
 *   - every non-empty stdin line is one command, answered by exactly one
 *     stdout line "OK ..." or "ERR <reason>";
 *   - EOF on stdin, SIGTERM, SIGINT or SIGHUP destroy the cluster and exit 0.
 *
 * Built and linked by scripts/broker/build.sh; the link step passes
 * -Wl,--wrap=bind (see __wrap_bind below).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

#define MAX_LINE 4096
#define MAX_TOKENS 16
#define MAX_ERRORS_PER_PUSH 100000

static rd_kafka_mock_cluster_t *mcluster;
static int broker_cnt = 1;

/* ------------------------------------------------------------------------ */
/* Fixed port for broker 1.
 *
 * The mock API has no way to choose listener ports: every broker binds
 * 127.0.0.1:0 and the kernel picks a port. To offer `--port`, the binary is
 * linked with -Wl,--wrap=bind so that librdkafka's bind() calls land here.
 * rd_kafka_mock_cluster_new() creates brokers 1..N synchronously in the
 * calling thread, so the first loopback port-0 bind after `fixed_port` is
 * armed is broker 1's listener. A re-bind on broker down/up uses the real
 * (non-zero) port and is passed through untouched. */
int __real_bind(int fd, const struct sockaddr *addr, socklen_t len);
static unsigned short fixed_port;

int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len) {
        if (fixed_port && addr && addr->sa_family == AF_INET &&
            len >= (socklen_t)sizeof(struct sockaddr_in)) {
                struct sockaddr_in sin;
                memcpy(&sin, addr, sizeof(sin));
                if (sin.sin_port == 0 &&
                    sin.sin_addr.s_addr == htonl(INADDR_LOOPBACK)) {
                        sin.sin_port = htons(fixed_port);
                        fixed_port   = 0;
                        return __real_bind(fd, (const struct sockaddr *)&sin,
                                           sizeof(sin));
                }
        }
        return __real_bind(fd, addr, len);
}

/* ------------------------------------------------------------------------ */
/* Name tables. Kafka protocol API keys (a fixed, public numbering). */
static const struct {
        const char *name;
        int key;
} api_names[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Offsets", 2}, /* old name */
    {"Metadata", 3},
    {"LeaderAndIsr", 4},
    {"StopReplica", 5},
    {"UpdateMetadata", 6},
    {"ControlledShutdown", 7},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"GroupCoordinator", 10}, /* old name */
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"DeleteTopics", 20},
    {"DeleteRecords", 21},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"WriteTxnMarkers", 27},
    {"TxnOffsetCommit", 28},
    {"DescribeAcls", 29},
    {"CreateAcls", 30},
    {"DeleteAcls", 31},
    {"DescribeConfigs", 32},
    {"AlterConfigs", 33},
    {"AlterReplicaLogDirs", 34},
    {"DescribeLogDirs", 35},
    {"SaslAuthenticate", 36},
    {"CreatePartitions", 37},
    {"CreateDelegationToken", 38},
    {"RenewDelegationToken", 39},
    {"ExpireDelegationToken", 40},
    {"DescribeDelegationToken", 41},
    {"DeleteGroups", 42},
    {"ElectLeaders", 43},
    {"IncrementalAlterConfigs", 44},
    {"AlterPartitionReassignments", 45},
    {"ListPartitionReassignments", 46},
    {"OffsetDelete", 47},
    {"DescribeClientQuotas", 48},
    {"AlterClientQuotas", 49},
    {"DescribeUserScramCredentials", 50},
    {"AlterUserScramCredentials", 51},
    {"DescribeCluster", 60},
    {"DescribeProducers", 61},
    {"DescribeTransactions", 65},
    {"ListTransactions", 66},
    {"ConsumerGroupHeartbeat", 68},
    {"ConsumerGroupDescribe", 69},
    {"GetTelemetrySubscriptions", 71},
    {"PushTelemetry", 72},
    {"ShareGroupHeartbeat", 76},
    {"ShareGroupDescribe", 77},
    {"ShareFetch", 78},
    {"ShareAcknowledge", 79},
};

/* Kafka error names that differ from librdkafka's own error table. */
static const struct {
        const char *name;
        int code;
} err_aliases[] = {
    {"NONE", 0},
    {"NOT_LEADER_OR_FOLLOWER", 6}, /* KIP-392 name of NOT_LEADER_FOR_PARTITION */
    {"UNKNOWN_SERVER_ERROR", -1},  /* Java client's name for UNKNOWN */
    /* librdkafka-local error: the mock broker closes the connection instead
     * of answering. */
    {"TRANSPORT", RD_KAFKA_RESP_ERR__TRANSPORT},
    {"DISCONNECT", RD_KAFKA_RESP_ERR__TRANSPORT},
};

static int parse_int(const char *s, long min, long max, long *out) {
        char *end;
        long v;
        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int parse_api(const char *s, int16_t *out) {
        long v;
        size_t i;
        if (parse_int(s, 0, 32767, &v) == 0) {
                *out = (int16_t)v;
                return 0;
        }
        for (i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++) {
                if (!strcasecmp(s, api_names[i].name)) {
                        *out = (int16_t)api_names[i].key;
                        return 0;
                }
        }
        /* Tolerate a "Request" suffix: ProduceRequest, FetchRequest... */
        {
                size_t n = strlen(s);
                if (n > 7 && !strcasecmp(s + n - 7, "Request")) {
                        char base[64];
                        if (n - 7 >= sizeof(base))
                                return -1;
                        memcpy(base, s, n - 7);
                        base[n - 7] = '\0';
                        return parse_api(base, out);
                }
        }
        return -1;
}

/* Accepts a number, a Kafka error name (case-insensitive, optionally with
 * librdkafka's RD_KAFKA_RESP_ERR_ prefix) or an alias. The names come from
 * librdkafka's own error table, so every code it knows is accepted. */
static int parse_err(const char *s, rd_kafka_resp_err_t *out) {
        const struct rd_kafka_err_desc *descs;
        size_t cnt, i;
        long v;

        if (parse_int(s, -200, 32767, &v) == 0) {
                *out = (rd_kafka_resp_err_t)v;
                return 0;
        }
        if (!strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18))
                s += 18;
        for (i = 0; i < sizeof(err_aliases) / sizeof(err_aliases[0]); i++) {
                if (!strcasecmp(s, err_aliases[i].name)) {
                        *out = (rd_kafka_resp_err_t)err_aliases[i].code;
                        return 0;
                }
        }
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt; i++) {
                if (descs[i].name && !strcasecmp(s, descs[i].name)) {
                        *out = descs[i].code;
                        return 0;
                }
        }
        return -1;
}

/* ------------------------------------------------------------------------ */
/* Replies. stdout carries only protocol lines; diagnostics go to stderr. */
static int reply_failed;

static void reply(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        if (fflush(stdout) != 0 || ferror(stdout))
                reply_failed = 1; /* reader is gone: shut down */
}

static void reply_fail(rd_kafka_resp_err_t err) {
        reply("ERR %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
}

/* Replies OK/ERR for a mock API result. */
static void reply_err(rd_kafka_resp_err_t err, const char *okfmt, ...) {
        if (err) {
                reply_fail(err);
                return;
        }
        {
                char buf[512];
                va_list ap;
                va_start(ap, okfmt);
                vsnprintf(buf, sizeof(buf), okfmt, ap);
                va_end(ap);
                reply("OK %s", buf);
        }
}

static int parse_broker(const char *s, int allow_all, int32_t *out) {
        long v;
        if (parse_int(s, allow_all ? -1 : 1, broker_cnt, &v) || v == 0)
                return -1;
        *out = (int32_t)v;
        return 0;
}

static rd_kafka_resp_err_t create_topic(const char *name,
                                        long partitions,
                                        long replication) {
        if (!*name)
                return RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION;
        return rd_kafka_mock_topic_create(mcluster, name, (int)partitions,
                                          (int)replication);
}

#define USAGE_HELP                                                             \
        "commands: ping | help | bootstrap | "                                 \
        "topic <name> <partitions> [replication] | delete-topic <name> | "     \
        "errors <api> <error> <count> | clear-errors <api> | "                 \
        "broker-errors <brokerId> <api> <error> <count> [rttMs] | "            \
        "partition-errors <topic> <partition> <api> <error> <count> | "        \
        "topic-error <topic> <error> | rtt <brokerId|-1> <ms> | "              \
        "advertise <brokerId> <host> <port> | "                                \
        "down <brokerId|-1> | up <brokerId|-1> | disconnect <brokerId|-1> | "  \
        "leader <topic> <partition> <brokerId|-1> | "                          \
        "follower <topic> <partition> <brokerId|-1> | "                        \
        "coordinator <group|transaction> <key> <brokerId> | "                  \
        "controller <brokerId|-1> | "                                          \
        "delete-records <topic> <partition> <beforeOffset> | "                 \
        "apiversion <api> <minVersion> <maxVersion>"

#define NEED(n, usage)                                                         \
        do {                                                                   \
                if (argc != (n)) {                                             \
                        reply("ERR usage: %s", usage);                         \
                        return;                                                \
                }                                                              \
        } while (0)

#define BAD(what, val)                                                         \
        do {                                                                   \
                reply("ERR invalid %s: %s", what, val);                        \
                return;                                                        \
        } while (0)

static void handle_command(int argc, char **argv) {
        const char *cmd = argv[0];
        int16_t api;
        rd_kafka_resp_err_t err;
        int32_t broker;
        long n, m, k;

        if (!strcmp(cmd, "ping")) {
                reply("OK pong");

        } else if (!strcmp(cmd, "help")) {
                reply("OK %s", USAGE_HELP);

        } else if (!strcmp(cmd, "bootstrap")) {
                reply("OK %s", rd_kafka_mock_cluster_bootstraps(mcluster));

        } else if (!strcmp(cmd, "topic")) {
                if (argc != 3 && argc != 4) {
                        reply("ERR usage: topic <name> <partitions> "
                              "[replication]");
                        return;
                }
                if (parse_int(argv[2], 1, 100000, &n))
                        BAD("partition count", argv[2]);
                m = 1;
                if (argc == 4 && parse_int(argv[3], 1, broker_cnt, &m))
                        BAD("replication factor", argv[3]);
                err = create_topic(argv[1], n, m);
                reply_err(err, "topic %s %ld %ld", argv[1], n, m);

        } else if (!strcmp(cmd, "delete-topic")) {
                NEED(2, "delete-topic <name>");
                reply_err(rd_kafka_mock_topic_delete(mcluster, argv[1]),
                          "deleted %s", argv[1]);

        } else if (!strcmp(cmd, "errors")) {
                rd_kafka_resp_err_t *errs;
                long i;
                NEED(4, "errors <api> <error> <count>");
                if (parse_api(argv[1], &api))
                        BAD("api", argv[1]);
                if (parse_err(argv[2], &err))
                        BAD("error", argv[2]);
                if (parse_int(argv[3], 1, MAX_ERRORS_PER_PUSH, &n))
                        BAD("count", argv[3]);
                if (!(errs = malloc(sizeof(*errs) * (size_t)n))) {
                        reply("ERR out of memory");
                        return;
                }
                for (i = 0; i < n; i++)
                        errs[i] = err;
                rd_kafka_mock_push_request_errors_array(mcluster, api,
                                                        (size_t)n, errs);
                free(errs);
                reply("OK pushed %ld x %s for api %d", n, rd_kafka_err2name(err),
                      api);

        } else if (!strcmp(cmd, "clear-errors")) {
                NEED(2, "clear-errors <api>");
                if (parse_api(argv[1], &api))
                        BAD("api", argv[1]);
                rd_kafka_mock_clear_request_errors(mcluster, api);
                reply("OK cleared api %d", api);

        } else if (!strcmp(cmd, "broker-errors")) {
                long i;
                if (argc != 5 && argc != 6) {
                        reply("ERR usage: broker-errors <brokerId> <api> "
                              "<error> <count> [rttMs]");
                        return;
                }
                if (parse_broker(argv[1], 0, &broker))
                        BAD("broker id", argv[1]);
                if (parse_api(argv[2], &api))
                        BAD("api", argv[2]);
                if (parse_err(argv[3], &err))
                        BAD("error", argv[3]);
                if (parse_int(argv[4], 1, MAX_ERRORS_PER_PUSH, &n))
                        BAD("count", argv[4]);
                m = 0;
                if (argc == 6 && parse_int(argv[5], 0, 3600000, &m))
                        BAD("rtt", argv[5]);
                /* The API is variadic (err, rtt pairs); pushing one at a time
                 * appends to the same per-broker stack in order. */
                for (i = 0; i < n; i++) {
                        rd_kafka_resp_err_t r =
                            rd_kafka_mock_broker_push_request_error_rtts(
                                mcluster, broker, api, 1, err, (int)m);
                        if (r) {
                                reply_fail(r);
                                return;
                        }
                }
                reply("OK pushed %ld x %s (rtt %ld ms) for api %d on broker "
                      "%d",
                      n, rd_kafka_err2name(err), m, api, (int)broker);

        } else if (!strcmp(cmd, "partition-errors")) {
                long i;
                NEED(6, "partition-errors <topic> <partition> <api> <error> "
                        "<count>");
                if (parse_int(argv[2], 0, 100000, &k))
                        BAD("partition", argv[2]);
                if (parse_api(argv[3], &api))
                        BAD("api", argv[3]);
                if (parse_err(argv[4], &err))
                        BAD("error", argv[4]);
                if (parse_int(argv[5], 1, MAX_ERRORS_PER_PUSH, &n))
                        BAD("count", argv[5]);
                for (i = 0; i < n; i++) {
                        rd_kafka_resp_err_t r =
                            rd_kafka_mock_partition_push_request_errors(
                                mcluster, argv[1], (int32_t)k, api, 1, err);
                        if (r) {
                                reply_fail(r);
                                return;
                        }
                }
                reply("OK pushed %ld x %s for api %d on %s [%ld]", n,
                      rd_kafka_err2name(err), api, argv[1], k);

        } else if (!strcmp(cmd, "topic-error")) {
                NEED(3, "topic-error <topic> <error>");
                if (parse_err(argv[2], &err))
                        BAD("error", argv[2]);
                rd_kafka_mock_topic_set_error(mcluster, argv[1], err);
                reply("OK topic %s error %s", argv[1], rd_kafka_err2name(err));

        } else if (!strcmp(cmd, "advertise")) {
                /* Metadata names the broker at host:port from now on (a TLS
                 * proxy in front of its plaintext listener, which stays). */
                NEED(4, "advertise <brokerId> <host> <port>");
                if (parse_broker(argv[1], 0, &broker))
                        BAD("broker id", argv[1]);
                if (parse_int(argv[3], 1, 65535, &n))
                        BAD("port", argv[3]);
                rd_kafka_mock_broker_set_host_port(mcluster, broker, argv[2],
                                                   (int)n);
                reply("OK broker %d advertised at %s:%ld", (int)broker,
                      argv[2], n);

        } else if (!strcmp(cmd, "rtt")) {
                NEED(3, "rtt <brokerId|-1> <ms>");
                if (parse_broker(argv[1], 1, &broker))
                        BAD("broker id", argv[1]);
                if (parse_int(argv[2], 0, 3600000, &n))
                        BAD("rtt", argv[2]);
                reply_err(rd_kafka_mock_broker_set_rtt(mcluster, broker,
                                                       (int)n),
                          "rtt %d %ld", (int)broker, n);

        } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up") ||
                   !strcmp(cmd, "disconnect")) {
                int down = !strcmp(cmd, "down");
                int up   = !strcmp(cmd, "up");
                if (argc != 2) {
                        reply("ERR usage: %s <brokerId|-1>", cmd);
                        return;
                }
                if (parse_broker(argv[1], 1, &broker))
                        BAD("broker id", argv[1]);
                err = RD_KAFKA_RESP_ERR_NO_ERROR;
                /* disconnect = down + up: drops every client connection of
                 * the broker but keeps it reachable on the same port. */
                if (!up)
                        err = rd_kafka_mock_broker_set_down(mcluster, broker);
                if (!err && !down)
                        err = rd_kafka_mock_broker_set_up(mcluster, broker);
                reply_err(err, "%s %d", cmd, (int)broker);

        } else if (!strcmp(cmd, "leader") || !strcmp(cmd, "follower")) {
                if (argc != 4) {
                        reply("ERR usage: %s <topic> <partition> "
                              "<brokerId|-1>",
                              cmd);
                        return;
                }
                if (parse_int(argv[2], 0, 100000, &k))
                        BAD("partition", argv[2]);
                if (parse_broker(argv[3], 1, &broker))
                        BAD("broker id", argv[3]);
                if (!strcmp(cmd, "leader"))
                        err = rd_kafka_mock_partition_set_leader(
                            mcluster, argv[1], (int32_t)k, broker);
                else
                        err = rd_kafka_mock_partition_set_follower(
                            mcluster, argv[1], (int32_t)k, broker);
                reply_err(err, "%s %s %ld %d", cmd, argv[1], k, (int)broker);

        } else if (!strcmp(cmd, "coordinator")) {
                NEED(4, "coordinator <group|transaction> <key> <brokerId>");
                if (strcmp(argv[1], "group") && strcmp(argv[1], "transaction"))
                        BAD("coordinator type", argv[1]);
                if (parse_broker(argv[3], 0, &broker))
                        BAD("broker id", argv[3]);
                reply_err(rd_kafka_mock_coordinator_set(mcluster, argv[1],
                                                        argv[2], broker),
                          "coordinator %s %s %d", argv[1], argv[2],
                          (int)broker);

        } else if (!strcmp(cmd, "controller")) {
                NEED(2, "controller <brokerId|-1>");
                if (parse_broker(argv[1], 1, &broker))
                        BAD("broker id", argv[1]);
                rd_kafka_mock_set_controller_id(mcluster, broker);
                reply("OK controller %d", (int)broker);

        } else if (!strcmp(cmd, "delete-records")) {
                long long off;
                char *end;
                NEED(4, "delete-records <topic> <partition> <beforeOffset>");
                if (parse_int(argv[2], 0, 100000, &k))
                        BAD("partition", argv[2]);
                errno = 0;
                off   = strtoll(argv[3], &end, 10);
                if (errno || *end || off < 0)
                        BAD("offset", argv[3]);
                reply_err(rd_kafka_mock_partition_delete_records(
                              mcluster, argv[1], (int32_t)k, (int64_t)off),
                          "deleted %s [%ld] before %lld", argv[1], k, off);

        } else if (!strcmp(cmd, "apiversion")) {
                NEED(4, "apiversion <api> <minVersion> <maxVersion>");
                if (parse_api(argv[1], &api))
                        BAD("api", argv[1]);
                if (parse_int(argv[2], -1, 32767, &n))
                        BAD("version", argv[2]);
                if (parse_int(argv[3], -1, 32767, &m))
                        BAD("version", argv[3]);
                reply_err(rd_kafka_mock_set_apiversion(mcluster, api,
                                                       (int16_t)n, (int16_t)m),
                          "apiversion %d %ld..%ld", api, n, m);

        } else {
                reply("ERR unknown command: %s (try: help)", cmd);
        }
}

static void handle_line(char *line) {
        char *argv[MAX_TOKENS + 1];
        int argc = 0;
        char *save, *tok;

        for (tok = strtok_r(line, " \t\r", &save); tok;
             tok = strtok_r(NULL, " \t\r", &save)) {
                if (argc == MAX_TOKENS) {
                        reply("ERR too many arguments");
                        return;
                }
                argv[argc++] = tok;
        }
        if (argc == 0)
                return; /* blank lines get no reply */
        argv[argc] = NULL;
        handle_command(argc, argv);
}

/* ------------------------------------------------------------------------ */
static void usage(const char *prog) {
        fprintf(stderr,
                "usage: %s [--brokers N] [--port P] [--die-with-parent] "
                "[--debug CONTEXTS] [topic:partitions[:replication] ...]\n",
                prog);
}

int main(int argc, char **argv) {
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        sigset_t sigs;
        int sfd, i;
        long port = 0, v;
        int die_with_parent = 0;
        int exit_code       = 0;
        const char *debug   = NULL;
        char **topics       = calloc((size_t)argc, sizeof(char *));
        int topic_cnt       = 0;
        static char buf[MAX_LINE + 1];
        size_t buflen = 0;
        int discarding = 0; /* inside an over-long line */

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--brokers") && i + 1 < argc) {
                        if (parse_int(argv[++i], 1, 64, &v)) {
                                fprintf(stderr, "invalid --brokers\n");
                                return 2;
                        }
                        broker_cnt = (int)v;
                } else if (!strcmp(a, "--port") && i + 1 < argc) {
                        if (parse_int(argv[++i], 0, 65535, &port)) {
                                fprintf(stderr, "invalid --port\n");
                                return 2;
                        }
                } else if (!strcmp(a, "--debug") && i + 1 < argc) {
                        debug = argv[++i];
                } else if (!strcmp(a, "--die-with-parent")) {
                        die_with_parent = 1;
                } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage(argv[0]);
                        fprintf(stderr, "%s\n", USAGE_HELP);
                        return 0;
                } else if (a[0] == '-') {
                        usage(argv[0]);
                        return 2;
                } else {
                        topics[topic_cnt++] = argv[i];
                }
        }

        /* Block the termination signals before librdkafka starts any thread
         * (threads inherit the mask), then take them synchronously through a
         * signalfd in the main loop: only the main thread may tear down the
         * cluster. */
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGHUP);
        if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
            (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) == -1) {
                perror("signalfd");
                return 1;
        }
        /* A vanished reader must not kill us before the cluster is destroyed;
         * write errors are handled instead. */
        signal(SIGPIPE, SIG_IGN);

        if (die_with_parent) {
                pid_t parent = getppid();
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent) /* parent died before prctl() */
                        return 0;
        }

        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "client.id", "mlstream-broker", NULL, 0);
        /* Hide the notice-level "No bootstrap.servers configured" warning of
         * the bookkeeping handle below; --debug restores full logging. */
        if (!debug)
                rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
        if (debug && rd_kafka_conf_set(conf, "debug", debug, errstr,
                                       sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                printf("ERR %s\n", errstr);
                return 2;
        }
        /* The handle is only bookkeeping for the mock cluster; it never
         * connects anywhere. */
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                printf("ERR rd_kafka_new: %s\n", errstr);
                return 1;
        }

        fixed_port = (unsigned short)port;
        mcluster   = rd_kafka_mock_cluster_new(rk, broker_cnt);
        if (!mcluster) {
                printf("ERR failed to create mock cluster%s\n",
                       port ? " (is --port already in use?)" : "");
                fflush(stdout);
                rd_kafka_destroy(rk);
                return 1;
        }
        fixed_port = 0;

        /* The mock reports controller id 0 unless told otherwise, while
         * brokers are numbered from 1: clients that talk to the controller
         * (kafkajs admin, idempotent producer) would fail with "Broker 0". */
        rd_kafka_mock_set_controller_id(mcluster, 1);
        /* Default is 3000 ms (like a real broker): every first group join
         * would wait 3 s. */
        rd_kafka_mock_group_initial_rebalance_delay_ms(mcluster, 0);

        for (i = 0; i < topic_cnt; i++) {
                char spec[512], *p1, *p2;
                long parts = 1, repl = 1;
                rd_kafka_resp_err_t err;

                /* Parsed in a copy: argv stays intact for ps. */
                snprintf(spec, sizeof(spec), "%s", topics[i]);
                p1 = strchr(spec, ':');
                p2 = p1 ? strchr(p1 + 1, ':') : NULL;
                if (p1)
                        *p1 = '\0';
                if (p2)
                        *p2 = '\0';
                if ((p1 && parse_int(p1 + 1, 1, 100000, &parts)) ||
                    (p2 && parse_int(p2 + 1, 1, broker_cnt, &repl))) {
                        printf("ERR invalid topic spec for %s "
                               "(name:partitions[:replication], replication "
                               "<= brokers)\n",
                               spec);
                        fflush(stdout);
                        exit_code = 2;
                        goto out;
                }
                if ((err = create_topic(spec, parts, repl))) {
                        printf("ERR topic %s: %s\n", spec,
                               rd_kafka_err2str(err));
                        fflush(stdout);
                        exit_code = 1;
                        goto out;
                }
        }

        reply("BOOTSTRAP %s", rd_kafka_mock_cluster_bootstraps(mcluster));

        while (!reply_failed) {
                struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                                        {.fd = sfd, .events = POLLIN}};
                ssize_t r;
                char *nl;

                if (poll(fds, 2, -1) == -1) {
                        if (errno == EINTR)
                                continue;
                        perror("poll");
                        break;
                }
                if (fds[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof(si)) == sizeof(si))
                                fprintf(stderr,
                                        "mlstream-broker: signal %u, "
                                        "shutting down\n",
                                        si.ssi_signo);
                        break;
                }
                if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;

                r = read(STDIN_FILENO, buf + buflen, MAX_LINE - buflen);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        /* EOF: run a final unterminated command, then quit. */
                        if (buflen && !discarding) {
                                buf[buflen] = '\0';
                                handle_line(buf);
                        }
                        break;
                }
                buflen += (size_t)r;

                while ((nl = memchr(buf, '\n', buflen))) {
                        size_t len = (size_t)(nl - buf);
                        *nl        = '\0';
                        if (discarding)
                                discarding = 0;
                        else
                                handle_line(buf);
                        memmove(buf, nl + 1, buflen - len - 1);
                        buflen -= len + 1;
                }
                if (buflen == MAX_LINE) {
                        if (!discarding)
                                reply("ERR line too long (max %d)", MAX_LINE);
                        discarding = 1;
                        buflen     = 0;
                }
        }

out:
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        free(topics);
        return exit_code;
}
