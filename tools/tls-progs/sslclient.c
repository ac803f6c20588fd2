/* An OpenSSL/BoringSSL HTTPS client for the ssl runner's tests, linked statically or not. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* One GET of @p path on a new connection to 127.0.0.1:@p port; @return the bytes read or -1. */
static long fetch(SSL_CTX *ctx, int port, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	char req[512], buf[16384];
	long total = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;
	SSL *ssl;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
		     path);
	if (SSL_write(ssl, req, n) != n)
		return -1;
	while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
		total += n;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
	return total;
}

int main(int argc, char **argv)
{
	SSL_CTX *ctx;
	long n;

	if (argc < 3) {
		fprintf(stderr, "usage: ssl-client PORT PATH [COUNT]\n");
		return 2;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	for (int i = 0; i < (argc > 3 ? atoi(argv[3]) : 1); i++) {
		n = fetch(ctx, atoi(argv[1]), argv[2]);
		if (n < 0)
			return 1;
		printf("%ld\n", n);
	}
	SSL_CTX_free(ctx);
	return 0;
}
