/* Typed option values, filled from CLI flags or config keys alike. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <collector/options.h>

#include "suggest.h"

struct option_value {
	bool given; /* set by the user */
	bool set;   /* set by the user or a default */
	char *str;
	int64_t num;
	char **list; /* NULL-terminated */
	int nlist;
};

struct options {
	const struct option_spec *specs;
	int n;
	struct option_value *vals;
};

static const struct {
	const char *suffix;
	double ns;
} duration_units[] = {
	{ "ns", 1 },   { "us", 1e3 },	{ "ms", 1e6 }, { "s", 1e9 },
	{ "m", 60e9 }, { "h", 3600e9 }, { "", 1e9 },
};

/* Plain decimal only: strtod would also take spaces, signs, hex and "inf". */
static bool plain_number(const char *s)
{
	return (*s >= '0' && *s <= '9') || (*s == '.' && s[1] >= '0' && s[1] <= '9');
}

int parse_duration(const char *s, int64_t *ns)
{
	char *end;
	double v;

	if (!plain_number(s) || strpbrk(s, "xXpP"))
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strcmp(end, duration_units[i].suffix) == 0) {
			double r = v * duration_units[i].ns;

			if (r > 9.2e18)
				return -EINVAL;
			*ns = (int64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

static const struct {
	const char *suffix;
	int64_t mult;
} size_units[] = {
	{ "", 1 },	     { "B", 1 },	   { "K", 1LL << 10 },
	{ "KB", 1LL << 10 }, { "KiB", 1LL << 10 }, { "M", 1LL << 20 },
	{ "MB", 1LL << 20 }, { "MiB", 1LL << 20 }, { "G", 1LL << 30 },
	{ "GB", 1LL << 30 }, { "GiB", 1LL << 30 },
};

int parse_size(const char *s, int64_t *bytes)
{
	char *end;
	double v;

	if (!plain_number(s) || strpbrk(s, "xXpP"))
		return -EINVAL;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
		if (strcasecmp(end, size_units[i].suffix) == 0) {
			double r = v * (double)size_units[i].mult;

			if (r > 9.2e18)
				return -EINVAL;
			*bytes = (int64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_address_port(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	const char *close = strrchr(addr, ']');
	size_t digits;

	if (!colon || (addr[0] == '[' && (!close || colon != close + 1)))
		return -EINVAL;
	digits = strspn(colon + 1, "0123456789");
	if (digits == 0 || digits > 5 || colon[1 + digits] != '\0' ||
	    strtol(colon + 1, NULL, 10) > 65535)
		return -EINVAL;
	return 0;
}

static bool enum_has(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

struct options *options_new(const struct option_spec *specs)
{
	struct options *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->specs = specs;
	while (specs && specs[o->n].name)
		o->n++;
	o->vals = calloc((size_t)o->n + 1, sizeof(*o->vals));
	if (!o->vals) {
		free(o);
		return NULL;
	}
	return o;
}

void options_free(struct options *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->n; i++) {
		free(o->vals[i].str);
		for (int j = 0; j < o->vals[i].nlist; j++)
			free(o->vals[i].list[j]);
		free(o->vals[i].list);
	}
	free(o->vals);
	free(o);
}

static int find(const struct options *o, const char *name)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->specs[i].name, name) == 0)
			return i;
	return -1;
}

static int list_append(struct option_value *v, const char *word)
{
	char **l = realloc(v->list, sizeof(char *) * ((size_t)v->nlist + 2));

	if (!l)
		return -ENOMEM;
	v->list = l;
	if (!(l[v->nlist] = strdup(word)))
		return -ENOMEM;
	l[++v->nlist] = NULL;
	return 0;
}

static int parse_value(const struct option_spec *s, struct option_value *v, const char *value,
		       struct error *err)
{
	int64_t num;
	char *end;

	switch (s->type) {
	case OPT_ARGV:
		return list_append(v, value) < 0 ? error_set(err, ENOMEM, "out of memory") : 0;
	case OPT_STRING:
		if (s->repeat)
			return list_append(v, value) < 0 ? error_set(err, ENOMEM, "out of memory") :
							   0;
		/* fall through */
	case OPT_ENUM:
		if (s->type == OPT_ENUM && !enum_has(s->choices, value))
			return error_set(err, EINVAL, "--%s: '%s' is not one of %s", s->name, value,
					 s->choices);
		free(v->str);
		if (!(v->str = strdup(value)))
			return error_set(err, ENOMEM, "out of memory");
		return 0;
	case OPT_INT:
		errno = 0;
		num = strtoll(value, &end, 10);
		if (errno || end == value || *end)
			return error_set(err, EINVAL, "--%s: '%s' is not an integer", s->name,
					 value);
		v->num = num;
		return 0;
	case OPT_SIZE:
		if (parse_size(value, &num) < 0)
			return error_set(err, EINVAL,
					 "--%s: '%s' is not a size (e.g. 4096, 64KiB, 8MiB)",
					 s->name, value);
		v->num = num;
		return 0;
	case OPT_DURATION:
		if (parse_duration(value, &num) < 0)
			return error_set(err, EINVAL,
					 "--%s: '%s' is not a duration (e.g. 500ms, 10s, 5m)",
					 s->name, value);
		v->num = num;
		return 0;
	case OPT_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
			v->num = 1;
		else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
			v->num = 0;
		else
			return error_set(err, EINVAL, "--%s: '%s' is not true or false", s->name,
					 value);
		return 0;
	}
	return error_set(err, EINVAL, "--%s: unknown option type", s->name);
}

/*
 * A repeatable option whose name ends in '.' takes every NAME.KEY=VALUE as
 * the value "KEY=VALUE" (the http sink's path.TYPE=/PATH).
 */
static int set_prefixed(struct options *o, const char *name, const char *value, struct error *err)
{
	for (int i = 0; i < o->n; i++) {
		const struct option_spec *s = &o->specs[i];
		size_t n = strlen(s->name);
		char *kv;
		int rc;

		if (!s->repeat || n < 2 || s->name[n - 1] != '.' ||
		    strncmp(name, s->name, n) != 0 || !name[n])
			continue;
		if (asprintf(&kv, "%s=%s", name + n, value) < 0)
			return error_set(err, ENOMEM, "out of memory");
		rc = parse_value(s, &o->vals[i], kv, err);
		free(kv);
		if (rc == 0)
			o->vals[i].given = o->vals[i].set = true;
		return rc;
	}
	return error_set(err, ENOENT, "unknown option '%s'", name);
}

int options_set(struct options *o, const char *name, const char *value, struct error *err)
{
	int i = find(o, name);
	int rc;

	if (i < 0)
		return set_prefixed(o, name, value, err);
	rc = parse_value(&o->specs[i], &o->vals[i], value, err);
	if (rc == 0)
		o->vals[i].given = o->vals[i].set = true;
	return rc;
}

int options_finish(struct options *o, struct error *err)
{
	for (int i = 0; i < o->n; i++) {
		const struct option_spec *s = &o->specs[i];

		if (!o->vals[i].set && s->required)
			return error_set(err, EINVAL, "missing required option '%s'", s->name);
		if (o->vals[i].set || !s->def)
			continue;
		if (parse_value(s, &o->vals[i], s->def, err) < 0)
			return -EINVAL;
		o->vals[i].set = true;
	}
	return 0;
}

bool options_given(const struct options *o, const char *name)
{
	int i = find(o, name);

	return i >= 0 && o->vals[i].given;
}

const char *options_str(const struct options *o, const char *name)
{
	int i = find(o, name);

	return i >= 0 ? o->vals[i].str : NULL;
}

int64_t options_int(const struct options *o, const char *name)
{
	int i = find(o, name);

	return i >= 0 ? o->vals[i].num : 0;
}

bool options_bool(const struct options *o, const char *name)
{
	return options_int(o, name) != 0;
}

char *const *options_list(const struct options *o, const char *name, int *count)
{
	int i = find(o, name);

	if (count)
		*count = i >= 0 ? o->vals[i].nlist : 0;
	return i >= 0 ? o->vals[i].list : NULL;
}

const struct option_spec *options_specs(const struct options *o)
{
	return o->specs;
}

static int count_specs(const struct option_spec *s)
{
	int n = 0;

	while (s && s[n].name)
		n++;
	return n;
}

/* Option @i of table @t as getopt_long's value: above every short name. */
#define LONG_VALUE(t, i) (256 + (t)*128 + (i))

static int getopt_tables(const struct options_table *tables, int ntables, struct option *longopts,
			 char *shortopts)
{
	int n = 0;

	/* "+": stop at the first non-option word; ":": tell a missing value apart. */
	snprintf(shortopts, 3, "+:");
	for (int t = 0; t < ntables; t++) {
		for (int i = 0; i < count_specs(tables[t].specs); i++) {
			const struct option_spec *s = &tables[t].specs[i];
			int has_arg = s->type == OPT_BOOL ? no_argument :
				      s->implicit	  ? optional_argument :
							    required_argument;

			if (s->type == OPT_ARGV)
				continue;
			if (n == 127 || i >= 128)
				return -E2BIG;
			longopts[n++] = (struct option){ s->name, has_arg, NULL, LONG_VALUE(t, i) };
			if (s->short_name) {
				size_t len = strlen(shortopts);

				shortopts[len] = s->short_name;
				shortopts[len + 1] = has_arg ? ':' : '\0';
				shortopts[len + 2] = '\0';
			}
		}
	}
	longopts[n] = (struct option){ 0 };
	return 0;
}

static const struct option_spec *spec_of(const struct options_table *tables, int ntables, int c,
					 struct options **values)
{
	for (int t = 0; t < ntables; t++) {
		for (int i = 0; tables[t].specs[i].name; i++) {
			const struct option_spec *x = &tables[t].specs[i];

			if ((c >= 256 && c == LONG_VALUE(t, i)) ||
			    (c < 256 && c == x->short_name)) {
				*values = tables[t].values;
				return x;
			}
		}
	}
	return NULL;
}

/* "unknown option '--word'", with the nearest known option when one is close. */
static int unknown_option(const struct options_table *tables, int ntables, const char *word,
			  struct error *err)
{
	char name[64], hint[96];
	struct suggestion sg;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(word, "="), word);
	suggest_begin(&sg, name + strspn(name, "-"));
	for (int t = 0; t < ntables && name[1] == '-'; t++)
		for (int i = 0; i < count_specs(tables[t].specs); i++)
			suggest_offer(&sg, tables[t].specs[i].name);
	return error_set(err, EINVAL, "unknown option '%s'%s (see --help)", word,
			 suggest_text(&sg, "--", hint, sizeof(hint)));
}

/*
 * The word after an option whose value is optional (--metrics): its value when it
 * reads as an address, HOST:PORT or a bare port, as kcat users type it; a runner's
 * name or a command never has a ':' and is not a number.
 */
static bool looks_like_address(const char *word)
{
	return word[0] != '-' &&
	       (strchr(word, ':') || (word[0] && strspn(word, "0123456789") == strlen(word)));
}

int options_parse_argv(int argc, char **argv, const struct options_table *tables, int ntables,
		       struct error *err)
{
	struct option longopts[128];
	char shortopts[3 * 128 + 3];
	int c;

	if (getopt_tables(tables, ntables, longopts, shortopts) < 0)
		return error_set(err, E2BIG, "more options than the parser takes (127)");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct option_spec *s;
		struct options *values = NULL;
		const char *value;

		if (c == '?')
			return unknown_option(tables, ntables, argv[optind - 1], err);
		if (c == ':')
			return error_set(err, EINVAL, "missing value for '%s' (see --help)",
					 argv[optind - 1]);
		s = spec_of(tables, ntables, c, &values);
		if (!s)
			return error_set(err, EINVAL, "unknown option '%s'", argv[optind - 1]);
		value = s->type == OPT_BOOL ? "true" : optarg;
		if (!value && s->implicit)
			value = optind < argc && looks_like_address(argv[optind]) ? argv[optind++] :
										    s->implicit;
		if (!value)
			return error_set(err, EINVAL, "missing value for '%s' (see --help)",
					 argv[optind - 1]);
		if (options_set(values, s->name, value, err) < 0)
			return -EINVAL;
	}
	return optind;
}

