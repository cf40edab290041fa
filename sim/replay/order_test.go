package replay_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hooklab/hooklab/sim/replay"
)

func TestParseOrder(t *testing.T) {
	tests := []struct {
		name, in string
		want     []int // Indexes(5)
		wantErr  bool
	}{
		{name: "AsRecorded", in: "as-recorded", want: []int{0, 1, 2, 3, 4}},
		{name: "Reverse", in: "reverse", want: []int{4, 3, 2, 1, 0}},
		{name: "ShuffleSeed7", in: "shuffle:7"},
		{name: "Unknown", in: "sideways", wantErr: true},
		{name: "ShuffleNoSeed", in: "shuffle:", wantErr: true},
		{name: "ShuffleNegative", in: "shuffle:-1", wantErr: true},
		{name: "Empty", in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := replay.ParseOrder(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				assert.True(t, errors.Is(err, replay.ErrOrder), "ParseOrder(%q) = %v, want ErrOrder", tt.in, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.in, o.String(), "ParseOrder(%q).String()", tt.in)
			if tt.want != nil {
				assert.Equal(t, tt.want, o.Indexes(5), "ParseOrder(%q).Indexes(5)", tt.in)
			}
		})
	}
}

func TestShuffleIsAPermutationDeterminedBySeed(t *testing.T) {
	a, b, c := replay.Shuffle(7).Indexes(50), replay.Shuffle(7).Indexes(50), replay.Shuffle(8).Indexes(50)
	assert.Equal(t, a, b, "Shuffle(7).Indexes(50) twice")
	assert.NotEqual(t, a, c, "Shuffle(7) and Shuffle(8) give the same order")
	seen := make([]bool, 50)
	for _, i := range a {
		require.False(t, seen[i], "Shuffle(7).Indexes(50) repeats %d", i)
		seen[i] = true
	}
	assert.NotEqual(t, replay.AsRecorded().Indexes(50), a, "Shuffle(7) left the order as it was")
}

func FuzzParseOrder(f *testing.F) {
	for _, s := range []string{"as-recorded", "reverse", "shuffle:7", "shuffle:", "shuffle:18446744073709551616", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := replay.ParseOrder(s)
		if err != nil {
			return
		}
		back, err := replay.ParseOrder(o.String())
		if err != nil || back != o {
			t.Fatalf("ParseOrder(%q).String() = %q, does not parse back to the same order", s, o.String())
		}
		if n := len(o.Indexes(10)); n != 10 {
			t.Fatalf("ParseOrder(%q).Indexes(10) has %d entries", s, n)
		}
	})
}
