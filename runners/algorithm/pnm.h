/* Binary PPM (P6) and PGM (P5) images loaded for algorithm calls. */
#ifndef COLLECTOR_ALGORITHM_PNM_H
#define COLLECTOR_ALGORITHM_PNM_H

#include <collector/algorithm.h>
#include <collector/error.h>

struct pnm_image {
	unsigned char *pixels;	     /* malloc'd, NULL when empty */
	struct algorithm_image meta; /* points at @c pixels */
};

/* Load a binary PPM/PGM with maxval 255; errors name the file. */
int pnm_load(struct pnm_image *img, const char *path, struct error *err);

void pnm_free(struct pnm_image *img);

#endif
