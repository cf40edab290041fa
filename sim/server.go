package sim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// serverTimeouts are the timeouts of an http.Server: a client gets
// readHeader to send a request's header and read to send all of it, body
// included; write bounds the time from the end of the header to the end
// of the answer; a keep-alive connection idle for idle is closed.
type serverTimeouts struct{ readHeader, read, write, idle time.Duration }

// defaultTimeouts are those of NewServer.
var defaultTimeouts = serverTimeouts{readHeader: 10 * time.Second, read: 60 * time.Second, write: 90 * time.Second, idle: 60 * time.Second}

// A Server serves an http.Handler on a TCP address, with the httptest
// lifecycle: NewServer starts it, Close stops it, URL is its base.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", no trailing slash.
	URL string
	srv *http.Server
	ln  net.Listener
}

// NewServer serves h on addr; "" means a free loopback port. The caller
// must call Close. A client gets 10 s to send a request's header and 60 s
// to send all of it, body included; an answer must be written within
// 90 s of the header; a keep-alive connection idle for 60 s is closed.
// So a client that sends a body slowly, or holds connections open and
// idle, cannot keep them forever.
func NewServer(addr string, h http.Handler) (*Server, error) {
	return newServer(addr, h, defaultTimeouts)
}

func newServer(addr string, h http.Handler, t serverTimeouts) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server and closes every connection.
func (s *Server) Close() error { return s.srv.Close() }

// ControlPath is where the control API lives: POST ControlPath with an
// EndpointSpec, DELETE ControlPath/{id}.
const ControlPath = "/endpoints"

// Handler serves in at PathPrefix and answers 404 to every other path.
// When in's Config.Log is set, the requests in does not log itself (those
// to other paths) are logged there, one line each.
func Handler(in *Ingress) http.Handler { return newHandler(in, false, "") }

// ControlHandler serves what Handler serves and, at ControlPath, the
// control API of conformance/PROTOCOL.md:
//
//	POST   /endpoints       an EndpointSpec in JSON → 201 {"id": …, "url": …}
//	DELETE /endpoints/{id}  → 204, or 404 for an unknown id
//	GET    /endpoints       → 200 {"endpoints": [ids]}
//
// When token is not empty, every request to the control API must carry
// "Authorization: Bearer <token>" (compared in constant time); any other
// is answered 401 with a WWW-Authenticate header and changes nothing.
// An empty token serves the control API to anyone who can connect: only
// for a loopback listener. The token is never logged nor echoed.
//
// The reply's url is built from the address of the listener the request
// came in on (http.LocalAddrContextKey), never from the client's Host
// header; a request without one (served other than by net/http's
// server) gets the path alone, "/hooks/<id>".
func ControlHandler(in *Ingress, token string) http.Handler { return newHandler(in, true, token) }

func newHandler(in *Ingress, control bool, token string) http.Handler {
	mux := http.NewServeMux()
	if control {
		c := &controlAPI{in: in}
		mux.HandleFunc("POST "+ControlPath, c.create)
		mux.HandleFunc("GET "+ControlPath, c.list)
		mux.HandleFunc("DELETE "+ControlPath+"/{id}", c.remove)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if in.cfg.Profile == Strict {
			writeUnknownEndpoint(w, in, r.URL.Path, "no endpoint is served at "+r.URL.Path)
			return
		}
		writeError(w, http.StatusNotFound, "unknown endpoint", "no endpoint is served at "+r.URL.Path)
	})
	var others http.Handler = mux
	if control && token != "" {
		others = requireBearer(mux, token)
	}
	// Endpoint paths go straight to the ingress: the mux would redirect
	// "/hooks" and unclean paths, and a sender that follows a redirect
	// re-POSTs to another URL.
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isIngressPath(r.URL.Path) {
			in.ServeHTTP(w, r)
			return
		}
		others.ServeHTTP(w, r)
	})
	if in.cfg.Log != nil {
		h = logRequests(h, in.cfg.Log)
	}
	return h
}

// isIngressPath reports whether path is one the Ingress serves (and logs).
func isIngressPath(path string) bool {
	return path == strings.TrimSuffix(PathPrefix, "/") || strings.HasPrefix(path, PathPrefix)
}

// requireBearer answers 401 to a request to the control API without
// "Authorization: Bearer token". Both sides are hashed before the
// constant-time comparison, so that neither the token's bytes nor its
// length show in the time taken.
func requireBearer(h http.Handler, token string) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ControlPath && !strings.HasPrefix(r.URL.Path, ControlPath+"/") {
			h.ServeHTTP(w, r)
			return
		}
		auth := r.Header.Get("Authorization")
		scheme, got, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hooklab control API"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the control API wants an Authorization: Bearer token")
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hooklab control API", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "the bearer token is not the control API's")
			return
		}
		h.ServeHTTP(w, r)
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
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{
		"id":  specs[0].ID,
		"url": listenerBase(r) + PathPrefix + specs[0].ID,
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

// listenerBase is "scheme://host:port" of the listener r came in on, or
// "" when r carries no TCP local address.
func listenerBase(r *http.Request) string {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr)
	if !ok {
		return ""
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// url.URL escapes an IPv6 zone ("%eth0" → "%25eth0").
	return (&url.URL{Scheme: scheme, Host: a.String()}).String()
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ") {
		return nil, fmt.Errorf("%s is not an http(s) URL", quoteShort(s))
	}
	return u, nil
}

// quoteShort quotes s for an error message, cut to its first 64 bytes:
// a spec value can be megabytes long.
func quoteShort(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(strings.ToValidUTF8(s[:max], "")) + fmt.Sprintf("… (%d bytes)", len(s))
}
