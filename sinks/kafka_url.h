/* The kafka sink's address: kafka://host:port[,host:port]/topic?key=FIELD&headers=LIST&acks=all&compression=zstd. */
#ifndef SINKS_KAFKA_URL_H
#define SINKS_KAFKA_URL_H

#include <collector/error.h>

/* The parts of a kafka URL; each string is malloc'd, NULL when absent. */
struct kafka_url {
	char *brokers; /* "host:port,host:port" */
	char *topic;
	char *key;     /* event field the message key comes from */
	char *headers; /* event fields sent as headers, "type,runner" */
	char *acks;
	char *compression;
};

/*
 * Parse @p text, with or without the leading "kafka:" (the CLI's --sink
 * kafka://... leaves "//..."). Returns 0, or -EINVAL/-ENOMEM with @p err.
 */
int kafka_url_parse(const char *text, struct kafka_url *url, struct error *err);

/* Free the strings of @p url and zero it. */
void kafka_url_free(struct kafka_url *url);

#endif
