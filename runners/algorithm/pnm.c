/* Reading binary PPM/PGM frames: header, comments, 8-bit pixels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pnm.h"

#define PNM_MAX_PIXELS (16384L * 16384L)

/* The next header number, skipping whitespace and # comments. */
static int header_number(FILE *f, long *out)
{
	int c;

	for (;;) {
		c = fgetc(f);
		if (c == '#') {
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			break;
		}
	}
	if (c < '0' || c > '9')
		return -1;
	*out = 0;
	while (c >= '0' && c <= '9') {
		*out = *out * 10 + (c - '0');
		if (*out > PNM_MAX_PIXELS)
			return -1;
		c = fgetc(f);
	}
	/* Exactly one whitespace byte ends the header's last number. */
	return c == EOF ? -1 : 0;
}

int pnm_load(struct pnm_image *img, const char *path, struct error *err)
{
	FILE *f = fopen(path, "rb");
	char magic[2];
	long w, h, maxval;
	int channels;
	size_t size;

	memset(img, 0, sizeof(*img));
	if (!f)
		return error_set(err, errno, "%s: %s", path, strerror(errno));
	if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '6')) {
		fclose(f);
		return error_set(err, EINVAL, "%s: not a binary PPM (P6) or PGM (P5)", path);
	}
	channels = magic[1] == '6' ? 3 : 1;
	if (header_number(f, &w) < 0 || header_number(f, &h) < 0 || header_number(f, &maxval) < 0 ||
	    w < 1 || h < 1 || w * h > PNM_MAX_PIXELS || maxval != 255) {
		fclose(f);
		return error_set(err, EINVAL, "%s: bad header (need width, height, maxval 255)",
				 path);
	}
	size = (size_t)w * (size_t)h * (size_t)channels;
	img->pixels = malloc(size);
	if (!img->pixels) {
		fclose(f);
		return error_set(err, ENOMEM, "%s: out of memory", path);
	}
	if (fread(img->pixels, 1, size, f) != size) {
		fclose(f);
		pnm_free(img);
		return error_set(err, EINVAL, "%s: truncated pixel data", path);
	}
	fclose(f);
	img->meta = (struct algorithm_image){ .data = img->pixels,
					      .size = size,
					      .width = (int)w,
					      .height = (int)h,
					      .channels = channels,
					      .stride = (int)w * channels,
					      .format = channels == 3 ? "rgb8" : "gray8" };
	return 0;
}

void pnm_free(struct pnm_image *img)
{
	free(img->pixels);
	memset(img, 0, sizeof(*img));
}
