package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A Server serves an http.Handler on a TCP address, with the httptest
// lifecycle: NewServer starts it, Close stops it, URL is its base.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", no trailing slash.
	URL string
	srv *http.Server
	ln  net.Listener
}

// NewServer serves h on addr; "" means a free loopback port.
func NewServer(addr string, h http.Handler) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln}
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and closes every connection.
func (s *Server) Close() error { return s.srv.Close() }

// ControlPath is where the control API lives: POST ControlPath with an
// EndpointSpec, DELETE ControlPath/{id}.
const ControlPath = "/endpoints"

// Handler serves in at PathPrefix and, when control is true, the control
// API of conformance/PROTOCOL.md at ControlPath:
//
//	POST   /endpoints       an EndpointSpec in JSON → 201 {"id": …, "url": …}
//	DELETE /endpoints/{id}  → 204, or 404 for an unknown id
//	GET    /endpoints       → 200 {"endpoints": [ids]}
func Handler(in *Ingress, control bool) http.Handler {
	mux := http.NewServeMux()
	if control {
		c := &controlAPI{in: in}
		mux.HandleFunc("POST "+ControlPath, c.create)
		mux.HandleFunc("GET "+ControlPath, c.list)
		mux.HandleFunc("DELETE "+ControlPath+"/{id}", c.remove)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "unknown endpoint", "no endpoint is served at "+r.URL.Path)
	})
	// Endpoint paths go straight to the ingress: the mux would redirect
	// "/hooks" and unclean paths, and a sender that follows a redirect
	// re-POSTs to another URL.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(PathPrefix, "/") || strings.HasPrefix(r.URL.Path, PathPrefix) {
			in.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type controlAPI struct{ in *Ingress }

// DefaultMaxSpec is the largest spec the control API reads.
const DefaultMaxSpec = 1 << 20

func (c *controlAPI) create(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, DefaultMaxSpec+1))
	if err != nil || len(b) > DefaultMaxSpec {
		writeError(w, http.StatusBadRequest, "reading the spec failed", fmt.Sprintf("want at most %d bytes of JSON", DefaultMaxSpec))
		return
	}
	specs, err := ParseSpecs("request body", b)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid spec", err.Error())
		return
	}
	if len(specs) != 1 {
		writeError(w, http.StatusBadRequest, "invalid spec", fmt.Sprintf("want one endpoint, got %d", len(specs)))
		return
	}
	if err := c.in.Add(specs[0]); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrEndpointExists) {
			status = http.StatusConflict
		}
		writeError(w, status, "invalid spec", strings.TrimPrefix(err.Error(), "sim: "))
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{
		"id":  specs[0].ID,
		"url": scheme + "://" + r.Host + PathPrefix + specs[0].ID,
	})
}

func (c *controlAPI) remove(w http.ResponseWriter, r *http.Request) {
	if !c.in.Remove(r.PathValue("id")) {
		writeError(w, http.StatusNotFound, "unknown endpoint", fmt.Sprintf("no endpoint %q", r.PathValue("id")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *controlAPI) list(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string][]string{"endpoints": c.in.Endpoints()})
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ") {
		return nil, fmt.Errorf("%q is not an http(s) URL", s)
	}
	return u, nil
}
