/* A thread that gzips rotated files and removes the oldest, reporting back through ev_async. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "rotated_name.h"
#include "rotation_worker.h"

struct job {
	struct job *next;
	char *text;
};

struct rotation_worker {
	struct ev_loop *loop;
	char *pattern;
	char *path;
	int gzip_level;
	int keep;
	rotation_report_fn *report;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *jobs, **jobs_tail; /* files to compress, oldest first */
	struct job *msgs, **msgs_tail; /* failures for the loop thread */
	bool stop;
	ev_async async;
};

static void push(struct job ***tail, struct job *j)
{
	j->next = NULL;
	**tail = j;
	*tail = &j->next;
}

static struct job *pop(struct job **head, struct job ***tail)
{
	struct job *j = *head;

	if (j) {
		*head = j->next;
		if (!*head)
			*tail = head;
	}
	return j;
}

int rotation_scan(const char *pattern, const char *path, rotation_found_fn *found, void *arg)
{
	char dir[PATH_MAX], name[PATH_MAX];
	DIR *d;
	struct dirent *de;

	if (rotated_name_dir(pattern, path, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint64_t seq;
		int gz;
		int n = snprintf(name, sizeof(name), "%s%s%s", strcmp(dir, ".") == 0 ? "" : dir,
				 strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0 ? "" : "/",
				 de->d_name);

		if (n < 0 || (size_t)n >= sizeof(name))
			continue;
		if (rotated_name_parse(pattern, path, name, &seq, &gz) == 0)
			found(arg, name, seq, gz);
	}
	closedir(d);
	return 0;
}

static void tell(struct rotation_worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tell(struct rotation_worker *w, const char *fmt, ...)
{
	struct job *m = calloc(1, sizeof(*m));
	va_list ap;

	if (!m)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m->text, fmt, ap) < 0)
		m->text = NULL;
	va_end(ap);
	if (!m->text) {
		free(m);
		return;
	}
	pthread_mutex_lock(&w->lock);
	push(&w->msgs_tail, m);
	pthread_mutex_unlock(&w->lock);
	ev_async_send(w->loop, &w->async);
}

static bool regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* name -> name.gz through name.gz.tmp, so a crash never leaves a torn .gz. */
static void gzip_file(struct rotation_worker *w, const char *name)
{
	char gzname[PATH_MAX], tmp[PATH_MAX], mode[8];
	char buf[128 * 1024];
	int in, out;
	gzFile gz;
	ssize_t n;

	if (snprintf(gzname, sizeof(gzname), "%s.gz", name) >= (int)sizeof(gzname) ||
	    snprintf(tmp, sizeof(tmp), "%s.gz.tmp", name) >= (int)sizeof(tmp)) {
		tell(w, "%s: name too long to compress", name);
		return;
	}
	/* Never through a symbolic link planted in the directory, nor into one. */
	in = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (in < 0) {
		/* Already pruned while queued. */
		if (errno != ENOENT)
			tell(w, "compress %s: %s", name, strerror(errno));
		return;
	}
	if (!regular(in)) {
		tell(w, "compress %s: not a regular file", name);
		close(in);
		return;
	}
	/* A crash's leftover (or a planted link) goes; O_EXCL: nothing new in its place. */
	unlink(tmp);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (out < 0) {
		tell(w, "create %s: %s", tmp, strerror(errno));
		close(in);
		return;
	}
	snprintf(mode, sizeof(mode), "wb%d", w->gzip_level);
	gz = gzdopen(out, mode);
	if (!gz) {
		tell(w, "gzdopen %s: out of memory", tmp);
		close(out);
		close(in);
		unlink(tmp);
		return;
	}
	gzbuffer(gz, 256 * 1024);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(gz, buf, (unsigned)n) != (int)n)
			break;
	close(in);
	if (n != 0) {
		int e = errno;

		gzclose(gz);
		unlink(tmp);
		tell(w, "compress %s: %s", name, n < 0 ? strerror(e) : "gzip write failed");
		return;
	}
	if (gzclose(gz) != Z_OK) {
		unlink(tmp);
		tell(w, "compress %s: writing %s failed", name, tmp);
		return;
	}
	if (rename(tmp, gzname) < 0) {
		tell(w, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return;
	}
	if (unlink(name) < 0)
		tell(w, "remove %s: %s", name, strerror(errno));
}

