package whatwg

import (
	"testing"
	"unicode/utf8"
)

func TestDecodeUTF8ReplacesEachMaximalSubpartOnce(t *testing.T) {
	const r = "\uFFFD"
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"Valid", "héllo ☃ 😀", "héllo ☃ 😀"},
		{"LoneContinuation", "a\x80b", "a" + r + "b"},
		{"TruncatedFourByte", "\xf0\x90\x80", r},
		{"TruncatedFourByteThenASCII", "\xf0\x90\x80a", r + "a"},
		{"SurrogateIsOnePerByte", "\xed\xa0\x80", r + r + r},
		{"OverlongIsOnePerByte", "\xc0\xaf", r + r},
		{"InvalidLeadBytes", "\xff\xfe", r + r},
		{"TruncatedAtEnd", "ab\xe2\x82", "ab" + r},
		{"AboveMaxCodePoint", "\xf4\x90\x80\x80", r + r + r + r},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(DecodeUTF8([]byte(c.in))); got != c.want {
				t.Errorf("DecodeUTF8(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestBodyTextDropsUpToTwoBOMs(t *testing.T) {
	bom := "\xef\xbb\xbf"
	for in, want := range map[string]string{"x": "x", bom + "x": "x", bom + bom + "x": "x", bom + bom + bom + "x": "\uFEFFx"} {
		if got := string(BodyText([]byte(in))); got != want {
			t.Errorf("BodyText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseURLEncodedLikeURLSearchParams(t *testing.T) {
	cases := []struct {
		in   string
		want []Pair
	}{
		{"a=1&b=2", []Pair{{"a", "1"}, {"b", "2"}}},
		{"a=1&a=2", []Pair{{"a", "1"}, {"a", "2"}}},
		{"q=a+b&r=a%20b", []Pair{{"q", "a b"}, {"r", "a b"}}},
		{"&&a&=x&b=", []Pair{{"a", ""}, {"", "x"}, {"b", ""}}},
		{"k=%zz%4", []Pair{{"k", "%zz%4"}}},
		{"k=%ff", []Pair{{"k", "\uFFFD"}}},
		{"k=a=b", []Pair{{"k", "a=b"}}},
		{"hub%2Emode=sub%73cribe", []Pair{{"hub.mode", "subscribe"}}},
	}
	for _, c := range cases {
		got := ParseURLEncoded(c.in)
		if len(got) != len(c.want) {
			t.Errorf("ParseURLEncoded(%q) = %q, want %q", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("ParseURLEncoded(%q) = %q, want %q", c.in, got, c.want)
				break
			}
		}
	}
}

func FuzzDecodeUTF8(f *testing.F) {
	f.Add([]byte("\xf0\x90\x80a\xed\xa0\x80"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := DecodeUTF8(b)
		if !utf8.Valid(out) {
			t.Fatalf("DecodeUTF8(%q) = %q is not valid UTF-8", b, out)
		}
	})
}
