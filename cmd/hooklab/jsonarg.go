package main

// Reading the JSON|@FILE flags of hooklab match, and errors that point at
// the offending byte: FILE:LINE:COLUMN for a file, the column inline.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hooklab/hooklab/matcher"
)

// A jsonArg is the value of a JSON|@FILE flag.
type jsonArg struct {
	flag string // the flag's name, without the dash
	file string // the file it was read from ("stdin" for @-), or "" for inline JSON
	data []byte
}

func readJSONArg(std *stdio, flagName, value string) (jsonArg, error) {
	a := jsonArg{flag: flagName}
	path, ok := strings.CutPrefix(value, "@")
	if !ok {
		a.data = []byte(value)
		return a, nil
	}
	var err error
	switch path {
	case "":
		return a, usageErrorf("-%s: @ needs a file name (@FILE, or @- for stdin)", flagName)
	case "-":
		a.file = "stdin"
		if a.data, err = io.ReadAll(std.stdin); err != nil {
			return a, usageErrorf("-%s: stdin: %v", flagName, err)
		}
	default:
		a.file = path
		if a.data, err = os.ReadFile(path); err != nil {
			return a, usageErrorf("-%s: %v", flagName, pathError(err))
		}
	}
	return a, nil
}

// errorAt is an exit-2 error about the byte at offset off of the value:
// "FILE:LINE:COL: msg" for a file, "-flag: msg (column N)" inline.
func (a jsonArg) errorAt(off int, msg string) error {
	if a.file != "" {
		line, col := lineCol(a.data, off)
		return usageErrorf("%s:%d:%d: %s", a.file, line, col, msg)
	}
	return usageErrorf("-%s: %s (%s)", a.flag, msg, inlinePos(a.data, off))
}

// filterError reports a filter that does not parse.
func (a jsonArg) filterError(err error) error {
	var pe *matcher.ParseError
	if !errors.As(err, &pe) {
		return usageErrorf("-%s: %v", a.flag, err)
	}
	if errors.Is(err, matcher.ErrInvalidJSON) {
		return a.jsonError(err)
	}
	return a.errorAt(pe.Offset, parseErrorMsg(pe))
}

// jsonError reports a payload that the matcher refused.
func (a jsonArg) jsonError(err error) error {
	if off, msg, ok := jsonSyntaxError(a.data); ok {
		return a.errorAt(off, msg)
	}
	return usageErrorf("-%s: %v", a.flag, err)
}

// parseErrorMsg is a ParseError without its "matcher: " prefix: the path
// in the filter, if any, and what is wrong there.
func parseErrorMsg(pe *matcher.ParseError) string {
	if pe.Path == "" {
		return pe.Msg
	}
	return pe.Path + ": " + pe.Msg
}

// jsonSyntaxError says where and why data is not one JSON value, as
// encoding/json sees it; ok is false if encoding/json accepts it.
func jsonSyntaxError(data []byte) (off int, msg string, ok bool) {
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	if err == nil {
		return 0, "", false
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return 0, "invalid JSON: " + err.Error(), true
	}
	off = int(se.Offset)
	// Offset counts the bytes read, the offending one included.
	if strings.HasPrefix(se.Error(), "invalid character") && off > 0 {
		off--
	}
	if strings.TrimSpace(string(data)) == "" {
		return off, "invalid JSON: empty", true
	}
	return off, "invalid JSON: " + se.Error(), true
}

// lineCol converts a byte offset into data to a 1-based line and byte
// column.
func lineCol(data []byte, off int) (line, col int) {
	off = max(0, min(off, len(data)))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - (bytes.LastIndexByte(data[:off], '\n') + 1) + 1
	return line, col
}

// inlinePos describes a byte offset into a flag's value.
func inlinePos(data []byte, off int) string {
	line, col := lineCol(data, off)
	if bytes.IndexByte(data, '\n') < 0 {
		return fmt.Sprintf("column %d", col)
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}
