package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/fixtures"
)

func TestRunPrintsOneSignedRenderPerFixtureAndSeed(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-seeds", "5", "-fixture", "github/push,stripe/invoice.paid"}, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 10)
	bodies := map[string]bool{}
	for i, l := range lines {
		var r render
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		want := []string{"github/push", "stripe/invoice.paid"}[i/5]
		assert.Equal(t, want, r.Fixture)
		assert.Equal(t, int64(i%5+1), r.Seed)
		assert.True(t, r.Signed, r.Fixture)
		f, err := fixtures.Lookup(want)
		require.NoError(t, err)
		assert.Equal(t, f.Schema, r.Schema)
		assert.True(t, json.Valid([]byte(r.Body)), "%s seed %d: body is not JSON", r.Fixture, r.Seed)
		bodies[r.Body] = true
	}
	assert.Len(t, bodies, 10, "each seed gives another body")
	var push render
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &push))
	assert.NotEmpty(t, push.Header["X-Hub-Signature-256"], "GitHub's signature header, which its webhook description requires")
}

func TestRunRendersEveryFixtureByDefault(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-seeds", "1"}, &out))
	assert.Equal(t, len(fixtures.All()), strings.Count(out.String(), "\n"))
}

func TestRunRejectsBadUsage(t *testing.T) {
	for _, args := range [][]string{{"-seeds", "0"}, {"-seeds", "1001"}, {"-fixture", "nosuch/event"}, {"extra"}, {"-bogus"}} {
		err := run(args, &bytes.Buffer{})
		var u usageError
		assert.True(t, errors.As(err, &u), "%v: %v", args, err)
	}
}
