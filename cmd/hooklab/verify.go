package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"

	"github.com/hooklab/hooklab/signer"
)

// Defaults of hooklab verify --triggerdev, as in Trigger.dev v2's
// verifyRequestSignature.
const (
	defaultHeaderEncoding = "hex"
	defaultAlgorithm      = "sha256"
)

const verifyUsage = `Usage: hooklab verify --preset NAME --secret S [--request PATH|-] [flags]
       hooklab verify --triggerdev --header-name NAME --secret S [--request PATH|-] [flags]

Verify reads a raw HTTP/1.1 request (from --request PATH, or stdin) and
checks its signature. It prints "ok" and exits 0, or prints why not (the
signer's reason) and exits 1; --json prints {"success":true} or
{"success":false,"reason":"…"} instead. Exit 2 means bad usage or a request
that cannot be read.

For URL-bound presets (twilio, square, hubspot-v2, hubspot-v3, mandrill)
the URL is rebuilt as http://<Host><request target>; a raw request does not
say whether it came over TLS, so for an https URL give --url.

Asymmetric presets (discord, sendgrid, standard-webhooks-ed25519) take the
public key as the secret. Repeat --secret to accept any of several keys.

--triggerdev checks the request exactly as Trigger.dev v2's
verifyRequestSignature does (an HMAC of the body in one header, no
timestamp), and --json then prints exactly what it returns.

Examples:

	hooklab sign --preset github --secret s3cret --body '{"zen":"hi"}' | hooklab verify --preset github --secret s3cret
	hooklab verify --preset stripe --secret-env STRIPE_SECRET --request req.http --now 1700000000 --json
	hooklab verify --triggerdev --header-name X-Cal-Signature-256 --secret-file cal.key --request req.http --json`

func newVerifyCmd() *command {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var (
		secrets   secretFlags
		nowFlag   unixFlag
		tolerance durationFlag
		urlFlag   stringFlag
	)
	preset := fs.String("preset", "", "verify as preset `NAME` (see hooklab presets)")
	secrets.register(fs, "to verify with (the public key for asymmetric presets)")
	fs.Var(&nowFlag, "now", "check timestamps against `UNIX_SECONDS` instead of the clock")
	fs.Var(&tolerance, "tolerance", "accept timestamps within `DURATION` (such as 5m; 0 turns the check off; default the preset's)")
	fs.Var(&urlFlag, "url", "the public `URL` the request was sent to, for URL-bound presets (default http://<Host><request target>)")
	request := fs.String("request", "-", "read the request from `PATH` (- for stdin)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	maxBody := fs.Int64("max-body", signer.DefaultMaxBody, "reject bodies longer than `BYTES`")
	triggerdev := fs.Bool("triggerdev", false, "verify as Trigger.dev v2's verifyRequestSignature instead of a preset")
	headerName := fs.String("header-name", "", "with -triggerdev: the signature header `NAME`")
	headerEncoding := fs.String("header-encoding", defaultHeaderEncoding, "with -triggerdev: the signature's `ENCODING`: hex, base64, base64url or binary")
	algorithm := fs.String("algorithm", defaultAlgorithm, "with -triggerdev: the `ALGORITHM`")

	return &command{
		name:    "verify",
		summary: "verify a raw HTTP request's signature (exit 1 when it does not verify)",
		usage:   verifyUsage,
		fs:      fs,
		run: func(std *stdio) error {
			given := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
			if *triggerdev {
				for _, name := range []string{"preset", "now", "tolerance", "url", "max-body"} {
					if given[name] {
						return usageErrorf("-%s does not apply with -triggerdev", name)
					}
				}
				if *headerName == "" {
					return usageErrorf("-triggerdev needs -header-name NAME")
				}
			} else {
				for _, name := range []string{"header-name", "header-encoding", "algorithm"} {
					if given[name] {
						return usageErrorf("-%s applies only with -triggerdev", name)
					}
				}
				if *preset == "" {
					return usageErrorf("no preset: give -preset NAME (see hooklab presets) or -triggerdev")
				}
			}
			var scheme signer.Scheme
			if !*triggerdev {
				var err error
				if scheme, err = signer.Preset(*preset); err != nil {
					return usageErrorf("%v", err)
				}
			}
			keys, notes, err := secrets.keys()
			if err != nil {
				return err
			}
			if *triggerdev && len(keys) != 1 {
				return usageErrorf("-triggerdev takes one secret, not %d", len(keys))
			}
			for _, n := range notes {
				fmt.Fprintf(std.stderr, "hooklab verify: warning: %s\n", n)
			}
			r, err := readRequest(std, "verify", *request)
			if err != nil {
				return err
			}

			var res signer.VerifyResult
			if *triggerdev {
				res, err = signer.VerifyRequestSignature(r, signer.VerifyRequestSignatureParams{
					HeaderName:     *headerName,
					HeaderEncoding: *headerEncoding,
					Secret:         keys[0],
					Algorithm:      *algorithm,
				})
				if err != nil {
					return usageErrorf("%v", err)
				}
			} else {
				opts := []signer.Option{signer.MaxBody(*maxBody)}
				if nowFlag.set {
					opts = append(opts, signer.At(nowFlag.t))
				}
				if tolerance.set {
					opts = append(opts, signer.Tolerance(tolerance.d))
				}
				switch {
				case urlFlag.set:
					opts = append(opts, signer.URL(urlFlag.value))
				case scheme.NeedsURL():
					u, err := rebuildURL(r)
					if err != nil {
						return usageErrorf("%s: %v", requestName(*request), err)
					}
					opts = append(opts, signer.URL(u))
				}
				if res, err = verifyPreset(r, scheme, keys, opts); err != nil {
					return err
				}
			}

			if *asJSON {
				b, err := json.Marshal(res)
				if err != nil {
					return err
				}
				fmt.Fprintf(std.stdout, "%s\n", b)
			} else if res.Success {
				fmt.Fprintln(std.stdout, "ok")
			} else {
				fmt.Fprintln(std.stdout, res.Reason)
			}
			if !res.Success {
				return failed
			}
			return nil
		},
	}
}

// verifyPreset verifies r with a preset. A verification failure, including
// a missing (empty) secret, is a result; a key that cannot be read is a
// usage error.
func verifyPreset(r *http.Request, s signer.Scheme, keys signer.KeySet, opts []signer.Option) (signer.VerifyResult, error) {
	v, err := signer.NewVerifier(s, keys, opts...)
	if err == nil {
		err = v.VerifyRequest(r)
	} else if !errors.Is(err, signer.ErrMissingSecret) {
		return signer.VerifyResult{}, usageErrorf("%v", err)
	}
	var ve *signer.VerifyError
	switch {
	case err == nil:
		return signer.VerifyResult{Success: true}, nil
	case errors.As(err, &ve):
		return signer.VerifyResult{Reason: ve.Error()}, nil
	}
	return signer.VerifyResult{}, usageErrorf("%v", err)
}

// rebuildURL returns the URL the sender addressed: the request target if
// it is absolute, else http://<Host><request target> as written.
func rebuildURL(r *http.Request) (string, error) {
	if r.URL.IsAbs() {
		return r.RequestURI, nil
	}
	if r.Host == "" {
		return "", errors.New("no Host header to rebuild the signed URL from; give -url")
	}
	return "http://" + r.Host + r.RequestURI, nil
}
