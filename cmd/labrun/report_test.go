package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)

func sampleResults() []result {
	return []result{
		{Name: "publish-broken", File: "scenarios/publish-broken.txt", Status: "fail", Start: t0.Add(time.Second), Elapsed: 1500 * time.Millisecond,
			Log: "> docker run -d --name web httpd\n> stdout 'It does not work'\nFAIL: scenarios/publish-broken.txt:5: no match for `It does not work` found in stdout\n"},
		{Name: "docker0", File: "scenarios/docker0.txt", Status: "pass", Start: t0, Elapsed: 2 * time.Second, Log: "> reach web\n"},
		{Name: "ipv6", File: "scenarios/ipv6.txt", Status: "skip", Start: t0.Add(2 * time.Second), Elapsed: time.Millisecond, Log: "> skip 'no IPv6 <here>'\n"},
	}
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeJUnit(&b, sampleResults(), 4*time.Second, ""))
	assert.True(t, strings.HasPrefix(b.String(), "<?xml"), "XML header")
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Time     string `xml:"time,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Time    string `xml:"time,attr"`
				File    string `xml:"file,attr"`
				Line    string `xml:"line,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc), "parsing the JUnit back:\n%s", &b)
	assert.Equal(t, []int{3, 1}, []int{doc.Tests, doc.Failures}, "testsuites tests, failures")
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, "scenarios", s.Name)
	assert.Equal(t, "4.000", s.Time)
	assert.Equal(t, []int{3, 1, 1}, []int{s.Tests, s.Failures, s.Skipped}, "testsuite tests, failures, skipped")
	require.Len(t, s.Cases, 3)
	assert.Equal(t, "docker0", s.Cases[0].Name, "cases in the order they started")
	assert.Nil(t, s.Cases[0].Failure)
	f := s.Cases[1]
	assert.Equal(t, "publish-broken", f.Name)
	assert.Equal(t, "1.500", f.Time)
	assert.Equal(t, []string{"scenarios/publish-broken.txt", "5"}, []string{f.File, f.Line}, "the failing file and line")
	assert.Equal(t, []string{"scenarios/docker0.txt", ""}, []string{s.Cases[0].File, s.Cases[0].Line}, "a pass has no line")
	require.NotNil(t, f.Failure)
	assert.Equal(t, "scenarios/publish-broken.txt:5: no match for `It does not work` found in stdout", f.Failure.Message)
	assert.Contains(t, f.Failure.Text, "> stdout 'It does not work'", "the log in the failure")
	require.NotNil(t, s.Cases[2].Skipped)
	assert.Equal(t, "> skip 'no IPv6 <here>'", s.Cases[2].Skipped.Message)
}

func TestJUnitEmpty(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeJUnit(&b, nil, 0, ""))
	var doc struct {
		Tests  int        `xml:"tests,attr"`
		Suites []struct{} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	assert.Equal(t, 0, doc.Tests)
	assert.Len(t, doc.Suites, 1)
}

// TestFailureWithoutLine: a log without a FAIL line still names the file.
func TestFailureWithoutLine(t *testing.T) {
	r := result{File: "s/x.txt", Log: "panic: boom\n"}
	assert.Equal(t, "s/x.txt: failed", r.failure())
}

// event is test2json's event, as cmd/test2json documents it.
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func TestWriteTestJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, writeTestJSON(&b, sampleResults(), t0, 4*time.Second, ""))
	var evs []event
	sc := bufio.NewScanner(&b)
	for sc.Scan() {
		var e event
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&e), "line %q", sc.Text())
		evs = append(evs, e)
	}
	require.NotEmpty(t, evs)
	assert.Equal(t, event{Time: t0, Action: "start", Package: "scenarios"}, evs[0])
	last := evs[len(evs)-1]
	assert.Equal(t, event{Time: t0.Add(4 * time.Second), Action: "fail", Package: "scenarios", Elapsed: 4}, last)
	ends := map[string]event{}
	runs := map[string]int{}
	outputs := map[string]string{}
	for _, e := range evs {
		assert.Equal(t, "scenarios", e.Package)
		assert.False(t, e.Time.IsZero(), "every event has a Time")
		switch e.Action {
		case "run":
			runs[e.Test]++
		case "output":
			outputs[e.Test] += e.Output
			assert.True(t, strings.HasSuffix(e.Output, "\n"), "output %q ends a line", e.Output)
		case "pass", "fail", "skip":
			if e.Test != "" {
				ends[e.Test] = e
			}
		case "start":
		default:
			t.Errorf("unknown action %q", e.Action)
		}
	}
	assert.Equal(t, map[string]int{"docker0": 1, "publish-broken": 1, "ipv6": 1}, runs)
	assert.Equal(t, "pass", ends["docker0"].Action)
	assert.Equal(t, 2.0, ends["docker0"].Elapsed)
	assert.Equal(t, "fail", ends["publish-broken"].Action)
	assert.Equal(t, 1.5, ends["publish-broken"].Elapsed)
	assert.Equal(t, "skip", ends["ipv6"].Action)
	assert.Contains(t, outputs["publish-broken"], "=== RUN   publish-broken\n")
	assert.Contains(t, outputs["publish-broken"], "    scenarios/publish-broken.txt:5: no match")
	assert.Contains(t, outputs["publish-broken"], "--- FAIL: publish-broken (1.50s)\n")
	assert.Contains(t, outputs["docker0"], "--- PASS: docker0 (2.00s)\n")
	assert.Contains(t, outputs[""], "FAIL\n")
}

func TestTestJSONPass(t *testing.T) {
	var b bytes.Buffer
	rs := sampleResults()[1:2]
	require.NoError(t, writeTestJSON(&b, rs, t0, time.Second, ""))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var e event
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &e))
	assert.Equal(t, "pass", e.Action)
	assert.Empty(t, e.Test)
}

// TestReportsAborted: a run stopped by a signal reports what finished, and
// fails.
func TestReportsAborted(t *testing.T) {
	rs := sampleResults()[1:2] // docker0 passed
	var j bytes.Buffer
	require.NoError(t, writeJUnit(&j, rs, time.Second, "interrupted (SIGTERM)"))
	var doc struct {
		Errors int `xml:"errors,attr"`
		Suites []struct {
			Errors    int    `xml:"errors,attr"`
			SystemErr string `xml:"system-err"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(j.Bytes(), &doc))
	assert.Equal(t, 1, doc.Errors)
	require.Len(t, doc.Suites, 1)
	assert.Equal(t, "labrun: interrupted (SIGTERM)\n", doc.Suites[0].SystemErr)

	var b bytes.Buffer
	require.NoError(t, writeTestJSON(&b, rs, t0, time.Second, "interrupted (SIGTERM)"))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var out, end event
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-3]), &out))
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &end))
	assert.Equal(t, "labrun: interrupted (SIGTERM)\n", out.Output)
	assert.Equal(t, "fail", end.Action, "the package fails")
}
