/* Unit tests for `collector crashes` (collector/crash_cli.c): grouping, --since, latest, sparklines, plain words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash_cli.h"
#include "sparkline.h"

static char dir[64];

static void write_report(const char *id, const char *json)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", dir, id);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
}

/* Run `collector crashes --dir DIR [A] [B] [C]`; the output, to free(). */
static char *run3(const char *a, const char *b, const char *c, int *rc)
{
	char *argv[] = { "crashes", "--dir", dir, (char *)a, (char *)b, (char *)c, NULL };
	char *text = NULL;
	size_t len = 0;
	int argc = 3;
	FILE *out = open_memstream(&text, &len);

	while (argv[argc])
		argc++;
	assert_non_null(out);
	*rc = crash_cli_main(argc, argv, out);
	fclose(out);
	return text;
}

static char *run(const char *id, int *rc)
{
	return run3(id, NULL, NULL, rc);
}

/* A third report: det's OOM kill again, a second later than trk's SIGKILL. */
static void write_second_oom(void)
{
	write_report("20260101-000003-12",
		     "{\"id\":\"20260101-000003-12\",\"time\":\"2026-01-01T00:00:03.000Z\","
		     "\"pid\":12,\"package\":{\"name\":\"det\",\"version\":\"1.0\"},"
		     "\"cause\":\"oom_kill\",\"signal\":\"SIGKILL\",\"exit_code\":null,"
		     "\"killed_by\":{\"name\":\"OOM killer\",\"pid\":null},"
		     "\"oom_rss_bytes\":536870912,\"limits\":{\"memory_mb\":512},"
		     "\"calls_answered\":1,\"calls_in_flight\":[],"
		     "\"samples\":[{\"ts_ns\":0,\"cpu_percent\":10,\"rss_bytes\":1048576},"
		     "{\"ts_ns\":1,\"cpu_percent\":50.5,\"rss_bytes\":2097152},"
		     "{\"ts_ns\":2,\"cpu_percent\":90,\"rss_bytes\":4194304}]}");
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/collector-crash-cli.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_report("20260101-000001-10",
		     "{\"id\":\"20260101-000001-10\",\"time\":\"2026-01-01T00:00:01.000Z\","
		     "\"pid\":10,\"package\":{\"name\":\"det\",\"version\":\"1.0\"},"
		     "\"cause\":\"oom_kill\",\"signal\":\"SIGKILL\",\"core_dumped\":false,"
		     "\"killed_by\":{\"name\":\"OOM killer\",\"pid\":null},\"oom_killed\":true,"
		     "\"oom_rss_bytes\":536870912,\"limits\":{\"memory_mb\":512},"
		     "\"calls_answered\":7,\"calls_in_flight\":[{\"id\":1234,\"method\":"
		     "\"execute\","
		     "\"age_ms\":80,\"params\":\"{}\"}],"
		     "\"samples\":[{\"ts_ns\":0,\"rss_bytes\":104857600},"
		     "{\"ts_ns\":10000000000,\"rss_bytes\":524288000}]}");
	write_report("20260101-000002-11", "{\"id\":\"20260101-000002-11\",\"time\":\"2026-01-"
					   "01T00:00:02.000Z\","
					   "\"pid\":11,\"package\":{\"name\":\"trk\",\"version\":"
					   "\"2.0\"},"
					   "\"cause\":\"signal\",\"signal\":\"SIGKILL\",\"core_"
					   "dumped\":false,"
					   "\"killed_by\":{\"name\":\"bash\",\"pid\":4242},\"calls_"
					   "answered\":3,"
					   "\"calls_in_flight\":[],\"samples\":[]}");
	return 0;
}

