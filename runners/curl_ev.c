/* libcurl's multi interface on a libev loop: transfers run beside everything else, a callback when each ends. */
#include <errno.h>
#include <stdlib.h>

#include <ev.h>

#include "curl_ev.h"

/* The easy handles in flight, to abort them at free: a few per runner. */
#define MAX_XFERS 16

struct xfer {
	CURL *easy;
	curl_ev_done_fn done;
	void *arg;
};

struct sock {
	ev_io io;
	struct curl_ev *m;
};

struct curl_ev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	struct xfer xfers[MAX_XFERS];
};

static struct xfer *find(struct curl_ev *m, CURL *easy)
{
	for (int i = 0; i < MAX_XFERS; i++)
		if (m->xfers[i].easy == easy)
			return &m->xfers[i];
	return NULL;
}

/* Each finished transfer: removed first, so its callback may free or re-add it. */
static void check_done(struct curl_ev *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		struct xfer *x, copy;

		if (msg->msg != CURLMSG_DONE || !(x = find(m, msg->easy_handle)))
			continue;
		copy = *x;
		x->easy = NULL;
		curl_multi_remove_handle(m->multi, copy.easy);
		copy.done(copy.arg, copy.easy, msg->data.result);
	}
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *s = (struct sock *)w;
	struct curl_ev *m = s->m;
	int running;
	int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
		     (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);

	(void)loop;
	curl_multi_socket_action(m->multi, w->fd, action, &running);
	check_done(m);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct curl_ev *m = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

/* libcurl says which sockets to watch for what (CURLMOPT_SOCKETFUNCTION). */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curl_ev *m = userp;
	struct sock *s = socketp;
	int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			ev_io_stop(m->loop, &s->io);
			curl_multi_assign(m->multi, fd, NULL);
			free(s);
		}
		return 0;
	}
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))))
			return -1;
		s->m = m;
		ev_io_init(&s->io, on_io, fd, events);
		curl_multi_assign(m->multi, fd, s);
	} else {
		ev_io_stop(m->loop, &s->io);
		ev_io_set(&s->io, fd, events);
	}
	ev_io_start(m->loop, &s->io);
	return 0;
}

/* libcurl's one timeout (CURLMOPT_TIMERFUNCTION): -1 stops it, 0 is "now". */
static int on_timeout(CURLM *multi, long ms, void *userp)
{
	struct curl_ev *m = userp;

	(void)multi;
	ev_timer_stop(m->loop, &m->timer);
	if (ms >= 0) {
		ev_timer_set(&m->timer, (double)ms / 1000., 0.);
		ev_timer_start(m->loop, &m->timer);
	}
	return 0;
}

struct curl_ev *curl_ev_new(struct ev_loop *loop, struct error *err)
{
	struct curl_ev *m = calloc(1, sizeof(*m));

	if (!m || !(m->multi = curl_multi_init())) {
		free(m);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	m->loop = loop;
	ev_init(&m->timer, on_timer);
	m->timer.data = m;
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	return m;
}

int curl_ev_add(struct curl_ev *m, CURL *easy, curl_ev_done_fn done, void *arg, struct error *err)
{
	struct xfer *x = find(m, NULL);
	CURLMcode rc;

	if (!x)
		return error_set(err, EBUSY, "too many transfers at once");
	rc = curl_multi_add_handle(m->multi, easy);
	if (rc != CURLM_OK)
		return error_set(err, EIO, "curl: %s", curl_multi_strerror(rc));
	*x = (struct xfer){ easy, done, arg };
	return 0;
}

void curl_ev_remove(struct curl_ev *m, CURL *easy)
{
	struct xfer *x = easy ? find(m, easy) : NULL;

	if (!x)
		return;
	x->easy = NULL;
	curl_multi_remove_handle(m->multi, easy);
}

void curl_ev_kick(struct curl_ev *m)
{
	on_timeout(m->multi, 0, m);
}

void curl_ev_free(struct curl_ev *m)
{
	if (!m)
		return;
	for (int i = 0; i < MAX_XFERS; i++)
		curl_ev_remove(m, m->xfers[i].easy);
	curl_multi_cleanup(m->multi);
	ev_timer_stop(m->loop, &m->timer);
	free(m);
}
