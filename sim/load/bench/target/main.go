// Command target is the minimal local HTTP target that compare.sh drives:
// it reads every request's body, answers 200 with the JSON body {}, and
// does nothing else, so that a load test measures the load generator and
// not the server.
//
// It listens on -addr (default 127.0.0.1:0, a free loopback port) and,
// once it accepts connections, prints its base URL ("http://HOST:PORT")
// as one line on stdout. It runs until SIGINT or SIGTERM. -delay makes it
// wait that long before answering, to hold many requests in flight.
//
//	go run ./sim/load/bench/target -addr 127.0.0.1:0
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// answer is the body of every response.
var answer = []byte("{}")

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen on `HOST:PORT`; port 0 picks a free port")
	delay := flag.Duration("delay", 0, "wait `DURATION` after reading a body before answering")
	flag.Parse()
	if err := run(*addr, *delay); err != nil {
		fmt.Fprintln(os.Stderr, "target:", err)
		os.Exit(1)
	}
}

func run(addr string, delay time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	// Every timeout is set, so that no client holds a connection forever;
	// the write timeout leaves room for the answer's delay.
	srv := &http.Server{
		Handler:           handler(delay),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      delay + 60*time.Second,
		IdleTimeout:       60 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if _, err := fmt.Println("http://" + ln.Addr().String()); err != nil {
		return fmt.Errorf("printing the address: %w", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-sig:
		return srv.Close()
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	}
}

// handler reads the whole body, waits delay and answers 200 {}.
func handler(delay time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if delay > 0 {
			time.Sleep(delay)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		w.Write(answer)
	}
}
