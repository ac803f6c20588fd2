/* Frame sources of the algorithm service: directories the runner feeds itself at a rate (--frames). */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector/algorithm/v1/algorithm.pb-c.h"
#include "pnm.h"
#include "service.h"

#define MAX_SOURCES 64

struct source {
	struct svc_sources *all;
	char *name, *dir;
	char **frames;
	int nframes, next;
	uint32_t fps;
	bool loop, removed;
	uint64_t sent, dropped;
	size_t outstanding;
	ev_timer tick_w;
	struct source *next_src;
};

struct svc_sources {
	struct service *svc;
	struct source *list;
	int n;
};

struct frame_call {
	struct source *src;
	struct pnm_image img;
};

static void source_free(struct source *src)
{
	for (int i = 0; i < src->nframes; i++)
		free(src->frames[i]);
	free(src->frames);
	free(src->name);
	free(src->dir);
	free(src);
}

static void frame_done(void *arg, const struct algorithm_result *res)
{
	struct frame_call *fc = arg;
	struct source *src = fc->src;

	if (res->code == ALGORITHM_NO_CAPACITY) {
		src->dropped++;
		svc_counters(src->all->svc)->frames_dropped++;
	}
	pnm_free(&fc->img);
	free(fc);
	if (--src->outstanding == 0 && src->removed)
		source_free(src);
}

/* One frame per tick; a frame whose predecessor still runs is dropped and counted. */
static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct source *src = w->data;
	struct service *s = src->all->svc;
	struct frame_call *fc;
	struct error err = { 0 };
	char path[PATH_MAX * 2];

	(void)revents;
	if (src->next >= src->nframes) {
		if (!src->loop) {
			ev_timer_stop(loop, w);
			return;
		}
		src->next = 0;
	}
	snprintf(path, sizeof(path), "%s/%s", src->dir, src->frames[src->next++]);
	if (src->outstanding >= (size_t)svc_algo(s)->ninst * 2) {
		src->dropped++;
		svc_counters(s)->frames_dropped++;
		return;
	}
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return;
	fc->src = src;
	if (pnm_load(&fc->img, path, &err) < 0) {
		src->dropped++;
		free(fc);
		return;
	}
	src->sent++;
	src->outstanding++;
	algorithm_submit_info(svc_algo(s), "execute", "{}", &fc->img.meta,
			      &(struct algorithm_call_info){ .source = src->name,
							     .tag = src->frames[src->next - 1] },
			      frame_done, fc);
}

static int is_frame(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 &&
	       (strcmp(d->d_name + n - 4, ".ppm") == 0 || strcmp(d->d_name + n - 4, ".pgm") == 0);
}

static struct source *find(struct svc_sources *all, const char *name, struct source ***link)
{
	struct source **p = &all->list;

	for (; *p; p = &(*p)->next_src)
		if (strcmp((*p)->name, name) == 0)
			break;
	if (link)
		*link = p;
	return *p;
}

static const char *add(struct svc_sources *all, const Collector__Algorithm__V1__AddSourceRequest *r,
		       struct source **out)
{
	struct dirent **list;
	struct source *src;
	int n;

