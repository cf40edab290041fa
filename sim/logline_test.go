package sim_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim"
)

// logAt is the time of the records these tests log.
var logAt = time.Date(2025, 1, 2, 15, 4, 5, 678_000_000, time.UTC)

// logLine formats one record through NewLogHandler, after with (if set).
func logLine(t *testing.T, level slog.Level, msg string, attrs []slog.Attr, with func(slog.Handler) slog.Handler) string {
	t.Helper()
	var b bytes.Buffer
	h := sim.NewLogHandler(&b)
	if with != nil {
		h = with(h)
	}
	r := slog.NewRecord(logAt, level, msg, 0)
	r.AddAttrs(attrs...)
	require.NoError(t, h.Handle(context.Background(), r), "Handle")
	return b.String()
}

// secretValuer is a LogValuer that resolves to a masked value.
type secretValuer struct{}

func (secretValuer) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// TestLogHandlerFormat checks the line format: the time to the
// millisecond, the level unless INFO, the message, then key=value
// attributes, quoted when needed, empty ones left out.
func TestLogHandlerFormat(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level slog.Level
		msg   string
		attrs []slog.Attr
		with  func(slog.Handler) slog.Handler
		want  string
	}{
		{
			name: "RequestLine", level: slog.LevelInfo, msg: "POST /hooks/github",
			attrs: []slog.Attr{slog.Int("status", 200), slog.String("note", "triggered 2"), slog.Duration("took", 1500*time.Microsecond)},
			want:  `15:04:05.678 POST /hooks/github status=200 note="triggered 2" took=1.5ms` + "\n",
		},
		{
			name: "WarningWithAnError", level: slog.LevelWarn, msg: "delivery failed",
			attrs: []slog.Attr{slog.String("trigger", "all"), slog.Any("err", errors.New(`POST "x": refused`))},
			want:  `15:04:05.678 WARN delivery failed trigger=all err="POST \"x\": refused"` + "\n",
		},
		{
			name: "EmptyValueLeftOut", level: slog.LevelInfo, msg: "GET /",
			attrs: []slog.Attr{slog.String("note", ""), slog.Int("status", 404)},
			want:  "15:04:05.678 GET / status=404\n",
		},
		{
			name: "PrintableUnicodePlain", level: slog.LevelInfo, msg: "GET /café",
			attrs: []slog.Attr{slog.String("note", "ünïcödé")},
			want:  "15:04:05.678 GET /café note=ünïcödé\n",
		},
		{
			name: "WithAttrsAndWithGroup", level: slog.LevelInfo, msg: "m",
			attrs: []slog.Attr{slog.Int("n", 1), slog.Group("g", slog.String("k", "v"))},
			with: func(h slog.Handler) slog.Handler {
				return h.WithAttrs([]slog.Attr{slog.String("ep", "a b")}).WithGroup("req")
			},
			want: `15:04:05.678 m ep="a b" req.n=1 req.g.k=v` + "\n",
		},
		{
			name: "LogValuerResolved", level: slog.LevelInfo, msg: "m",
			attrs: []slog.Attr{slog.Any("secret", secretValuer{})},
			want:  "15:04:05.678 m secret=[redacted]\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := logLine(t, tc.level, tc.msg, tc.attrs, tc.with)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.False(t, sim.NewLogHandler(nil).Enabled(context.Background(), slog.LevelDebug), "Enabled(DEBUG) = true, want false")
}

// TestLogHandlerEscapesHostileInput checks that no message, key or value
// can start a second line, forge a field or reach the terminal: a request
// path with %0a, %1b[31m, a quote, "=", a bidi override or invalid UTF-8
// is written quoted and escaped.
func TestLogHandlerEscapesHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msg   string
		attrs []slog.Attr
		want  string
	}{
		{
			name: "NewlineInMessageForgesNoLine",
			msg:  "GET /x\n15:04:05.678 POST /hooks/admin status=200",
			want: `15:04:05.678 "GET /x\n15:04:05.678 POST /hooks/admin status=200"` + "\n",
		},
		{
			name: "CarriageReturnInMessage",
			msg:  "GET /x\rforged",
			want: `15:04:05.678 "GET /x\rforged"` + "\n",
		},
		{
			name:  "EscapeSequenceInMessage",
			msg:   "GET /\x1b[31mred\x1b[0m",
			attrs: []slog.Attr{slog.Int("status", 404)},
			want:  `15:04:05.678 "GET /\x1b[31mred\x1b[0m" status=404` + "\n",
		},
		{
			name:  "FieldForgedInMessage",
			msg:   "GET /x status=200",
			attrs: []slog.Attr{slog.Int("status", 404)},
			want:  `15:04:05.678 "GET /x status=200" status=404` + "\n",
		},
		{
			name: "QuoteInMessage",
			msg:  `GET /"x`,
			want: `15:04:05.678 "GET /\"x"` + "\n",
		},
		{
			name: "TabInMessage",
			msg:  "GET /a\tb",
			want: `15:04:05.678 "GET /a\tb"` + "\n",
		},
		{
			name: "BidiOverrideInMessage",
			msg:  "GET /\u202egpj.exe",
			want: `15:04:05.678 "GET /\u202egpj.exe"` + "\n",
		},
		{
			name: "InvalidUTF8InMessage",
			msg:  "GET /\xff\xfe",
			want: `15:04:05.678 "GET /\xff\xfe"` + "\n",
		},
		{
			name:  "EmptyMessage",
			msg:   "",
			attrs: []slog.Attr{slog.Int("n", 1)},
			want:  `15:04:05.678 "" n=1` + "\n",
		},
		{
			name:  "NewlineInValue",
			msg:   "m",
			attrs: []slog.Attr{slog.String("note", "a\nb")},
			want:  `15:04:05.678 m note="a\nb"` + "\n",
		},
		{
			name:  "EscapeSequenceInValue",
			msg:   "m",
			attrs: []slog.Attr{slog.String("note", "\x1b]0;title\a")},
			want:  `15:04:05.678 m note="\x1b]0;title\a"` + "\n",
		},
		{
			name:  "FieldForgedInValue",
			msg:   "m",
			attrs: []slog.Attr{slog.String("note", "x status=200")},
			want:  `15:04:05.678 m note="x status=200"` + "\n",
		},
		{
			name:  "EqualsInValue",
			msg:   "m",
			attrs: []slog.Attr{slog.String("note", "a=b")},
			want:  `15:04:05.678 m note="a=b"` + "\n",
		},
		{
			name:  "InvalidUTF8InValue",
			msg:   "m",
			attrs: []slog.Attr{slog.String("note", "\xc3\x28")},
			want:  `15:04:05.678 m note="\xc3("` + "\n",
		},
		{
			name:  "HostileKey",
			msg:   "m",
			attrs: []slog.Attr{slog.String("a\nb=c d", "v")},
			want:  `15:04:05.678 m "a\nb=c d"=v` + "\n",
		},
		{
			name:  "EmptyKey",
			msg:   "m",
			attrs: []slog.Attr{slog.String("", "v")},
			want:  `15:04:05.678 m ""=v` + "\n",
		},
		{
			name:  "ErrorWithNewline",
			msg:   "delivery failed",
			attrs: []slog.Attr{slog.Any("err", errors.New("POST x:\nforged"))},
			want:  `15:04:05.678 delivery failed err="POST x:\nforged"` + "\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := logLine(t, slog.LevelInfo, tc.msg, tc.attrs, nil)
			assert.Equal(t, tc.want, got)
			assertOneSafeLine(t, got)
		})
	}
}

