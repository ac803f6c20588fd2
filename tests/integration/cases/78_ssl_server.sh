# ssl runner: the server side: openssl s_server -www (reads and writes through an SSL BIO),
# python's ssl server and nginx (root only).
. "$(dirname "${BASH_SOURCE[0]}")/../tls/lib.sh"

reason=$(tls_skip_reason)
if [ -n "$reason" ]; then
	skip "ssl runner: TLS servers" "$reason"
	return 0
fi
tls_cert

begin "openssl s_server -www: the request it reads and the page it writes through its SSL BIO"
port=$((20000 + RANDOM % 20000))
openssl s_server -www -quiet -accept "127.0.0.1:$port" -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
	>/dev/null 2>&1 &
SV=$!
for _ in $(seq 100); do
	curl -sk -o /dev/null "https://127.0.0.1:$port/" && break
	sleep 0.05
done
out=$WORK/sv-sserver.jsonl
tls_trace "$out" -p "$SV" --raw
curl -sk -H 'Authorization: Bearer sv-secret' "https://127.0.0.1:$port/probe" >"$WORK/sv-sserver.page"
tls_untrace
kill "$SV"
wait "$SV" 2>/dev/null
eq "the request, seen by the server" "GET /probe" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out")"
eq "its Authorization hidden" '[REDACTED]' \
	"$(jq -r 'select(.type=="http.request") | .data.headers[] | select(.[0]=="Authorization") | .[1]' "$out")"
eq "the page it wrote, whole" "200 $(wc -c <"$WORK/sv-sserver.page")" \
	"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body_size)"' "$out")"
eq "through OpenSSL's internal functions" "ssl_read_internal,ssl_write_internal" \
	"$(jq -r 'select(.type=="ssl.data") | .data.func' "$out" | sort -u | paste -sd,)"
end

begin "python's ssl server (SSL_read_ex, SSL_write_ex): each request and response on the server's side"
/usr/bin/python3 "$TLS_DIR/server.py" 0 "$WORK/cert.pem" "$WORK/key.pem" >"$WORK/sv-py.out" 2>&1 &
PYS=$!
port=$(tls_wait_ready "$WORK/sv-py.out")
out=$WORK/sv-py.jsonl
tls_trace "$out" -p "$PYS"
curl -sk "https://127.0.0.1:$port/hello" --next -sk -d 'a=1' "https://127.0.0.1:$port/echo" >/dev/null
tls_untrace
kill "$PYS"
wait "$PYS" 2>/dev/null
eq "requests" "GET /hello;POST /echo" \
	"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out" | paste -sd';')"
eq "responses" '200 "hello over tls\n";200 "got a=1"' \
	"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body|tojson)"' "$out" | paste -sd';')"
eq "only the server" "$PYS" "$(jq -r 'select(.pid) | .pid' "$out" | sort -u | paste -sd,)"
end

if command -v nginx >/dev/null; then
	begin "nginx: requests and responses on the server's side"
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$WORK/ngx/www"
	head -c 40000 /dev/zero | tr '\0' n >"$WORK/ngx/www/file.txt"
	cat >"$WORK/ngx/nginx.conf" <<NGX
daemon off;
master_process off;
pid $WORK/ngx/nginx.pid;
error_log $WORK/ngx/error.log;
events {}
http {
	access_log off;
	client_body_temp_path $WORK/ngx/body;
	proxy_temp_path $WORK/ngx/proxy;
	fastcgi_temp_path $WORK/ngx/fastcgi;
	uwsgi_temp_path $WORK/ngx/uwsgi;
	scgi_temp_path $WORK/ngx/scgi;
	server {
		listen 127.0.0.1:$port ssl;
		ssl_certificate $WORK/cert.pem;
		ssl_certificate_key $WORK/key.pem;
		root $WORK/ngx/www;
		location = /hello { return 200 "hello from nginx\n"; }
	}
}
NGX
	out=$WORK/sv-nginx.jsonl
	tls_trace "$out" -c nginx
	nginx -p "$WORK/ngx" -c "$WORK/ngx/nginx.conf" &
	NGX=$!
	for _ in $(seq 100); do
		curl -sk -o /dev/null "https://127.0.0.1:$port/hello" && break
		sleep 0.05
	done
	curl -sk "https://127.0.0.1:$port/hello" --next -sk "https://127.0.0.1:$port/file.txt" >/dev/null
	tls_untrace
	kill "$NGX"
	wait "$NGX" 2>/dev/null
	eq "the last two requests" "GET /hello;GET /file.txt" \
		"$(jq -r 'select(.type=="http.request") | "\(.data.method) \(.data.path)"' "$out" | tail -n 2 | paste -sd';')"
	eq "their responses" '200 17;200 40000' \
		"$(jq -r 'select(.type=="http.response") | "\(.data.status) \(.data.body_size)"' "$out" | tail -n 2 | paste -sd';')"
	end
else
	skip "ssl runner: nginx" "nginx is not installed (make deps)"
fi
