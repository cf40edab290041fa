package whatwg

import (
	"bytes"
	"unicode/utf8"
)

// utf8BOM is the UTF-8 byte order mark, U+FEFF.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// BodyText returns the UTF-8 bytes of the string Request.text() yields
// for body in Node.js: undici strips one leading BOM (the Fetch spec's
// "UTF-8 decode"), then decodes with a default TextDecoder, which strips
// another, replacing invalid sequences as the WHATWG decoder does.
func BodyText(body []byte) []byte {
	body = bytes.TrimPrefix(body, utf8BOM)
	body = bytes.TrimPrefix(body, utf8BOM)
	return DecodeUTF8(body)
}

// DecodeUTF8 decodes b with the WHATWG Encoding Standard's UTF-8
// decoder in replacement mode (no BOM handling) and returns the result
// re-encoded as UTF-8. Each maximal subpart of an ill-formed sequence
// becomes one U+FFFD: "F0 90 80" is one U+FFFD, where Go's decoding gives
// three, while "ED A0 80" (a surrogate) and "C0 AF" (an overlong) give one
// per byte, because their second byte is already out of range. Valid
// UTF-8 is returned as it is.
func DecodeUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	var (
		cp           rune
		needed, seen int
		lower, upper byte = 0x80, 0xbf
	)
	for i := 0; i < len(b); {
		c := b[i]
		if needed == 0 {
			i++
			switch {
			case c <= 0x7f:
				out = append(out, c)
			case 0xc2 <= c && c <= 0xdf:
				needed, cp = 1, rune(c&0x1f)
			case 0xe0 <= c && c <= 0xef:
				if c == 0xe0 {
					lower = 0xa0
				} else if c == 0xed {
					upper = 0x9f
				}
				needed, cp = 2, rune(c&0x0f)
			case 0xf0 <= c && c <= 0xf4:
				if c == 0xf0 {
					lower = 0x90
				} else if c == 0xf4 {
					upper = 0x8f
				}
				needed, cp = 3, rune(c&0x07)
			default:
				out = utf8.AppendRune(out, utf8.RuneError)
			}
			continue
		}
		if c < lower || c > upper {
			// The sequence so far is one error; c is processed again
			// (not consumed) as the start of what follows.
			cp, needed, seen, lower, upper = 0, 0, 0, 0x80, 0xbf
			out = utf8.AppendRune(out, utf8.RuneError)
			continue
		}
		i++
		lower, upper = 0x80, 0xbf
		cp = cp<<6 | rune(c&0x3f)
		if seen++; seen == needed {
			out = utf8.AppendRune(out, cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	if needed != 0 {
		out = utf8.AppendRune(out, utf8.RuneError)
	}
	return out
}