// assertOneSafeLine fails unless line is one line, ended by its only
// newline, of printable runes in valid UTF-8.
func assertOneSafeLine(t *testing.T, line string) {
	t.Helper()
	body, ok := strings.CutSuffix(line, "\n")
	if !ok || strings.Contains(body, "\n") {
		t.Errorf("log output %q is not exactly one line", line)
	}
	if !utf8.ValidString(body) {
		t.Errorf("log output %q is not valid UTF-8", line)
	}
	for _, r := range body {
		if !unicode.IsPrint(r) {
			t.Errorf("log output %q holds non-printable rune %U", line, r)
			break
		}
	}
}

// FuzzLogHandler checks that any message, key and value make one line of
// printable runes.
func FuzzLogHandler(f *testing.F) {
	f.Add("GET /x\n12:00:00.000 forged", "note", "a\x1b[31m")
	f.Add("GET /\xff", "k=v", "x y")
	f.Add("", "", "")
	f.Add("GET /\u2028", "\u202e", "\"")
	f.Fuzz(func(t *testing.T, msg, key, value string) {
		var b bytes.Buffer
		h := sim.NewLogHandler(&b).WithAttrs([]slog.Attr{slog.String(key, value)}).WithGroup(key)
		r := slog.NewRecord(logAt, slog.LevelWarn, msg, 0)
		r.AddAttrs(slog.String(key, value), slog.Any(key, errors.New(value)))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatalf("Handle = %v, want nil", err)
		}
		assertOneSafeLine(t, b.String())
	})
}

// BenchmarkLogHandler logs a request line through NewLogHandler and,
// for scale, slog's TextHandler, which quotes the same way; "Hostile" is
// a path that must be escaped.
func BenchmarkLogHandler(b *testing.B) {
	for _, path := range []struct{ name, path string }{
		{"Plain", "/hooks/orders"},
		{"Hostile", "/hooks/x\n12:00:00.000 POST /hooks/admin\x1b[31m"},
	} {
		for _, h := range []struct {
			name string
			h    slog.Handler
		}{
			{"NewLogHandler", sim.NewLogHandler(io.Discard)},
			{"TextHandler", slog.NewTextHandler(io.Discard, nil)},
		} {
			b.Run(path.name+"/"+h.name, func(b *testing.B) {
				log := slog.New(h.h)
				for b.Loop() {
					log.Info("POST "+path.path, "status", 200, "note", "triggered 2", "took", 1500*time.Microsecond)
				}
			})
		}
	}
}
