package fault_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hooklab/hooklab/signer"
)

func mustKey(t *testing.T) signer.Secret {
	t.Helper()
	return signer.Keys("fault-test-secret")[0]
}

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, "http://example.test"+path, strings.NewReader(`{}`)))
	return w
}
