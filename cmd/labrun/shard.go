package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/labrun/labrun/netkit/names"
	"maps"
	"os"
	"sort"
	"strconv"
	"strings"
)

// shardSpec is one part of a suite split in N: Index is 0-based.
type shardSpec struct {
	Index, Count int
}

func (s shardSpec) String() string { return fmt.Sprintf("%d/%d", s.Index+1, s.Count) }

// parseShard reads "I/N" (1-based I, as -shard and LABRUN_SHARD give it).
func parseShard(s string) (shardSpec, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return shardSpec{}, fmt.Errorf("shard %q: want I/N, as 2/3", s)
	}
	idx, err1 := strconv.Atoi(i)
	cnt, err2 := strconv.Atoi(n)
	if err := errors.Join(err1, err2); err != nil {
		return shardSpec{}, fmt.Errorf("shard %q: want I/N, as 2/3: %w", s, err)
	}
	if cnt < 1 || idx < 1 || idx > cnt {
		return shardSpec{}, fmt.Errorf("shard %q: want 1 <= I <= N", s)
	}
	return shardSpec{Index: idx - 1, Count: cnt}, nil
}

// shardFrom decides the shard from -shard (flag), LABRUN_SHARD, or
// Kubernetes' JOB_COMPLETION_INDEX (0-based) with -shards (count), in that
// order; getenv reads the environment. ok is false when no shard is asked
// for: the run takes every scenario.
func shardFrom(flag string, count int, getenv func(string) string) (s shardSpec, ok bool, err error) {
	if flag != "" {
		s, err = parseShard(flag)
		return s, err == nil, err
	}
	if env := getenv("LABRUN_SHARD"); env != "" {
		s, err = parseShard(env)
		if err != nil {
			err = fmt.Errorf("LABRUN_SHARD: %w", err)
		}
		return s, err == nil, err
	}
	if count == 0 {
		return shardSpec{}, false, nil
	}
	if count < 0 {
		return shardSpec{}, false, fmt.Errorf("-shards %d: want at least 1", count)
	}
	env := getenv("JOB_COMPLETION_INDEX")
	if env == "" {
		return shardSpec{}, false, errors.New("-shards needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it); or use -shard I/N")
	}
	idx, err := strconv.Atoi(env)
	if err != nil || idx < 0 || idx >= count {
		return shardSpec{}, false, fmt.Errorf("JOB_COMPLETION_INDEX=%q: want 0 to %d for -shards %d", env, count-1, count)
	}
	return shardSpec{Index: idx, Count: count}, true, nil
}

// shardNames returns the names of names that shard s runs, in names'
// order. Every shard of s.Count computes the same split, so that together
// they take each name exactly once. With durations (seconds by name, as
// -durations records them) it balances the shards' total time: longest
// first, each into the shard with the least time so far (the lowest index
// on a tie); a name without a recorded time counts as the mean of the
// recorded ones. Without durations it deals the sorted names round-robin.
func shardNames(names []string, s shardSpec, durations map[string]float64) []string {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	owner := map[string]int{}
	known, sum := 0, 0.0
	for _, n := range sorted {
		if d, ok := durations[n]; ok && d >= 0 {
			known++
			sum += d
		}
	}
	if known == 0 {
		for i, n := range sorted {
			owner[n] = i % s.Count
		}
	} else {
		mean := sum / float64(known)
		cost := func(n string) float64 {
			if d, ok := durations[n]; ok && d >= 0 {
				return d
			}
			return mean
		}
		sort.SliceStable(sorted, func(i, j int) bool { return cost(sorted[i]) > cost(sorted[j]) })
		load := make([]float64, s.Count)
		for _, n := range sorted {
			best := 0
			for i := range load {
				if load[i] < load[best] {
					best = i
				}
			}
			owner[n] = best
			load[best] += cost(n)
		}
	}
	var out []string
	for _, n := range names {
		if owner[n] == s.Index {
			out = append(out, n)
		}
	}
	return out
}

// readDurations reads a -durations file (JSON: scenario name to seconds);
// a missing file is no durations.
func readDurations(path string) (map[string]float64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading durations: %w", err)
	}
	d := map[string]float64{}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("reading durations %s: %w", path, err)
	}
	return d, nil
}

// writeDurations records this run's durations in path, keeping the
// scenarios it did not run (another shard's).
func writeDurations(path string, old map[string]float64, rs []result) error {
	d := maps.Clone(old)
	if d == nil {
		d = map[string]float64{}
	}
	for _, r := range rs {
		if r.Status != "skip" {
			d[r.Name] = float64(r.Elapsed.Milliseconds()) / 1000
		}
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("writing durations: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing durations: %w", err)
	}
	return nil
}

// noMatch is the message for a -run pattern that matches none of the
// scenarios called names: the pattern, the nearest name when one is close,
// and the names there are.
func noMatch(pattern string, names []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-run %q matches no scenario", pattern)
	if near := nearest(pattern, names); near != "" {
		fmt.Fprintf(&b, "; did you mean %q?", near)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	fmt.Fprintf(&b, "\nthe %d scenarios: %s", len(sorted), strings.Join(sorted, " "))
	return b.String()
}

// nearest returns the name closest to s by edit distance, when it is
// within a third of s's length (at least 2), or "".
func nearest(s string, among []string) string {
	best, bestD := "", max(2, len(s)/3)+1
	for _, n := range among {
		if d := names.EditDistance(strings.ToLower(s), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}
