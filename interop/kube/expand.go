package kube

import "strings"

// Expand returns input with every $(NAME) replaced as the kubelet replaces
// it in a container's command, args and env values: $(NAME) becomes
// lookup(NAME)'s value when lookup knows NAME, and stays $(NAME) verbatim
// when it does not; $$ becomes a single $ (so $$(NAME) is the literal
// $(NAME)); a $ before any other byte, or a $( never closed, is kept as it
// is. Nothing else is special: quotes, ${NAME} and $NAME pass through, for
// a shell to expand later. It follows
// k8s.io/kubernetes third_party/forked/golang/expansion (Expand), the
// rules https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/#use-environment-variables-to-define-arguments
// describes.
func Expand(input string, lookup func(name string) (string, bool)) string {
	var b strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(input); cursor++ {
		if input[cursor] != '$' || cursor+1 >= len(input) {
			continue
		}
		b.WriteString(input[checkpoint:cursor])
		read, isVar, advance := readVariable(input[cursor+1:])
		if isVar {
			if v, ok := lookup(read); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + read + ")")
			}
		} else {
			b.WriteString(read)
		}
		cursor += advance
		checkpoint = cursor + 1
	}
	return b.String() + input[checkpoint:]
}

// readVariable reads what follows a $: the name of $(NAME) (isVar), or the
// text to write instead (an escaped $, or the $ and the byte after it),
// and how many bytes it consumed after the $.
func readVariable(s string) (read string, isVar bool, advance int) {
	switch s[0] {
	case '$':
		return "$", false, 1
	case '(':
		if end := strings.IndexByte(s[1:], ')'); end >= 0 {
			return s[1 : end+1], true, end + 2
		}
		// An unclosed $( is written as it is; the rest follows verbatim.
		return "$(", false, 1
	default:
		return "$" + s[:1], false, 1
	}
}

// Lookup returns a lookup function for Expand over env, such as a
// container's resolved environment.
func Lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}
