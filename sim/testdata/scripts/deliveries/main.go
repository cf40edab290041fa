// Command deliveries measures how a `hooklab serve` binary delivers: it
// starts a sink, serves a spec of one endpoint whose triggers all deliver to
// that sink, sends requests at a fixed concurrency, waits until the sink has
// been quiet for a while, and prints the server's peak RSS (VmHWM), the
// connections the sink accepted, and how often each delivery (request id ×
// trigger) was processed.
//
//	go run ./sim/testdata/scripts/deliveries -hooklab ./hooklab -sink slow
//
// Sinks:
//
//	ok    answers every envelope 204 at once
//	slow  answers 5% of attempts after 12 s (processed on arrival)
//	fail  fails 20% of attempts: half are refused 503 before processing,
//	      half are processed and then answered 503
//
// A delivery is "processed" when the sink acts on it: every envelope when it
// carries no delivery id (main's ingress), and the first envelope of each
// id otherwise: a repeated id is acknowledged 2xx and counted as a retry,
// as an idempotent receiver does. Run it through run.sh to compare two
// builds on the same machine.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
)

func main() {
	bin := flag.String("hooklab", "hooklab", "the hooklab `binary` to measure")
	sinkKind := flag.String("sink", "ok", "sink behaviour: ok, slow or fail")
	n := flag.Int("n", 2000, "requests")
	c := flag.Int("c", 500, "requests in flight")
	triggers := flag.Int("triggers", 10, "triggers per request")
	quiet := flag.Duration("quiet", 15*time.Second, "stop when the sink has seen nothing for this long")
	limit := flag.Duration("limit", 5*time.Minute, "stop waiting for deliveries after this long")
	seed := flag.Uint64("seed", 1, "seed of the sink's choices")
	flag.Parse()

	s := &sink{kind: *sinkKind, rnd: rand.New(rand.NewPCG(*seed, 2)), processed: map[string]int{}, ids: map[string]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: s, ConnState: func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}}
	go srv.Serve(ln)
	defer srv.Close()

	dir, err := os.MkdirTemp("", "deliveries")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var ts []map[string]string
	for i := range *triggers {
		ts = append(ts, map[string]string{"id": fmt.Sprintf("t%d", i), "deliver": "http://" + ln.Addr().String() + "/d"})
	}
	spec, _ := json.Marshal([]any{map[string]any{"id": "ep", "triggers": ts}})
	specFile := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(specFile, spec, 0o600); err != nil {
		log.Fatal(err)
	}

	cmd := exec.Command(*bin, "serve", "--spec", specFile, "--addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatalf("reading the start line: %v", err)
	}
	go io.Copy(io.Discard, out)
	base, _, _ := strings.Cut(strings.TrimPrefix(line, "hooklab serve: listening on "), ";")
	hwmBefore := vmHWM(cmd.Process.Pid)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c}, Timeout: 5 * time.Minute}
	start := time.Now()
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				req, _ := http.NewRequest(http.MethodPost, base+"/hooks/ep", bytes.NewReader([]byte(`{"n":`+fmt.Sprint(i)+`,"pad":"`+strings.Repeat("x", 512)+`"}`)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Hooklab-Request-Id", fmt.Sprintf("req-%d", i))
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	for {
		time.Sleep(time.Second)
		last := time.Unix(0, s.last.Load())
		if time.Since(last) > *quiet || time.Since(start) > *limit {
			break
		}
	}
	hwm := vmHWM(cmd.Process.Pid)

	s.mu.Lock()
	defer s.mu.Unlock()
	hist := map[int]int{}
	for _, k := range s.processed {
		hist[k]++
	}
	never := *n**triggers - len(s.processed)
	fmt.Printf("sink=%s requests=%d failed=%d sent_in=%s rss_start_kb=%d rss_peak_kb=%d sink_conns=%d envelopes=%d retries_by_id=%d once=%d twice=%d thrice=%d more=%d never=%d\n",
		*sinkKind, *n, failed.Load(), sent.Round(time.Millisecond), hwmBefore, hwm, s.conns.Load(), s.envelopes, s.retries,
		hist[1], hist[2], hist[3], more(hist), never)
}

func more(h map[int]int) int {
	n := 0
	for k, v := range h {
		if k > 3 {
			n += v
		}
	}
	return n
}

// vmHWM returns a process's peak resident set size in kB.
func vmHWM(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return -1
}

type sink struct {
	kind  string
	conns atomic.Int64
	last  atomic.Int64 // unix nanos of the last envelope

	mu        sync.Mutex
	rnd       *rand.Rand
	processed map[string]int // request id/trigger → times processed
	ids       map[string]bool
	envelopes int
	retries   int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	s.last.Store(time.Now().UnixNano())
	if err != nil {
		return
	}
	s.mu.Lock()
	s.envelopes++
	x := s.rnd.Float64()
	s.mu.Unlock()
	switch {
	case s.kind == "slow" && x < 0.05:
		s.process(body)
		time.Sleep(12 * time.Second)
	case s.kind == "fail" && x < 0.10:
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case s.kind == "fail" && x < 0.20:
		s.process(body)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	default:
		s.process(body)
	}
	s.last.Store(time.Now().UnixNano())
	w.WriteHeader(http.StatusNoContent)
}

// process acts on an envelope unless its delivery id was processed before.
func (s *sink) process(body []byte) {
	id := gjson.GetBytes(body, "id").String()
	key := gjson.GetBytes(body, `request.headers.Hooklab-Request-Id.0`).String() + "/" + gjson.GetBytes(body, "trigger").String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" {
		if s.ids[id] {
			s.retries++
			return
		}
		s.ids[id] = true
	}
	s.processed[key]++
}
