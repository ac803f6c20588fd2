/**
 * @file
 * Typed options of runners and sinks, shared by the CLI and the config file.
 */
#ifndef COLLECTOR_OPTIONS_H
#define COLLECTOR_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <collector/error.h>

/** The type of an option's value. */
enum option_type {
	OPT_STRING,   /**< any string */
	OPT_INT,      /**< a signed 64-bit integer */
	OPT_SIZE,     /**< bytes: 4096, 64KiB, 8MiB, 1GiB */
	OPT_DURATION, /**< 1500ms, 2s, 1m, 1h; a bare number is seconds */
	OPT_BOOL,     /**< a flag: true when given */
	OPT_ENUM,     /**< one of @c choices ("a|b|c") */
	OPT_ARGV,     /**< the positional words: a command and its arguments */
};

/**
 * One option a runner or sink accepts; a table ends with a zeroed entry.
 * The same name is the long CLI flag (--name) and the config file key.
 */
struct option_spec {
	const char *name;      /**< long name, also the config key */
	const char *def;       /**< default as text, NULL for none */
	const char *choices;   /**< for OPT_ENUM: "a|b|c" */
	const char *help;      /**< one line for --help */
	enum option_type type; /**< how the text of a value is parsed and checked */
	char short_name;       /**< one-letter CLI flag, or 0 */
	bool repeat;	       /**< OPT_STRING only: may be given several times */
	bool required;	       /**< options_finish() fails when it is missing */
	/**
	 * A sink's option only: `collector run` also takes it as a global flag
	 * (with @c short_name too) and gives it to every --sink whose type has
	 * it, as -X for kafka and --pretty for stdout.
	 */
	bool cli_global;
	/**
	 * OPT_STRING on the command line only: the value of a bare `--name`;
	 * another value is given as `--name=VALUE`, or as `--name VALUE` when
	 * VALUE reads as an address (has a ':' or is a number: a port). NULL: a
	 * value is required.
	 */
	const char *implicit;
};

/** Parsed values for one option table; owned by whoever made it. */
struct options;

/**
 * Create an empty set of values.
 * @param specs the option table, ended by a zeroed entry; not copied, so it
 *        must outlive the result (a static table does)
 * @return the values (free them with options_free()), or NULL when out of memory.
 */
struct options *options_new(const struct option_spec *specs);

/**
 * Free a set of values and every string in it.
 * @param o the values, or NULL (ignored)
 */
void options_free(struct options *o);

/**
 * Set an option from its text form, checking its type.
 * For OPT_ARGV, each call appends one word; for repeatable strings, one value.
 * @param o the values
 * @param name the option's long name
 * @param value its text (copied)
 * @param err filled on failure (may be NULL)
 * @return 0, -ENOENT when the table has no such option, -EINVAL for a bad
 *         value (with @p err naming the option and the value), -ENOMEM.
 */
int options_set(struct options *o, const char *name, const char *value, struct error *err);

/**
 * Apply defaults and check that required options are present.
 * @param o the values
 * @param err filled on failure (may be NULL)
 * @return 0, or -EINVAL with @p err naming the first missing option.
 */
int options_finish(struct options *o, struct error *err);

/**
 * Whether an option was given (not just defaulted).
 * @param o the values
 * @param name the option's long name
 * @return true when set by options_set().
 */
bool options_given(const struct options *o, const char *name);

/**
 * The string (or enum) value of an option.
 * @param o the values
 * @param name the option's long name
 * @return the value, owned by @p o, or NULL when unset.
 */
const char *options_str(const struct options *o, const char *name);

/**
 * The integer, size or duration value of an option.
 * @param o the values
 * @param name the option's long name
 * @return the number (durations in ns, sizes in bytes), or 0 when unset.
 */
int64_t options_int(const struct options *o, const char *name);

/**
 * The value of an OPT_BOOL option.
 * @param o the values
 * @param name the option's long name
 * @return true when given or defaulted to true.
 */
bool options_bool(const struct options *o, const char *name);

/**
 * The words of an OPT_ARGV option, or the values of a repeatable string.
 * @param o the values
 * @param name the option's long name
 * @param count set to their number (may be NULL)
 * @return a NULL-terminated array owned by @p o, or NULL when there are none.
 */
char *const *options_list(const struct options *o, const char *name, int *count);

/**
 * The table a set of values was made from.
 * @param o the values
 * @return the @c specs given to options_new().
 */
const struct option_spec *options_specs(const struct options *o);

/** One option table and the values it fills, for options_parse_argv(). */
struct options_table {
	const struct option_spec *specs; /**< the table */
	struct options *values;		 /**< made from @c specs */
};

/**
 * Parse command-line flags of several tables at once (getopt_long), stopping
 * at the first word that is not an option.
 * @param argc the number of words
 * @param argv the words; argv[0] is the command's name and is skipped
 * @param tables the tables, searched in order
 * @param ntables their number
 * @param err filled on failure with the word and the reason
 * @return the index of the first non-option word (argc when there is none),
 *         or -EINVAL with @p err.
 */
int options_parse_argv(int argc, char **argv, const struct options_table *tables, int ntables,
		       struct error *err);

/**
 * Append to @p out the flags that give @p o's values set by the user back as
 * `--name=value` words (each strdup'ed; a repeated option once per value), so
 * that another process can parse them with options_parse_argv() into equal
 * values. OPT_ARGV words are not included.
 * @param o the values
 * @param out room for the words: at least @p room entries
 * @param room the room in @p out
 * @param err filled on failure
 * @return the number of words written, or -ENOMEM / -E2BIG with @p err.
 */
int options_to_argv(const struct options *o, char **out, int room, struct error *err);

/**
 * Parse a duration: "250ms", "2s", "1.5m", "1h"; a bare number is seconds.
 * @param s the text
 * @param ns set to the duration in ns
 * @return 0 or -EINVAL.
 */
int parse_duration(const char *s, int64_t *ns);

/**
 * Parse a size: "4096", "64KiB", "8MiB", "1G".
 * @param s the text
 * @param bytes set to the size in bytes
 * @return 0 or -EINVAL.
 */
int parse_size(const char *s, int64_t *bytes);

/**
 * Check the port of a listen address: HOST:PORT or [IPV6]:PORT, PORT a
 * decimal 0 to 65535 (getaddrinfo() would wrap a larger one to another port).
 * @param addr the address
 * @return 0 or -EINVAL.
 */
int parse_address_port(const char *addr);

#endif