	if (!*r->source || !*r->frames_dir)
		return "source and frames_dir are required";
	if (find(all, r->source, NULL))
		return "a source of that name exists: RemoveSource it first";
	if (all->n >= MAX_SOURCES)
		return "too many sources";
	n = scandir(r->frames_dir, &list, is_frame, alphasort);
	if (n < 0)
		return "frames_dir cannot be read";
	src = calloc(1, sizeof(*src));
	if (src) {
		src->frames = calloc((size_t)n + 1, sizeof(char *));
		src->name = strdup(r->source);
		src->dir = strdup(r->frames_dir);
	}
	for (int i = 0; i < n; i++) {
		if (src && src->frames)
			src->frames[src->nframes++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	free(list);
	if (!src || !src->frames || !src->name || !src->dir) {
		if (src)
			source_free(src);
		return "out of memory";
	}
	src->all = all;
	src->fps = r->fps ? r->fps : 10;
	src->loop = r->loop;
	ev_timer_init(&src->tick_w, on_tick, 0., 1. / src->fps);
	src->tick_w.data = src;
	ev_timer_start(svc_algo(all->svc)->loop, &src->tick_w);
	src->next_src = all->list;
	all->list = src;
	all->n++;
	*out = src;
	return NULL;
}

static struct svc_sources *sources_of(struct svc_call *c)
{
	return svc_sources(svc_of(c));
}

static void on_add(struct svc_call *c, const uint8_t *data, size_t len)
{
	Collector__Algorithm__V1__AddSourceRequest *r =
		collector__algorithm__v1__add_source_request__unpack(NULL, len, data);
	Collector__Algorithm__V1__AddSourceResponse resp =
		COLLECTOR__ALGORITHM__V1__ADD_SOURCE_RESPONSE__INIT;
	struct source *src = NULL;
	const char *bad;

	if (!r) {
		svc_bad_request(c);
		return;
	}
	if ((bad = add(sources_of(c), r, &src))) {
		svc_finish(c, GRPC_STATUS_INVALID_ARGUMENT, SVC_BAD_INPUT, "%s", bad);
	} else {
		resp.frames = (uint32_t)src->nframes;
		svc_send(c, &resp.base);
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
	}
	collector__algorithm__v1__add_source_request__free_unpacked(r, NULL);
}

static void remove_source(struct svc_sources *all, struct source **link)
{
	struct source *src = *link;

	*link = src->next_src;
	all->n--;
	ev_timer_stop(svc_algo(all->svc)->loop, &src->tick_w);
	src->removed = true;
	if (src->outstanding == 0)
		source_free(src);
}

static void on_remove(struct svc_call *c, const uint8_t *data, size_t len)
{
	Collector__Algorithm__V1__RemoveSourceRequest *r =
		collector__algorithm__v1__remove_source_request__unpack(NULL, len, data);
	Collector__Algorithm__V1__RemoveSourceResponse resp =
		COLLECTOR__ALGORITHM__V1__REMOVE_SOURCE_RESPONSE__INIT;
	struct source **link;

	if (!r) {
		svc_bad_request(c);
		return;
	}
	if (!find(sources_of(c), r->source, &link)) {
		svc_finish(c, GRPC_STATUS_NOT_FOUND, SVC_SOURCE_NOT_FOUND, "no source %s",
			   r->source);
	} else {
		remove_source(sources_of(c), link);
		svc_send(c, &resp.base);
		svc_finish(c, GRPC_STATUS_OK, 0, NULL);
	}
	collector__algorithm__v1__remove_source_request__free_unpacked(r, NULL);
}

static void on_list(struct svc_call *c, const uint8_t *data, size_t len)
{
	struct svc_sources *all = sources_of(c);
	Collector__Algorithm__V1__ListSourcesResponse resp =
		COLLECTOR__ALGORITHM__V1__LIST_SOURCES_RESPONSE__INIT;
	Collector__Algorithm__V1__SourceInfo info[MAX_SOURCES], *ptrs[MAX_SOURCES];

	(void)data;
	(void)len;
	for (struct source *src = all->list; src; src = src->next_src) {
		Collector__Algorithm__V1__SourceInfo *i = &info[resp.n_sources];

		collector__algorithm__v1__source_info__init(i);
		i->source = src->name;
		i->frames_dir = src->dir;
		i->fps = src->fps;
		i->frames_sent = src->sent;
		i->frames_dropped = src->dropped;
		ptrs[resp.n_sources++] = i;
	}
	resp.sources = ptrs;
	svc_send(c, &resp.base);
	svc_finish(c, GRPC_STATUS_OK, 0, NULL);
}

int svc_sources_new(struct service *s, struct svc_sources **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->svc = s;
	return 0;
}

void svc_sources_stop(struct svc_sources *all)
{
	while (all && all->list)
		remove_source(all, &all->list);
}

/* After the host stopped: every frame call has had its outcome, every source is gone. */
void svc_sources_free(struct svc_sources *all)
{
	svc_sources_stop(all);
	free(all);
}

static const struct svc_method add_source = { .path = "/collector.algorithm.v1.Algorithm/AddSource",
					      .on_message = on_add };
static const struct svc_method remove_source_m = { .path = "/collector.algorithm.v1.Algorithm/"
							   "RemoveSource",
						   .on_message = on_remove };
static const struct svc_method list_sources = { .path = "/collector.algorithm.v1.Algorithm/"
							"ListSources",
						.on_message = on_list };

const struct svc_method *const svc_source_methods[] = { &add_source, &remove_source_m,
							&list_sources, NULL };
