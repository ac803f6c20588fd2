/* Parsing the kafka sink's URL into brokers, topic and query parameters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_url.h"

void kafka_url_free(struct kafka_url *url)
{
	free(url->brokers);
	free(url->topic);
	free(url->key);
	free(url->headers);
	free(url->acks);
	free(url->compression);
	*url = (struct kafka_url){ 0 };
}

static int set_param(struct kafka_url *url, const char *param, size_t len, const char *text,
		     struct error *err)
{
	const char *eq = memchr(param, '=', len);
	char **slot;
	size_t klen;

	if (!eq || eq == param || eq + 1 == param + len)
		return error_set(err, EINVAL, "kafka URL '%s': expected NAME=VALUE in the query",
				 text);
	klen = (size_t)(eq - param);
	if (klen == 3 && strncmp(param, "key", 3) == 0)
		slot = &url->key;
	else if (klen == 7 && strncmp(param, "headers", 7) == 0)
		slot = &url->headers;
	else if (klen == 4 && strncmp(param, "acks", 4) == 0)
		slot = &url->acks;
	else if (klen == 11 && strncmp(param, "compression", 11) == 0)
		slot = &url->compression;
	else
		return error_set(err, EINVAL,
				 "kafka URL '%s': unknown parameter '%.*s' (key, headers, "
				 "acks, compression; "
				 "-X for librdkafka properties)",
				 text, (int)klen, param);
	free(*slot);
	*slot = strndup(eq + 1, (size_t)(param + len - eq - 1));
	return *slot ? 0 : error_set(err, ENOMEM, "out of memory");
}

int kafka_url_parse(const char *text, struct kafka_url *url, struct error *err)
{
	const char *p = text, *slash, *q;
	int rc;

	*url = (struct kafka_url){ 0 };
	if (strncmp(p, "kafka:", 6) == 0)
		p += 6;
	if (strncmp(p, "//", 2) != 0)
		return error_set(err, EINVAL, "kafka URL '%s': expected kafka://HOST:PORT/TOPIC",
				 text);
	p += 2;
	slash = strchr(p, '/');
	if (!slash || slash == p)
		return error_set(err, EINVAL,
				 "kafka URL '%s': expected HOST:PORT[,HOST:PORT]/TOPIC", text);
	q = strchr(slash, '?');
	if ((q ? q : slash + strlen(slash)) == slash + 1)
		return error_set(err, EINVAL, "kafka URL '%s': no topic", text);
	url->brokers = strndup(p, (size_t)(slash - p));
	url->topic = q ? strndup(slash + 1, (size_t)(q - slash - 1)) : strdup(slash + 1);
	if (!url->brokers || !url->topic) {
		kafka_url_free(url);
		return error_set(err, ENOMEM, "out of memory");
	}
	while (q && *q) {
		const char *start = q + 1, *amp = strchr(start, '&');
		size_t len = amp ? (size_t)(amp - start) : strlen(start);

		rc = set_param(url, start, len, text, err);
		if (rc < 0) {
			kafka_url_free(url);
			return rc;
		}
		q = amp;
	}
	return 0;
}
