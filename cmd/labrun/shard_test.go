package main

import (
	"fmt"
	"github.com/labrun/labrun/netkit/names"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShard(t *testing.T) {
	s, err := parseShard("2/3")
	require.NoError(t, err)
	assert.Equal(t, shardSpec{Index: 1, Count: 3}, s)
	assert.Equal(t, "2/3", s.String())
	for _, bad := range []string{"", "3", "0/3", "4/3", "a/3", "1/0", "-1/2"} {
		_, err := parseShard(bad)
		assert.Error(t, err, "parseShard(%q)", bad)
	}
}

func TestShardFrom(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		flag   string
		shards int
		getenv func(string) string
		want   shardSpec
		ok     bool
		err    bool
	}{
		{"", 0, env(), shardSpec{}, false, false},
		{"2/3", 0, env("LABRUN_SHARD", "1/3"), shardSpec{1, 3}, true, false},
		{"", 0, env("LABRUN_SHARD", "3/3"), shardSpec{2, 3}, true, false},
		{"", 0, env("LABRUN_SHARD", "4/3"), shardSpec{}, false, true},
		{"", 3, env("JOB_COMPLETION_INDEX", "0"), shardSpec{0, 3}, true, false},
		{"", 3, env("JOB_COMPLETION_INDEX", "2"), shardSpec{2, 3}, true, false},
		{"", 3, env("JOB_COMPLETION_INDEX", "3"), shardSpec{}, false, true},
		{"", 3, env(), shardSpec{}, false, true},
		{"", 0, env("JOB_COMPLETION_INDEX", "1"), shardSpec{}, false, false},
		{"", -1, env("JOB_COMPLETION_INDEX", "1"), shardSpec{}, false, true},
	} {
		s, ok, err := shardFrom(tc.flag, tc.shards, tc.getenv)
		name := fmt.Sprintf("shardFrom(%q, %d)", tc.flag, tc.shards)
		assert.Equal(t, tc.err, err != nil, "%s: error %v", name, err)
		assert.Equal(t, tc.ok, ok, name)
		assert.Equal(t, tc.want, s, name)
	}
}

func TestShardNamesRoundRobin(t *testing.T) {
	names := []string{"e", "a", "d", "b", "c"}
	assert.Equal(t, []string{"a", "d"}, shardNames(names, shardSpec{0, 3}, nil))
	assert.Equal(t, []string{"e", "b"}, shardNames(names, shardSpec{1, 3}, nil), "in the command line's order")
	assert.Equal(t, []string{"c"}, shardNames(names, shardSpec{2, 3}, nil))
	assert.Empty(t, shardNames(names[:1], shardSpec{1, 2}, nil))
}

func TestShardNamesBalanced(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	d := map[string]float64{"a": 10, "b": 1, "c": 1, "d": 1, "e": 6, "f": 3}
	// Longest first into the lightest shard, the lowest on a tie: a→0,
	// e→1, f→1 (6<10), b→1 (9<10), c→0 (10=10), d→1: 11 and 11.
	s0 := shardNames(names, shardSpec{0, 2}, d)
	s1 := shardNames(names, shardSpec{1, 2}, d)
	sum := func(ns []string) (t float64) {
		for _, n := range ns {
			t += d[n]
		}
		return t
	}
	assert.Equal(t, []string{"a", "c"}, s0)
	assert.Equal(t, []string{"b", "d", "e", "f"}, s1)
	assert.Equal(t, sum(s0), sum(s1))
	// A name with no recorded time counts as the mean (50.5): a→0, c→1,
	// b→1.
	d2 := map[string]float64{"a": 100, "b": 1}
	assert.Equal(t, []string{"a"}, shardNames([]string{"a", "b", "c"}, shardSpec{0, 2}, d2))
}

// checkPartition checks that the shards of names take each exactly once.
func checkPartition(t *testing.T, names []string, n int, d map[string]float64) {
	t.Helper()
	seen := map[string]int{}
	for i := range n {
		for _, name := range shardNames(names, shardSpec{i, n}, d) {
			seen[name]++
		}
	}
	for _, name := range names {
		if seen[name] != 1 {
			t.Fatalf("%d shards of %q (durations %v): %q runs %d times", n, names, d, name, seen[name])
		}
	}
	if len(seen) != len(names) {
		t.Fatalf("%d shards of %q: ran %v", n, names, slices.Collect(maps.Keys(seen)))
	}
}

func TestShardPartitionRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		k := rng.IntN(40)
		names := map[string]bool{}
		d := map[string]float64{}
		for range k {
			n := fmt.Sprintf("s%d", rng.IntN(1000))
			names[n] = true
			if rng.IntN(2) == 0 {
				d[n] = float64(rng.IntN(100)) / 3
			}
		}
		if rng.IntN(3) == 0 {
			d = nil
		}
		list := slices.Collect(maps.Keys(names))
		checkPartition(t, list, 1+rng.IntN(8), d)
	}
}

func FuzzShardPartition(f *testing.F) {
	f.Add("a b c d e", uint8(3), "a=1 c=5")
	f.Add("x", uint8(4), "")
	f.Fuzz(func(t *testing.T, names string, n uint8, durs string) {
		uniq := map[string]bool{}
		for _, s := range strings.Fields(names) {
			uniq[s] = true
		}
		d := map[string]float64{}
		for _, kv := range strings.Fields(durs) {
			k, v, _ := strings.Cut(kv, "=")
			var x float64
			fmt.Sscan(v, &x)
			d[k] = x
		}
		checkPartition(t, slices.Collect(maps.Keys(uniq)), 1+int(n%16), d)
	})
}

func TestDurationsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.json")
	d, err := readDurations(path)
	require.NoError(t, err, "a missing file is no durations")
	assert.Nil(t, d)
	require.NoError(t, writeDurations(path, map[string]float64{"other": 3}, sampleResults()))
	d, err = readDurations(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"other": 3, "docker0": 2, "publish-broken": 1.5}, d, "skipped scenarios leave no time")
	os.WriteFile(path, []byte("{"), 0o644)
	_, err = readDurations(path)
	assert.Error(t, err)
}

func TestNoMatch(t *testing.T) {
	scenarios := []string{"publish-ports", "docker0", "host-mode"}
	assert.Equal(t, "-run \"pubish-ports\" matches no scenario; did you mean \"publish-ports\"?\nthe 3 scenarios: docker0 host-mode publish-ports",
		noMatch("pubish-ports", scenarios))
	assert.Equal(t, "-run \"nomatch\" matches no scenario\nthe 3 scenarios: docker0 host-mode publish-ports",
		noMatch("nomatch", scenarios))
	assert.Equal(t, 0, names.EditDistance("abc", "abc"))
	assert.Equal(t, 3, names.EditDistance("", "abc"))
	assert.Equal(t, 1, names.EditDistance("docker0", "docker1"))
}
