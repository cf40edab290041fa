package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// A Writer adds recordings to a directory, numbering them from one past
// the highest sequence number already there, so that a second run
// appends. It is safe for concurrent use.
type Writer struct {
	dir string
	mu  sync.Mutex
	seq int
}

// NewWriter returns a Writer for dir, creating it (mode 0700: recordings
// hold signatures and sometimes tokens) when it does not exist.
func NewWriter(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	w := &Writer{dir: dir}
	for _, e := range entries {
		if n, ok := seqOf(e.Name()); ok && n > w.seq {
			w.seq = n
		}
	}
	return w, nil
}

// Dir returns the directory w writes to.
func (w *Writer) Dir() string { return w.dir }

// Write stores rec as the next request: rec.Meta.Seq is set, the .http
// file is written, then the sidecar. rec.Path is set to the .http file,
// which Write returns. Files are created exclusively (mode 0600), so two
// writers on one directory fail instead of overwriting each other.
func (w *Writer) Write(rec *Recording) (string, error) {
	if len(rec.Body) > MaxBody {
		return "", fmt.Errorf("record: body of %d bytes is larger than %d", len(rec.Body), MaxBody)
	}
	w.mu.Lock()
	w.seq++
	seq := w.seq
	w.mu.Unlock()
	rec.Meta.Seq = seq
	base := filepath.Join(w.dir, seqName(seq))
	if err := writeNew(base+".http", rec.MarshalHTTP()); err != nil {
		return "", err
	}
	side, err := json.MarshalIndent(rec.Meta, "", "  ")
	if err != nil {
		return "", err
	}
	if err := writeNew(base+".json", append(side, '\n')); err != nil {
		return "", err
	}
	rec.Path = base + ".http"
	return rec.Path, nil
}

func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// MaxDir is the most recordings ReadDir reads from one directory.
const MaxDir = 100_000

// ReadDir reads every recording in dir (files named NNNNNN.http, with
// their sidecars), in sequence order. Other files are ignored. A
// directory with more than MaxDir recordings is an error.
func ReadDir(dir string) ([]*Recording, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type numbered struct {
		seq  int
		name string
	}
	var files []numbered
	for _, e := range entries {
		if n, ok := seqOf(e.Name()); ok && e.Type().IsRegular() {
			files = append(files, numbered{n, e.Name()})
		}
	}
	if len(files) > MaxDir {
		return nil, fmt.Errorf("%s: %d recordings, more than %d", dir, len(files), MaxDir)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrEmpty)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].seq < files[j].seq })
	recs := make([]*Recording, 0, len(files))
	for _, f := range files {
		rec, err := ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		if rec.Meta.Seq == 0 {
			rec.Meta.Seq = f.seq
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// ErrEmpty is wrapped by ReadDir's error for a directory that holds no
// recording.
var ErrEmpty = errors.New("no recordings (files named NNNNNN.http)")
