package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// This file holds the small flag.Value types the subcommands share, and
// pathError for the flags that name a file. The secret and header flags
// have files of their own (secretflags.go, headerflags.go).

// pathError shortens an *os.PathError to "path: reason" (the operation is
// noise for a user).
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// stringFlag is a string flag that records whether it was given, so that
// an explicitly empty body differs from none.
type stringFlag struct {
	value string
	set   bool
}

func (f *stringFlag) String() string {
	if f == nil {
		return ""
	}
	return f.value
}

func (f *stringFlag) Set(s string) error {
	f.value, f.set = s, true
	return nil
}

// unixFlag is a time given as decimal Unix seconds.
type unixFlag struct {
	t   time.Time
	set bool
}

func (f *unixFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatInt(f.t.Unix(), 10)
}

func (f *unixFlag) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return errors.New("want Unix seconds (a non-negative integer)")
	}
	f.t, f.set = time.Unix(n, 0).UTC(), true
	return nil
}

// durationFlag is a non-negative Go duration ("5m", "90s", "0") that
// records whether it was given.
type durationFlag struct {
	d   time.Duration
	set bool
}

func (f *durationFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.d.String()
}

func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 {
		return errors.New(`want a non-negative duration such as 5m, 90s or 0`)
	}
	f.d, f.set = d, true
	return nil
}

// choiceFlag is a string flag limited to a few values.
type choiceFlag struct {
	value   string
	choices []string
}

func (f *choiceFlag) String() string {
	if f == nil {
		return ""
	}
	return f.value
}

func (f *choiceFlag) Set(s string) error {
	for _, c := range f.choices {
		if s == c {
			f.value = s
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(f.choices, ", "))
}
