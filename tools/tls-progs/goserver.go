// A Go HTTPS server for the ssl runner's tests: prints "ready PORT" once it listens on 127.0.0.1.
//
// Usage: go-server [-h1] CERT KEY
// GET /hello: a short text; GET /big?n=BYTES: BYTES of 'z'; POST /echo: the body's size.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
)

func big(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	w.Header().Set("Content-Length", strconv.Itoa(n))
	chunk := make([]byte, 65536)
	for i := range chunk {
		chunk[i] = 'z'
	}
	for n > 0 {
		k := n
		if k > len(chunk) {
			k = len(chunk)
		}
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

func main() {
	h1 := flag.Bool("h1", false, "HTTP/1.1 only")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-server [-h1] CERT KEY")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello from go\n")
	})
	mux.HandleFunc("/big", big)
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "got %d bytes\n", n)
	})
	srv := &http.Server{Handler: mux}
	if *h1 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("ready %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Sync()
	fmt.Fprintln(os.Stderr, srv.ServeTLS(ln, flag.Arg(0), flag.Arg(1)))
	os.Exit(1)
}