/* One `--name=value` word (`--name` when @value is NULL) into @out[*n]. */
static int add_word(char **out, int room, int *n, const char *name, const char *value,
		    struct error *err)
{
	if (*n == room)
		return error_set(err, E2BIG, "more option words than %d", room);
	if ((value ? asprintf(&out[*n], "--%s=%s", name, value) :
		     asprintf(&out[*n], "--%s", name)) < 0) {
		out[*n] = NULL;
		return error_set(err, ENOMEM, "out of memory");
	}
	(*n)++;
	return 0;
}

int options_to_argv(const struct options *o, char **out, int room, struct error *err)
{
	int n = 0, rc = 0;

	for (int i = 0; i < o->n && rc == 0; i++) {
		const struct option_spec *s = &o->specs[i];
		const struct option_value *v = &o->vals[i];
		char num[32];

		if (!v->given || s->type == OPT_ARGV)
			continue;
		switch (s->type) {
		case OPT_STRING:
			for (int k = 0; s->repeat && k < v->nlist && rc == 0; k++)
				rc = add_word(out, room, &n, s->name, v->list[k], err);
			if (!s->repeat)
				rc = add_word(out, room, &n, s->name, v->str, err);
			break;
		case OPT_ENUM:
			rc = add_word(out, room, &n, s->name, v->str, err);
			break;
		case OPT_BOOL:
			/* A flag on a command line can only say true. */
			if (!v->num && s->def && strcmp(s->def, "true") == 0)
				rc = error_set(err, EINVAL, "--%s=false has no flag form", s->name);
			else if (v->num)
				rc = add_word(out, room, &n, s->name, NULL, err);
			break;
		default:
			/* A duration in ns keeps its precision: "ns" is one of its units. */
			snprintf(num, sizeof(num), "%" PRId64 "%s", v->num,
				 s->type == OPT_DURATION ? "ns" : "");
			rc = add_word(out, room, &n, s->name, num, err);
			break;
		}
	}
	if (rc < 0) {
		while (n > 0)
			free(out[--n]);
		return rc;
	}
	return n;
}