struct found_list {
	struct found {
		uint64_t seq;
		char *name;
	} * v;
	size_t n, cap;
};

static void collect(void *arg, const char *name, uint64_t seq, int gz)
{
	struct found_list *l = arg;

	(void)gz;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct found *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].seq = seq;
	l->v[l->n].name = strdup(name);
	if (l->v[l->n].name)
		l->n++;
}

static int by_seq_desc(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* Remove every rotated file but those of the newest `keep` sequence numbers. */
static void prune(struct rotation_worker *w)
{
	struct found_list l = { 0 };
	size_t seqs = 0;
	int rc;

	if (w->keep <= 0)
		return;
	rc = rotation_scan(w->pattern, w->path, collect, &l);
	if (rc < 0)
		tell(w, "list rotated files: %s", strerror(-rc));
	if (!l.v)
		return;
	qsort(l.v, l.n, sizeof(*l.v), by_seq_desc);
	for (size_t i = 0; i < l.n; i++) {
		if (i == 0 || l.v[i].seq != l.v[i - 1].seq)
			seqs++;
		if (seqs > (size_t)w->keep && unlink(l.v[i].name) < 0 && errno != ENOENT)
			tell(w, "remove %s: %s", l.v[i].name, strerror(errno));
		free(l.v[i].name);
	}
	free(l.v);
}

static void *work(void *arg)
{
	struct rotation_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *j = pop(&w->jobs, &w->jobs_tail);

		if (!j) {
			if (w->stop)
				break;
			pthread_cond_wait(&w->wake, &w->lock);
			continue;
		}
		pthread_mutex_unlock(&w->lock);
		if (w->gzip_level > 0)
			gzip_file(w, j->text);
		prune(w);
		free(j->text);
		free(j);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void deliver_messages(struct rotation_worker *w)
{
	struct job *m;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		m = pop(&w->msgs, &w->msgs_tail);
		pthread_mutex_unlock(&w->lock);
		if (!m)
			return;
		w->report(w->arg, m->text);
		free(m->text);
		free(m);
	}
}

static void on_async(struct ev_loop *loop, ev_async *a, int revents)
{
	(void)loop;
	(void)revents;
	deliver_messages(a->data);
}

struct rotation_worker *rotation_worker_new(struct ev_loop *loop, const char *pattern,
					    const char *path, int gzip_level, int keep,
					    rotation_report_fn *report, void *arg,
					    struct error *err)
{
	struct rotation_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (!w || !(w->pattern = strdup(pattern)) || !(w->path = strdup(path))) {
		if (w)
			free(w->pattern);
		free(w);
		error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	w->loop = loop;
	w->gzip_level = gzip_level;
	w->keep = keep;
	w->report = report;
	w->arg = arg;
	w->jobs_tail = &w->jobs;
	w->msgs_tail = &w->msgs;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	ev_async_init(&w->async, on_async);
	w->async.data = w;
	ev_async_start(loop, &w->async);
	/* The loop must not wait for the worker's messages to end. */
	ev_unref(loop);
	rc = pthread_create(&w->thread, NULL, work, w);
	if (rc != 0) {
		ev_ref(loop);
		ev_async_stop(loop, &w->async);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w->path);
		free(w->pattern);
		free(w);
		error_set(err, rc, "start the rotation thread: %s", strerror(rc));
		return NULL;
	}
	return w;
}

int rotation_worker_submit(struct rotation_worker *w, const char *name)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->text = strdup(name))) {
		free(j);
		return -ENOMEM;
	}
	pthread_mutex_lock(&w->lock);
	push(&w->jobs_tail, j);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

void rotation_worker_free(struct rotation_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	deliver_messages(w);
	ev_ref(w->loop);
	ev_async_stop(w->loop, &w->async);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w->pattern);
	free(w);
}
