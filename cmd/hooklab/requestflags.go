package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// schemelessHost matches the start of a URL written without a scheme: a
// host name, an IPv4 address or a bracketed IPv6 one, an optional numeric
// port, then the end or the path or query.
var schemelessHost = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:[/?]|$)`)

// The flags that say what request to sign, shared by sign, send and load:
// --url (the target) and --body or --body-file.

// parseTarget checks a URL to send to (absolute http or https, with a
// host, no user information or fragment, nothing that would break a
// request line) and returns it as it will be signed, with its host. The
// URL is kept as written but for a lower-case scheme and an empty path
// written "/", so that it is exactly the URL a receiver rebuilds from the
// request ("http://" + Host + request target). A URL written without a
// scheme, host[:port][/path] ("localhost:3000/webhook"), gets http:// as
// stripe listen --forward-to does.
func parseTarget(raw string) (signed, host string, err error) {
	if strings.ContainsAny(raw, " \t\r\n\x00") {
		return "", "", fmt.Errorf("the URL contains a space or control character; percent-encode it")
	}
	if !strings.Contains(raw, "://") {
		if !schemelessHost.MatchString(raw) {
			return "", "", fmt.Errorf("want an absolute http:// or https:// URL, or host[:port][/path] for http://")
		}
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https", u.Opaque != "":
		return "", "", fmt.Errorf("want an absolute http:// or https:// URL")
	case u.Host == "":
		return "", "", fmt.Errorf("the URL has no host")
	case u.User != nil:
		return "", "", fmt.Errorf("the URL has user information; send credentials with -header instead")
	case strings.Contains(raw, "#"):
		return "", "", fmt.Errorf("the URL has a #fragment, which is never sent")
	}
	return u.Scheme + "://" + u.Host + requestTarget(raw), u.Host, nil
}

// requestTarget returns the path and query of an absolute URL exactly as
// written in it ("/webhook?a=1"), so that "http://" + Host + target gives
// back the URL that was signed, byte for byte.
func requestTarget(rawURL string) string {
	_, rest, _ := strings.Cut(rawURL, "://")
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[i:]
	} else {
		rest = ""
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	return rest
}

// readBody returns the body from exactly one of --body and --body-file.
func readBody(stdin io.Reader, body, bodyFile stringFlag) ([]byte, error) {
	switch {
	case body.set && bodyFile.set:
		return nil, usageErrorf("give -body or -body-file, not both")
	case body.set:
		return []byte(body.value), nil
	case bodyFile.set && bodyFile.value == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, usageErrorf("-body-file: stdin: %v", err)
		}
		return b, nil
	case bodyFile.set:
		b, err := os.ReadFile(bodyFile.value)
		if err != nil {
			return nil, usageErrorf("-body-file: %v", pathError(err))
		}
		return b, nil
	}
	return nil, usageErrorf("no body: give -body TEXT, -body-file PATH or -body-file - (use -body '' for an empty one)")
}
