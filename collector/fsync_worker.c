/* One thread that runs fdatasync() for the loop, so the loop goes on while the disk syncs. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "fsync_worker.h"

struct fsync_worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* a job, a stop, or a job's end */
	int fd;		   /* the job: -1 for none */
	bool busy, stop;
	int result; /* of the last job, until fsync_worker_busy() hands it out */
	void (*done)(void *arg);
	void *arg;
};

static void *work(void *arg)
{
	struct fsync_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		int fd, rc;

		while (w->fd < 0 && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->fd < 0)
			break;
		fd = w->fd;
		pthread_mutex_unlock(&w->mu);
		rc = fdatasync(fd) < 0 ? errno : 0;
		close(fd);
		pthread_mutex_lock(&w->mu);
		w->fd = -1;
		w->busy = false;
		if (rc)
			w->result = rc;
		pthread_cond_broadcast(&w->cv);
		if (w->done)
			w->done(w->arg);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct fsync_worker *fsync_worker_new(void (*done)(void *arg), void *arg)
{
	struct fsync_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return NULL;
	w->fd = -1;
	w->done = done;
	w->arg = arg;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	rc = pthread_create(&w->thread, NULL, work, w);
	if (rc) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		free(w);
		errno = rc;
		return NULL;
	}
	return w;
}

void fsync_worker_free(struct fsync_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL); /* it ends the job in flight first */
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int fsync_worker_submit(struct fsync_worker *w, int fd)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->busy) {
		rc = -EBUSY;
	} else {
		w->fd = fd;
		w->busy = true;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

bool fsync_worker_busy(struct fsync_worker *w, int *result)
{
	bool busy;

	pthread_mutex_lock(&w->mu);
	busy = w->busy;
	*result = w->result;
	w->result = 0;
	pthread_mutex_unlock(&w->mu);
	return busy;
}

void fsync_worker_wait(struct fsync_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}
