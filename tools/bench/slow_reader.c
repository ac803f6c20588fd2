/*
 * slow_reader: a deliberately slow consumer, to put backpressure on a pipe.
 *
 *   slow_reader EPS [--type TYPE] [--check-seq] [--other FILE]
 *
 * Reads stdin in small chunks (1 KiB) and consumes at most EPS lines a second
 * (a token bucket holding at most 1/20 s worth of lines): it only reads more
 * once the lines already read are paid for, so the pipe in front of it fills
 * up and the writer blocks.
 *
 * At EOF it prints `read N lines` on stderr (complete lines). With --type it
 * also prints `matched M TYPE` for lines whose envelope starts with
 * {"type":"TYPE", (the collector writes `type` first). --check-seq checks
 * that the matched lines carry "i":0, "i":1, ... in order (gen's counter) and
 * prints `sequence ok` or where it broke. --other FILE keeps every line that
 * did not match (exec.stderr, exec.exit, collector.error, ...) in FILE.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 1024

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct bucket {
	double rate;  /* tokens a second */
	double burst; /* most tokens held */
	double tokens;
	int64_t last;
};

/* Takes one token, sleeping until there is one. */
static void bucket_take(struct bucket *b)
{
	for (;;) {
		int64_t now = mono_ns();

		b->tokens += (double)(now - b->last) * b->rate / 1e9;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
		if (b->tokens >= 1) {
			b->tokens -= 1;
			return;
		}
		{
			int64_t wait = (int64_t)((1 - b->tokens) / b->rate * 1e9) + 1;
			struct timespec ts = { wait / 1000000000, wait % 1000000000 };

			nanosleep(&ts, NULL);
		}
	}
}

struct state {
	char match[256];
	size_t match_len;
	bool check_seq;
	FILE *other;
	uint64_t lines, matched, next_i;
	bool seq_broken;
	char seq_msg[256];
};

/* Parses the value after "i": in a matched line; -1 when there is none. */
static int64_t find_i(const char *line, size_t len)
{
	static const char key[] = "\"i\":";
	const char *end = line + len;

	for (const char *p = line; p + sizeof(key) - 1 < end; p++) {
		if (memcmp(p, key, sizeof(key) - 1) == 0) {
			int64_t v = 0;
			bool any = false;

			for (p += sizeof(key) - 1; p < end && *p >= '0' && *p <= '9'; p++) {
				v = v * 10 + (*p - '0');
				any = true;
			}
			return any ? v : -1;
		}
	}
	return -1;
}

static void on_line(struct state *st, const char *line, size_t len)
{
	st->lines++;
	if (st->match_len && len >= st->match_len && memcmp(line, st->match, st->match_len) == 0) {
		st->matched++;
		if (st->check_seq && !st->seq_broken) {
			int64_t i = find_i(line, len);

			if (i != (int64_t)st->next_i) {
				st->seq_broken = true;
				snprintf(st->seq_msg, sizeof(st->seq_msg),
					 "sequence broken at matched line %llu: expected i=%llu, "
					 "got %lld",
					 (unsigned long long)st->matched,
					 (unsigned long long)st->next_i, (long long)i);
			}
			st->next_i++;
		}
		return;
	}
	if (st->other) {
		fwrite(line, 1, len, st->other);
		fputc('\n', st->other);
	}
}

int main(int argc, char **argv)
{
	struct state st = { 0 };
	struct bucket b = { 0 };
	char chunk[CHUNK];
	char *line = NULL;
	size_t line_len = 0, line_cap = 0;
	double eps = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
			snprintf(st.match, sizeof(st.match), "{\"type\":\"%s\",", argv[++i]);
			st.match_len = strlen(st.match);
		} else if (strcmp(argv[i], "--check-seq") == 0) {
			st.check_seq = true;
		} else if (strcmp(argv[i], "--other") == 0 && i + 1 < argc) {
			st.other = fopen(argv[++i], "w");
			if (!st.other) {
				fprintf(stderr, "slow_reader: %s: %s\n", argv[i], strerror(errno));
				return 2;
			}
		} else if (eps == 0) {
			char *end;

			eps = strtod(argv[i], &end);
			if (*end || eps <= 0)
				goto usage;
		} else {
			goto usage;
		}
	}
	if (eps == 0)
		goto usage;

	b.rate = eps;
	b.burst = eps / 20 > 1 ? eps / 20 : 1;
	b.tokens = b.burst;
	b.last = mono_ns();
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
		const char *p, *end, *nl;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "slow_reader: read: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		p = chunk;
		end = chunk + n;
		while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			size_t part = (size_t)(nl - p);

			bucket_take(&b);
			if (line_len) {
				if (line_len + part > line_cap) {
					line_cap = (line_len + part) * 2;
					line = realloc(line, line_cap);
					if (!line)
						return 1;
				}
				memcpy(line + line_len, p, part);
				on_line(&st, line, line_len + part);
				line_len = 0;
			} else {
				on_line(&st, p, part);
			}
			p = nl + 1;
		}
		if (p < end) {
			size_t part = (size_t)(end - p);

			if (line_len + part > line_cap) {
				line_cap = (line_len + part) * 2;
				line = realloc(line, line_cap);
				if (!line)
					return 1;
			}
			memcpy(line + line_len, p, part);
			line_len += part;
		}
	}
	if (st.other)
		fclose(st.other);
	fprintf(stderr, "read %llu lines\n", (unsigned long long)st.lines);
	if (st.match_len)
		fprintf(stderr, "matched %llu %.*s\n", (unsigned long long)st.matched,
			(int)(st.match_len - 11), st.match + 9);
	if (st.check_seq)
		fprintf(stderr, "%s\n", st.seq_broken ? st.seq_msg : "sequence ok");
	if (line_len)
		fprintf(stderr, "partial trailing line: %zu bytes without a newline\n", line_len);
	free(line);
	return 0;
usage:
	fprintf(stderr, "usage: slow_reader EPS [--type TYPE] [--check-seq] [--other FILE]\n");
	return 2;
}
