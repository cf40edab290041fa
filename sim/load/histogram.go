package load

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram bounds: durations are recorded in microseconds from 1 µs to
// one hour with three significant digits, in constant memory (about 190
// KiB) however many values are recorded. Longer values count as the
// maximum.
const (
	histMin     = 1
	histMax     = int64(time.Hour / time.Microsecond)
	histSigFigs = 3
)

// A Histogram records durations: an HDR histogram (hdrhistogram-go), so
// that percentiles are exact to 0.1% and two histograms merge exactly.
// It is not safe for concurrent use. The zero value is not usable: call
// NewHistogram.
type Histogram struct {
	h *hdr.Histogram
}

// NewHistogram returns an empty Histogram.
func NewHistogram() *Histogram { return &Histogram{h: hdr.New(histMin, histMax, histSigFigs)} }

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
	}
	h.h.RecordValue(us)
}

// Count returns how many durations were recorded.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Quantile returns the duration at quantile q (0–100).
func (h *Histogram) Quantile(q float64) time.Duration {
	return time.Duration(h.h.ValueAtQuantile(q)) * time.Microsecond
}

// Merge adds every value of o.
func (h *Histogram) Merge(o *Histogram) {
	if o != nil {
		h.h.Merge(o.h)
	}
}

// A Summary is a histogram's percentiles in milliseconds, as the JSON
// report writes them.
type Summary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Summary returns the histogram's percentiles, max and mean.
func (h *Histogram) Summary() Summary {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	if h.h.TotalCount() == 0 {
		return Summary{}
	}
	return Summary{
		Count: h.h.TotalCount(),
		P50:   ms(h.h.ValueAtQuantile(50)),
		P90:   ms(h.h.ValueAtQuantile(90)),
		P99:   ms(h.h.ValueAtQuantile(99)),
		P999:  ms(h.h.ValueAtQuantile(99.9)),
		Max:   ms(h.h.Max()),
		Mean:  h.h.Mean() / 1000,
	}
}

// MarshalJSON writes the histogram in the HDR V2 compressed encoding (a
// base64 string), which UnmarshalJSON reads back exactly.
func (h *Histogram) MarshalJSON() ([]byte, error) {
	b, err := h.h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, fmt.Errorf("load: encoding a histogram: %w", err)
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (h *Histogram) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("want an HDR histogram as a base64 string: %w", err)
	}
	if err := checkGeometry(s); err != nil {
		return err
	}
	d, err := hdr.Decode([]byte(s))
	if err != nil {
		return fmt.Errorf("not an HDR histogram: %w", err)
	}
	h.h = hdr.New(histMin, histMax, histSigFigs)
	h.h.Merge(d)
	return nil
}

// checkGeometry reads the header of an encoded histogram (HDR V2
// compressed: base64 of a cookie, a length and a zlib stream that starts
// with a 40-byte header) and requires the bounds MarshalJSON writes.
// hdr.Decode allocates the counts array the header asks for before
// anything else can be checked, so a 60-byte histogram declaring 1 to
// 2^62 at five significant digits would cost 49 MB: checked first, it is
// an error.
func checkGeometry(s string) error {
	const headerSize = 40
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not an HDR histogram: %w", err)
	}
	if len(raw) < 8 {
		return fmt.Errorf("not an HDR histogram: %d bytes, want at least 8", len(raw))
	}
	z, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return fmt.Errorf("not an HDR histogram: %w", err)
	}
	defer z.Close()
	var h [headerSize]byte
	if _, err := io.ReadFull(z, h[:]); err != nil {
		return fmt.Errorf("not an HDR histogram: header: %w", err)
	}
	sigFigs := int32(binary.BigEndian.Uint32(h[12:16]))
	lowest := int64(binary.BigEndian.Uint64(h[16:24]))
	highest := int64(binary.BigEndian.Uint64(h[24:32]))
	if sigFigs != histSigFigs || lowest != histMin || highest != histMax {
		return fmt.Errorf("HDR histogram of %d..%d at %d significant digits, want hooklab's %d..%d at %d",
			lowest, highest, sigFigs, histMin, histMax, histSigFigs)
	}
	return nil
}
