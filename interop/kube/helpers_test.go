package kube

import (
	"fmt"
	"strconv"
	"strings"
)

// shellWords splits a POSIX shell command line into words, enough for the
// recipe's scripts: blanks separate words, quotes group and are removed,
// and a backslash outside single quotes escapes the next byte. It does no
// expansion, so $(NAME) stays as it is.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '\'':
			cur.WriteByte(c)
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case quote == '"':
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// flagValue returns the word after flag in words.
func flagValue(words []string, flag string) (string, bool) {
	for i, w := range words {
		if w == flag && i+1 < len(words) {
			return words[i+1], true
		}
	}
	return "", false
}

// lastN is the last n words of words.
func lastN(words []string, n int) []string { return words[max(0, len(words)-n):] }

// ptrString prints what p points to, or "unset".
func ptrString[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// containsAll reports whether s contains every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
