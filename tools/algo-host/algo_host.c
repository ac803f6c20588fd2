/* algo-host: an example host program using the algorithm C API (collector/algorithm.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <ev.h>

#include <collector/algorithm.h>

#define WIDTH 640
#define HEIGHT 480

struct tally {
	unsigned long ok, failed;
};

static void on_done(void *arg, const struct algorithm_result *res)
{
	struct tally *t = arg;

	if (res->code == ALGORITHM_OK)
		t->ok++;
	else
		t->failed++;
}

static void on_event(void *arg, const char *type, pid_t pid, const char *json, size_t len)
{
	(void)arg;
	if (getenv("ALGO_HOST_EVENTS"))
		fprintf(stderr, "%s pid=%d %.*s\n", type, (int)pid, (int)len, json);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	struct algorithm_options opts = { .on_event = on_event };
	struct algorithm *a;
	struct error err = { 0 };
	struct tally t = { 0 };
	unsigned char *pixels;
	char *result = NULL;
	long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	enum algorithm_code code;

	if (argc < 2) {
		fprintf(stderr, "usage: algo-host PACKAGE_DIR [ASYNC_CALLS]\n");
		return 2;
	}
	/* libev's default loop keeps its own fds for its lifetime: count from after it. */
	struct ev_loop *loop = ev_default_loop(0);
	int fds_before = count_fds();

	opts.loop = loop;

	if (algorithm_open(argv[1], &opts, &a, &err) < 0) {
		fprintf(stderr, "algo-host: %s\n", err.msg);
		return 1;
	}
	code = algorithm_pre_execute(a, NULL, &result, &err);
	printf("pre_execute: %s %s\n", algorithm_code_name(code), result ? result : err.msg);
	free(result);
	result = NULL;

	pixels = malloc((size_t)WIDTH * HEIGHT * 3);
	if (!pixels) {
		algorithm_close(a);
		return 1;
	}
	memset(pixels, 1, (size_t)WIDTH * HEIGHT * 3);
	struct algorithm_image img = { .data = pixels,
				       .size = (size_t)WIDTH * HEIGHT * 3,
				       .width = WIDTH,
				       .height = HEIGHT,
				       .channels = 3,
				       .stride = WIDTH * 3,
				       .format = "rgb8" };
	code = algorithm_execute(a, "{\"roi\":[0,0,100,100]}", &img, &result, &err);
	printf("execute: %s %s\n", algorithm_code_name(code), result ? result : err.msg);
	free(result);

	/* Pipelined: submit everything, then let the loop deliver the outcomes. */
	for (long i = 0; i < calls; i++)
		algorithm_submit(a, "execute", "{}", &img, on_done, &t);
	algorithm_drain(a);
	printf("async: %lu ok, %lu failed\n", t.ok, t.failed);
	/* Zero copy: write the frame straight into a lent shared-memory slot. */
	struct algorithm_image inplace = img;
	unsigned char *slot = algorithm_image_alloc(a, img.size);

	if (slot) {
		memset(slot, 2, img.size);
		inplace.data = slot;
		code = algorithm_execute(a, "{}", &inplace, &result, &err);
		printf("execute in place: %s %s\n", algorithm_code_name(code),
		       result ? result : err.msg);
		free(result);
	}
	code = algorithm_execute(a, "{not json", NULL, NULL, &err);
	printf("bad params: %s (%s)\n", algorithm_code_name(code), err.msg);
	algorithm_close(a);

	/* A queue of one, filled before the child is ready: the rest is refused at once. */
	struct algorithm_options small = { .loop = loop, .queue_size = 1 };
	struct tally refused = { 0 };

	if (algorithm_open(argv[1], &small, &a, &err) < 0) {
		fprintf(stderr, "algo-host: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < 5; i++)
		algorithm_submit(a, "execute", NULL, NULL, on_done, &refused);
	printf("queue of one, 5 submitted before ready: %lu refused (no_capacity) at once\n",
	       refused.failed);
	algorithm_drain(a);
	algorithm_close(a);
	free(pixels);
	/* The API's promise: after close, no child and no fd of it remain. */
	printf("after close: %d fds more than before, children left: %s\n",
	       count_fds() - fds_before,
	       waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD ? "none" : "some");
	return t.failed ? 1 : 0;
}
