// algoclient: a Go client of collector.algorithm.v1 (docs/service.md), as the seed's
// management system would drive the runner: health, one call, and a load mode that
// measures unary latency, throughput and HealthCheck latency under that load.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	algorithmv1 "collector/algorithm/v1"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	protov2 "google.golang.org/protobuf/proto"
)

// codec: Debian's grpc-go marshals with github.com/golang/protobuf 1.3, which cannot read
// the messages today's protoc-gen-go makes; those go through google.golang.org/protobuf,
// the older ones (grpc_health_v1 as Debian ships it) the old way.
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v interface{}) ([]byte, error) {
	if m, ok := v.(protov2.Message); ok {
		return protov2.Marshal(m)
	}
	return protov1.Marshal(v.(protov1.Message))
}

func (codec) Unmarshal(data []byte, v interface{}) error {
	if m, ok := v.(protov2.Message); ok {
		return protov2.Unmarshal(data, m)
	}
	return protov1.Unmarshal(data, v.(protov1.Message))
}

func init() { encoding.RegisterCodec(codec{}) }

func fail(err error) {
	st, _ := status.FromError(err)
	fmt.Printf("{\"error\":%q,\"message\":%q}\n", st.Code().String(), st.Message())
	os.Exit(1)
}

func pct(v []time.Duration, p int) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	return float64(v[len(v)*p/100].Nanoseconds()) / 1e3
}

// load runs n empty Execute calls over c concurrent workers while a prober checks health.
func load(ctx context.Context, cl algorithmv1.AlgorithmClient, hc healthpb.HealthClient, n, c int) {
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	var health []time.Duration
	var failed int
	next := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			t0 := time.Now()
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
				mu.Lock()
				health = append(health, time.Since(t0))
				mu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				t0 := time.Now()
				_, err := cl.Execute(ctx, &algorithmv1.ExecuteRequest{})
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	mu.Lock()
	defer mu.Unlock()
	out := map[string]interface{}{
		"calls": len(lat), "failed": failed, "concurrency": c,
		"p50_us": pct(lat, 50), "p99_us": pct(lat, 99),
		"calls_per_s":   float64(len(lat)) / elapsed.Seconds(),
		"health_checks": len(health),
		"health_p99_us": pct(health, 99),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func main() {
	target := flag.String("target", "127.0.0.1:50051", "unix:/path or host:port")
	mode := flag.String("mode", "execute", "health, execute or load")
	params := flag.String("params", "{}", "execute: params JSON")
	tag := flag.String("tag", "", "execute: the caller's tag")
	n := flag.Int("n", 10000, "load: calls")
	c := flag.Int("c", 64, "load: concurrent calls")
	timeout := flag.Duration("timeout", 10*time.Second, "per call (health, execute)")
	flag.Parse()

	conn, err := grpc.Dial(*target, grpc.WithInsecure()) // Debian's grpc-go predates credentials/insecure
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	cl := algorithmv1.NewAlgorithmClient(conn)
	hc := healthpb.NewHealthClient(conn)
	switch *mode {
	case "health":
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		r, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			fail(err)
		}
		fmt.Printf("{\"status\":%q}\n", r.Status.String())
	case "execute":
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		var trailer metadata.MD
		r, err := cl.Execute(ctx, &algorithmv1.ExecuteRequest{ParamsJson: *params, Tag: *tag},
			grpc.Trailer(&trailer))
		if err != nil {
			st, _ := status.FromError(err)
			code := trailer.Get("collector-code")
			fmt.Printf("{\"error\":%q,\"code\":%q,\"message\":%q}\n", st.Code().String(),
				code, st.Message())
			os.Exit(1)
		}
		fmt.Printf("{\"id\":%d,\"tag\":%q,\"data_json\":%q}\n", r.Id, r.Tag, r.DataJson)
	case "load":
		load(context.Background(), cl, hc, *n, *c)
	default:
		fmt.Fprintln(os.Stderr, "algoclient: -mode is health, execute or load")
		os.Exit(2)
	}
}
