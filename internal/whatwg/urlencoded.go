package whatwg

import "strings"

// A Pair is one name-value pair of an application/x-www-form-urlencoded
// string, decoded.
type Pair struct {
	Name, Value string
}

// ParseURLEncoded parses s as the WHATWG URL standard's
// application/x-www-form-urlencoded parser does (what URLSearchParams
// reads): split on '&', skip empty sequences, split each on the first '=',
// turn '+' into a space, percent-decode (a '%' not followed by two hex
// digits stays as it is), then decode the bytes as UTF-8 with replacement.
// Pairs keep their order; repeated names are kept.
func ParseURLEncoded(s string) []Pair {
	var out []Pair
	for _, seq := range strings.Split(s, "&") {
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		out = append(out, Pair{Name: decodeComponent(name), Value: decodeComponent(value)})
	}
	return out
}

func decodeComponent(s string) string {
	if strings.IndexByte(s, '+') < 0 && strings.IndexByte(s, '%') < 0 {
		return string(DecodeUTF8([]byte(s)))
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(DecodeUTF8(b))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
