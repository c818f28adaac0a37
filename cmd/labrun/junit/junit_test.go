package junit

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWrite: the document starts with the XML header, round-trips, and
// leaves out what is empty (a passed case has no failure element, a
// suites without time no time attribute).
func TestWrite(t *testing.T) {
	in := Suites{Name: "labrun", Tests: 2, Failures: 1, Suites: []Suite{{Name: "s", Tests: 2, Failures: 1, Time: "1.000",
		Cases: []Case{{Name: "ok", Classname: "s", Time: "0.5"},
			{Name: "bad", Classname: "s", Time: "0.5", File: "a.txt", Line: "3", Failure: &Message{Message: "a.txt:3: no", Type: "failure", Text: "log"}}}}}}
	var b bytes.Buffer
	require.NoError(t, Write(&b, in))
	assert.True(t, strings.HasPrefix(b.String(), xml.Header), "the XML header first")
	assert.NotContains(t, b.String(), `<testsuites name="labrun" tests="2" failures="1" errors="0" time=`)
	assert.Equal(t, 1, strings.Count(b.String(), "<failure"), "only the failed case has a failure")
	var out Suites
	require.NoError(t, xml.Unmarshal(b.Bytes(), &out))
	assert.Equal(t, in.Suites, out.Suites)
}
