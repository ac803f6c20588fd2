/*
 * The floors of make bench-service: a bare gRPC echo server (gRPC C core, a completion queue
 * on its own thread, as the algorithm service) and a pipe ping-pong with a child.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <grpc/grpc.h>
#include <grpc/grpc_security.h>

/* One call: asked for, then its request read, then answered with the same bytes. */
struct echo_call {
	enum { ASKED, READ, ANSWERED } state;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array md;
	grpc_byte_buffer *msg;
	int cancelled;
};

static grpc_server *server;
static grpc_completion_queue *cq;

static void ask(void)
{
	struct echo_call *c = calloc(1, sizeof(*c));

	if (!c)
		return; /* the server stops answering; the bench reports the failed calls */
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->md);
	if (grpc_server_request_call(server, &c->call, &c->details, &c->md, cq, cq, c) !=
	    GRPC_CALL_OK)
		free(c);
}

static void release(struct echo_call *c)
{
	if (c->msg)
		grpc_byte_buffer_destroy(c->msg);
	if (c->call)
		grpc_call_unref(c->call);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->md);
	free(c);
}

/* Moves a call one step on; a step that cannot start ends it. */
static void step(struct echo_call *c, int ok)
{
	grpc_op ops[3];
	size_t n = 0;

	memset(ops, 0, sizeof(ops));
	if (!ok) {
		release(c);
		return;
	}
	switch (c->state) {
	case ASKED:
		ask(); /* the next call, before this one is served */
		ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
		n++;
		ops[n].op = GRPC_OP_RECV_MESSAGE;
		ops[n].data.recv_message.recv_message = &c->msg;
		n++;
		c->state = READ;
		break;
	case READ:
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n].data.send_message.send_message = c->msg;
		n++;
		ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
		ops[n].data.send_status_from_server.status = GRPC_STATUS_OK;
		n++;
		ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
		ops[n].data.recv_close_on_server.cancelled = &c->cancelled;
		n++;
		c->state = ANSWERED;
		break;
	case ANSWERED:
		release(c);
		return;
	}
	if (grpc_call_start_batch(c->call, ops, n, c, NULL) != GRPC_CALL_OK)
		release(c);
}

static void *cq_thread(void *arg)
{
	(void)arg;
	for (;;) {
		grpc_event ev =
			grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);

		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			return NULL;
		if (ev.type == GRPC_OP_COMPLETE && ev.tag)
			step(ev.tag, ev.success);
	}
}

/* Serves ADDR until SIGTERM or SIGINT. */
static int serve(const char *addr)
{
	grpc_server_credentials *creds;
	pthread_t t;
	sigset_t set;
	int sig, port;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	grpc_init();
	cq = grpc_completion_queue_create_for_next(NULL);
	server = grpc_server_create(NULL, NULL);
	grpc_server_register_completion_queue(server, cq, NULL);
	creds = grpc_insecure_server_credentials_create();
	port = grpc_server_add_http2_port(server, addr, creds);
	grpc_server_credentials_release(creds);
	if (!port) {
		fprintf(stderr, "grpc_echo: cannot listen on %s: give a free unix:PATH\n", addr);
		return 1;
	}
	grpc_server_start(server);
	ask();
	pthread_create(&t, NULL, cq_thread, NULL);
	sigwait(&set, &sig);
	grpc_server_shutdown_and_notify(server, cq, NULL);
	grpc_server_cancel_all_calls(server);
	grpc_completion_queue_shutdown(cq);
	pthread_join(t, NULL);
	grpc_server_destroy(server);
	grpc_completion_queue_destroy(cq);
	grpc_shutdown_blocking();
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The child round trip alone: a 50-byte line through two pipes to a child that echoes it. */
static int pipe_floor(long n)
{
	int to[2], from[2];
	char line[51], buf[64];
	int64_t *lat = calloc((size_t)n, sizeof(*lat));
	long done = 0;
	pid_t pid;

	memset(line, 'x', 50);
	line[50] = '\n';
	if (!lat || pipe(to) < 0 || pipe(from) < 0 || (pid = fork()) < 0) {
		perror("grpc_echo: pipe floor");
		free(lat);
		return 1;
	}
	if (pid == 0) {
		ssize_t r;

		close(to[1]);
		close(from[0]);
		while ((r = read(to[0], buf, sizeof(buf))) > 0)
			if (write(from[1], buf, (size_t)r) != r)
				_exit(1);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	for (; done < n; done++) {
		int64_t t0 = now_ns();

		if (write(to[1], line, sizeof(line)) != sizeof(line) ||
		    read(from[0], buf, sizeof(buf)) <= 0)
			break;
		lat[done] = now_ns() - t0;
	}
	close(to[1]);
	close(from[0]);
	waitpid(pid, NULL, 0);
	qsort(lat, (size_t)done, sizeof(*lat), cmp);
	if (done) {
		long i50 = done / 2, i99 = done * 99 / 100;

		printf("{\"round_trips\":%ld,\"p50_us\":%.1f,\"p99_us\":%.1f}\n", done,
		       (double)lat[i50] / 1e3, (double)lat[i99] / 1e3);
	} else
		printf("{\"round_trips\":0}\n");
	free(lat);
	return done ? 0 : 1;
}

int main(int argc, char **argv)
{
	char *end = NULL;
	long n = argc == 3 ? strtol(argv[2], &end, 10) : 0;

	if (argc == 3 && strcmp(argv[1], "--listen") == 0)
		return serve(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--pipe-floor") == 0 && *end == '\0' && n > 0)
		return pipe_floor(n);
	fputs("usage: grpc_echo --listen unix:PATH | --pipe-floor N\n", stderr);
	return 2;
}
