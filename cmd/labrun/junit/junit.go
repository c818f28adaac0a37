// Package junit is JUnit XML as CI systems read it: the elements and
// attributes of the common JUnit schema (Jenkins' junit-10.xsd, which
// GitHub Actions' and GitLab's report readers accept), and their writing.
// labrun's scenario runs (-junit) and the classroom's grading write it.
//
// It is not a test runner, and it holds no result of its own: its callers
// fill the suites in.
package junit

import (
	"encoding/xml"
	"io"
)

// Suites is the document: <testsuites>. (The schema gives it no skipped
// attribute: its testsuites have one.)
type Suites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Time     string   `xml:"time,attr,omitempty"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is a <testsuite>.
type Suite struct {
	Name      string `xml:"name,attr"`
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	Time      string `xml:"time,attr"`
	Timestamp string `xml:"timestamp,attr,omitempty"`
	Cases     []Case `xml:"testcase"`
	SystemErr string `xml:"system-err,omitempty"`
}

// Case is a <testcase>: passed, or with one of Skipped, Failure and Error.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	File      string   `xml:"file,attr,omitempty"`
	Line      string   `xml:"line,attr,omitempty"` // a failure's
	Skipped   *Message `xml:"skipped"`
	Failure   *Message `xml:"failure"`
	Error     *Message `xml:"error"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Message is a skip's, failure's or error's message, type and text.
type Message struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Write writes the document, indented, after the XML header.
func Write(w io.Writer, s Suites) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
