/*
 * kafka_mock: a Kafka cluster for tests and benchmarks, librdkafka's mock cluster.
 *
 *   kafka_mock [--brokers N] [--topic T] [--partitions P] [--fail-every MS] [--fail-count K]
 *
 * Starts N (default 3) mock brokers on 127.0.0.1, creates topic T (default
 * "events") with P partitions (default 3), prints the bootstrap address as one
 * line on stdout and stays up until SIGTERM or SIGINT. With --fail-every, every
 * MS milliseconds the next K (default 3) Produce requests (errors of the
 * period before that were not used are dropped first) fail with retriable
 * errors (not leader, request timed out, disconnect); at exit it prints
 * `injected N errors` on stderr. SIGUSR1 takes every broker down (an outage:
 * connections refused), SIGUSR2 brings them back up.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define PRODUCE_API 0

static volatile sig_atomic_t stop, want_down, is_down;

static void on_signal(int sig)
{
	if (sig == SIGUSR1 || sig == SIGUSR2)
		want_down = sig == SIGUSR1;
	else
		stop = 1;
}

/* Apply SIGUSR1/SIGUSR2 on the main thread (the mock's calls are not async-signal-safe). */
static void outage(rd_kafka_mock_cluster_t *mc, int brokers)
{
	if (want_down == is_down)
		return;
	for (int id = 1; id <= brokers; id++)
		if (want_down)
			rd_kafka_mock_broker_set_down(mc, id);
		else
			rd_kafka_mock_broker_set_up(mc, id);
	is_down = want_down;
	fprintf(stderr, "brokers %s\n", is_down ? "down" : "up");
}

static int arg_int(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const rd_kafka_resp_err_t kinds[] = {
		RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
		RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
		RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
	};
	int brokers = 3, partitions = 3, fail_every = 0, fail_count = 3;
	const char *topic = "events";
	char msg[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	struct sigaction sa = { .sa_handler = on_signal };
	long injected = 0;
	unsigned k = 0;

	for (int i = 1; i < argc; i++) {
		int *slot = strcmp(argv[i], "--brokers") == 0	 ? &brokers :
			    strcmp(argv[i], "--partitions") == 0 ? &partitions :
			    strcmp(argv[i], "--fail-every") == 0 ? &fail_every :
			    strcmp(argv[i], "--fail-count") == 0 ? &fail_count :
								   NULL;

		if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
			topic = argv[++i];
			continue;
		}
		if (!slot || i + 1 >= argc || arg_int(argv[++i], slot) < 0 ||
		    (slot != &fail_every && *slot < 1)) {
			fprintf(stderr, "usage: kafka_mock [--brokers N] [--topic T] [--partitions "
					"P] "
					"[--fail-every MS] [--fail-count K]\n");
			return 2;
		}
	}
	/* The handle only anchors the mock cluster; it never connects anywhere. */
	rd_kafka_conf_set(conf, "log_level", "3", msg, sizeof(msg));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof(msg));
	if (!rk) {
		fprintf(stderr, "kafka_mock: %s\n", msg);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc || rd_kafka_mock_topic_create(mc, topic, partitions, brokers < 3 ? brokers : 3)) {
		fprintf(stderr, "kafka_mock: could not start the mock cluster\n");
		rd_kafka_destroy(rk);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stop) {
		struct timespec pause = { fail_every / 1000, (long)(fail_every % 1000) * 1000000 };

		outage(mc, brokers);
		if (!fail_every) {
			pause = (struct timespec){ 0, 100000000 };
			nanosleep(&pause, NULL);
			continue;
		}
		nanosleep(&pause, NULL);
		/* Errors not yet used are dropped: at most K requests fail per period. */
		rd_kafka_mock_clear_request_errors(mc, PRODUCE_API);
		for (int i = 0; i < fail_count; i++, k++)
			rd_kafka_mock_push_request_errors(
				mc, PRODUCE_API, 1, kinds[k % (sizeof(kinds) / sizeof(kinds[0]))]);
		injected += fail_count;
	}
	if (fail_every)
		fprintf(stderr, "injected %ld errors\n", injected);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
