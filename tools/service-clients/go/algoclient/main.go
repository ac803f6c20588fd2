// algoclient: a Go client of collector.algorithm.v1 (docs/service.md), as the seed's
// management system would drive the runner: health, one call, and a load mode that
// measures unary latency, throughput and HealthCheck latency under that load, and a frames
// mode that runs camera streams through leased shared-memory slots or inline bytes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"syscall"
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
	go prober(ctx, hc, &mu, &health, done)
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

// prober checks health every 10 ms until done is closed, appending each latency to *health.
func prober(ctx context.Context, hc healthpb.HealthClient, mu *sync.Mutex, health *[]time.Duration,
	done chan struct{}) {
	for {
		select {
		case <-done:
			return
		default:
		}
		t0 := time.Now()
		if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
			mu.Lock()
			*health = append(*health, time.Since(t0))
			mu.Unlock()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pools maps the runner's shm objects (one per pool) into this process, once each.
type pools struct {
	mu   sync.Mutex
	maps map[string][]byte
}

func (p *pools) get(name string) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m, ok := p.maps[name]; ok {
		return m, nil
	}
	f, err := os.OpenFile("/dev/shm"+name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	p.maps[name] = m
	return m, nil
}

// frameTotals are every stream's counts, added up.
type frameTotals struct {
	mu                                  sync.Mutex
	sent, answered, ok, dropped, failed int
	leaseFailed, streamErrors           int
	firstError                          string
	lat                                 []time.Duration
}

func (t *frameTotals) fail(what string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.streamErrors++
	if t.firstError == "" {
		st, _ := status.FromError(err)
		t.firstError = what + ": " + st.Code().String() + ": " + st.Message()
	}
}

// stream is one camera: fps frames a second for dur, each written into a leased slot (slots)
// or sent inline, and every result matched to its frame's send time.
func stream(ctx context.Context, cl algorithmv1.AlgorithmClient, pl *pools, t *frameTotals, id int,
	fps int, dur time.Duration, slots bool, pixels []byte, w, h int) {
	s, err := cl.StreamFrames(ctx)
	if err != nil {
		t.fail("StreamFrames", err)
		return
	}
	var mu sync.Mutex
	sentAt := map[uint64]time.Time{}
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		for {
			r, err := s.Recv()
			if err != nil {
				if err != io.EOF {
					t.fail("Recv", err)
				}
				return
			}
			mu.Lock()
			t0, known := sentAt[r.FrameId]
			delete(sentAt, r.FrameId)
			mu.Unlock()
			t.mu.Lock()
			t.answered++
			switch {
			case r.Result.GetOutcome() == "dropped":
				t.dropped++
			case r.Result.GetOutcome() == "ok" && known:
				t.ok++
				t.lat = append(t.lat, time.Since(t0))
			default:
				t.failed++
			}
			t.mu.Unlock()
		}
	}()
	source := fmt.Sprintf("bench-cam-%d", id)
	tick := time.NewTicker(time.Second / time.Duration(fps))
	defer tick.Stop()
	end := time.Now().Add(dur)
	for fid := uint64(0); time.Now().Before(end); fid++ {
		<-tick.C
		img := &algorithmv1.Image{Width: int32(w), Height: int32(h), Channels: 3,
			Stride: int32(w * 3), Format: "rgb8"}
		if slots {
			r, err := cl.LeaseSlot(ctx, &algorithmv1.LeaseSlotRequest{Count: 1})
			if err != nil || len(r.Slots) != 1 {
				t.mu.Lock()
				t.leaseFailed++
				t.mu.Unlock()
				continue
			}
			sl := r.Slots[0]
			m, err := pl.get(sl.ShmName)
			if err != nil || sl.Offset+uint64(len(pixels)) > uint64(len(m)) {
				t.fail("mmap "+sl.ShmName, err)
				break
			}
			copy(m[sl.Offset:], pixels)
			img.Pixels = &algorithmv1.Image_Slot{Slot: &algorithmv1.SlotRef{Slot: sl.Slot, Lease: sl.Lease}}
			img.Size = uint64(len(pixels))
		} else {
			img.Pixels = &algorithmv1.Image_Data{Data: pixels}
		}
		mu.Lock()
		sentAt[fid] = time.Now()
		mu.Unlock()
		if err := s.Send(&algorithmv1.Frame{Source: source, FrameId: fid, Image: img,
			MaxPending: 8}); err != nil {
			t.fail("Send", err)
			break
		}
		t.mu.Lock()
		t.sent++
		t.mu.Unlock()
	}
	s.CloseSend()
	select {
	case <-recvDone:
	case <-time.After(30 * time.Second):
		t.fail("Recv", fmt.Errorf("no end of stream 30 s after the last frame"))
	}
}

// frames runs n camera streams at once with a health prober beside them.
func frames(ctx context.Context, cl algorithmv1.AlgorithmClient, hc healthpb.HealthClient, n,
	fps int, dur time.Duration, slots bool, w, h int) {
	var t frameTotals
	var hmu sync.Mutex
	var health []time.Duration
	pl := &pools{maps: map[string][]byte{}}
	pixels := make([]byte, w*h*3)
	for i := range pixels {
		pixels[i] = byte(i)
	}
	done := make(chan struct{})
	go prober(ctx, hc, &hmu, &health, done)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			stream(ctx, cl, pl, &t, id, fps, dur, slots, pixels, w, h)
		}(i)
	}
	wg.Wait()
	close(done)
	hmu.Lock()
	defer hmu.Unlock()
	out := map[string]interface{}{
		"streams": n, "fps": fps, "seconds": dur.Seconds(), "slots": slots,
		"due":  int(float64(n*fps) * dur.Seconds()), // what the schedule asked; sent < due: the client fell behind
		"sent": t.sent, "answered": t.answered, "ok": t.ok, "dropped": t.dropped,
		"failed": t.failed, "lost": t.sent - t.answered, "lease_failed": t.leaseFailed,
		"stream_errors": t.streamErrors, "first_error": t.firstError,
		"result_samples": len(t.lat), "result_p50_us": pct(t.lat, 50), "result_p99_us": pct(t.lat, 99),
		"health_checks": len(health), "health_p99_us": pct(health, 99),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func main() {
	target := flag.String("target", "127.0.0.1:50051", "unix:/path or host:port")
	mode := flag.String("mode", "execute", "health, execute, load or frames")
	params := flag.String("params", "{}", "execute: params JSON")
	tag := flag.String("tag", "", "execute: the caller's tag")
	n := flag.Int("n", 10000, "load: calls")
	c := flag.Int("c", 64, "load: concurrent calls")
	streams := flag.Int("streams", 50, "frames: camera streams")
	fps := flag.Int("fps", 10, "frames: frames per second per stream")
	dur := flag.Duration("duration", 60*time.Second, "frames: how long each stream sends")
	slots := flag.Bool("slots", true, "frames: leased shm slots (false: inline bytes)")
	width := flag.Int("width", 1920, "frames: RGB frame width")
	height := flag.Int("height", 1080, "frames: RGB frame height")
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
	case "frames":
		frames(context.Background(), cl, hc, *streams, *fps, *dur, *slots, *width, *height)
	default:
		fmt.Fprintln(os.Stderr, "algoclient: -mode is health, execute, load or frames")
		os.Exit(2)
	}
}
