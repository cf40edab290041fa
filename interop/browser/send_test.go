package browser

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hooklab/hooklab/signer"
)

// stripeSecret is the newest secret of examples/specs/stripe.json.
const stripeSecret = "whsec_EXAMPLE_new_endpoint_secret"

// stripeEvent is a minimal Stripe event of type typ.
func stripeEvent(typ string) string {
	return fmt.Sprintf(`{"id":"evt_browser","object":"event","type":%q,"livemode":false,"data":{"object":{"id":"obj_1"}}}`, typ)
}

// signedReq is one request to the stripe endpoint of a serve.
type signedReq struct {
	body string
	// secret signs it ("" leaves it unsigned: no Stripe-Signature header).
	secret string
	// age moves the signing clock back, for a stale timestamp.
	age time.Duration
	// header is added after signing.
	header http.Header
}

// build makes the http.Request for base's /hooks/stripe.
func (r signedReq) build(t testing.TB, base string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/hooks/stripe", strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.secret != "" {
		now := time.Now().Add(-r.age)
		err := signer.SignRequest(req, signer.Stripe(), signer.Keys(r.secret), signer.Now(func() time.Time { return now }))
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

// send sends r to base's /hooks/stripe and returns the status code.
func (r signedReq) send(t testing.TB, c *http.Client, base string) int {
	t.Helper()
	resp, err := c.Do(r.build(t, base))
	if err != nil {
		t.Fatalf("POST %s/hooks/stripe: %v", base, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode
}

// hooklabSend runs 'hooklab send' with args and fails the test when it
// exits with a code not in ok.
func hooklabSend(t *testing.T, ok []int, args ...string) string {
	t.Helper()
	if hooklabBin == "" {
		t.Fatal(buildErr)
	}
	cmd := exec.Command(hooklabBin, append([]string{"send"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, isExit := err.(*exec.ExitError); isExit {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hooklab send %s: %v", strings.Join(args, " "), err)
	}
	for _, c := range ok {
		if c == code {
			return out.String()
		}
	}
	t.Fatalf("hooklab send %s: exit %d, want one of %v\n%s", strings.Join(args, " "), code, ok, out.String())
	return ""
}
