// A Go HTTPS client for the ssl runner's tests: fetches each URL given, prints status and body size.
//
// Usage: go-client [-n COUNT] [-h1] [-post BYTES] URL...
// Certificates are not checked (the tests use throwaway self-signed ones).
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	count := flag.Int("n", 1, "fetch each URL this many times")
	h1 := flag.Bool("h1", false, "HTTP/1.1 only (no h2 by ALPN)")
	post := flag.Int("post", 0, "POST a body of this many bytes instead of GET")
	wait := flag.String("wait", "", "read one line from this file (a FIFO) before starting")
	flag.Parse()
	if *wait != "" {
		f, err := os.Open(*wait)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.ReadAll(io.LimitReader(f, 1))
		f.Close()
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: !*h1}
	if *h1 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	client := &http.Client{Transport: tr}
	for _, url := range flag.Args() {
		for i := 0; i < *count; i++ {
			var resp *http.Response
			var err error
			if *post > 0 {
				body := bytes.NewReader([]byte(strings.Repeat("p", *post)))
				resp, err = client.Post(url, "application/octet-stream", body)
			} else {
				resp, err = client.Get(url)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Printf("%s %d %d\n", resp.Proto, resp.StatusCode, n)
		}
	}
}