static int teardown(void **state)
{
	static const char *const ids[] = { "20260101-000001-10", "20260101-000002-11",
					   "20260101-000003-12" };
	char path[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.json", dir, ids[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static void lists_one_line_per_report_in_time_order_with_all(void **state)
{
	int rc;
	char *out = run("--all", &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_string_equal(out, "20260101-000001-10  2026-01-01T00:00:01.000Z  det 1.0  pid 10  "
				 "killed by the OOM killer at 512 MiB (limit 512 MiB)\n"
				 "20260101-000002-11  2026-01-01T00:00:02.000Z  trk 2.0  pid 11  "
				 "killed by signal SIGKILL sent by bash (pid 4242)\n");
	free(out);
}

static void groups_identical_causes_newest_last(void **state)
{
	int rc;
	char *out;

	(void)state;
	write_second_oom();
	out = run(NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "COUNT  FIRST                     LAST                      "
				 "LATEST ID          "
				 "    PACKAGE: CAUSE\n"
				 "×1     2026-01-01T00:00:02.000Z  2026-01-01T00:00:02.000Z  "
				 "20260101-000002-11 "
				 "    trk 2.0: killed by signal SIGKILL sent by bash (pid 4242)\n"
				 "×2     2026-01-01T00:00:01.000Z  2026-01-01T00:00:03.000Z  "
				 "20260101-000003-12 "
				 "    det 1.0: killed by the OOM killer at 512 MiB (limit 512 "
				 "MiB)\n");
	free(out);
}

static void since_and_latest(void **state)
{
	int rc;
	char *out;

	(void)state;
	write_second_oom();
	out = run3("--since", "2026-01-01T00:00:02", "--all", &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "000001-10"));
	assert_non_null(strstr(out, "000002-11"));
	assert_non_null(strstr(out, "000003-12"));
	free(out);
	out = run3("--since", "2099-01-01", NULL, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "");
	free(out);
	out = run3("--since", "yesterday", NULL, &rc);
	assert_int_equal(rc, 2);
	free(out);
	out = run("latest", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "crash 20260101-000003-12 at"));
	assert_non_null(strstr(out, "  cpu %  ▁▅█  10% → 90%\n  rss    ▁▃█  1.0 MiB → 4.0 MiB\n"));
	free(out);
}

static void sparklines_in_utf8_and_ascii(void **state)
{
	const double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, flat[] = { 3, 3, 3 };
	char line[128];

	(void)state;
	sparkline(v, 8, 40, true, line, sizeof(line));
	assert_string_equal(line, "▁▂▃▄▅▆▇█");
	sparkline(v, 8, 40, false, line, sizeof(line));
	assert_string_equal(line, "_.-:=+*#");
	/* More values than columns: the largest of each stretch. */
	sparkline(v, 8, 4, false, line, sizeof(line));
	assert_string_equal(line, ".:+#");
	sparkline(flat, 3, 40, true, line, sizeof(line));
	assert_string_equal(line, "▁▁▁");
	sparkline(v, 1, 40, true, line, sizeof(line));
	assert_string_equal(line, "");
}

static void explains_an_oom_kill_with_the_call_and_the_rss_trend(void **state)
{
	int rc;
	char *out = run("20260101-000001-10", &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "killed by the OOM killer at 512 MiB (limit 512 MiB) while "
				    "executing call 1234 after 7 answered calls, RSS rising 40 "
				    "MiB/s over the last 10.0 s; core dumped: no\n"));
	free(out);
}

static void explains_a_signal_with_its_sender(void **state)
{
	int rc;
	char *out = run("20260101-000002-11.json", &rc);

	(void)state;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "killed by signal SIGKILL sent by bash (pid 4242) after 3 "
				    "answered calls; core dumped: no\n"));
	free(out);
}

static void refuses_unknown_and_path_like_ids(void **state)
{
	int rc;

	(void)state;
	free(run("20990101-000000-1", &rc));
	assert_int_equal(rc, 1);
	free(run("../etc/passwd", &rc));
	assert_int_equal(rc, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lists_one_line_per_report_in_time_order_with_all),
		cmocka_unit_test(groups_identical_causes_newest_last),
		cmocka_unit_test(since_and_latest),
		cmocka_unit_test(sparklines_in_utf8_and_ascii),
		cmocka_unit_test(explains_an_oom_kill_with_the_call_and_the_rss_trend),
		cmocka_unit_test(explains_a_signal_with_its_sender),
		cmocka_unit_test(refuses_unknown_and_path_like_ids),
	};

	/* The count's sign and the sparklines' bars depend on it. */
	setenv("LC_ALL", "C.UTF-8", 1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
