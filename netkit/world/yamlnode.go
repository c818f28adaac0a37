package world

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/labrun/labrun/netkit/names"
)

// This file reads a world file's YAML tree (yaml.v3's Node, which keeps
// each value's line and the mappings' order), field by field: every
// mapping's keys are checked against the fields it accepts, so that a typo
// is reported with its line and the near miss, before anything is built.

// reader collects the errors of one file.
type reader struct {
	file string
	errs []error
}

// errf records an error about field at node n's line.
func (r *reader) errf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.errs = append(r.errs, &Error{File: r.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (r *reader) pos(n *yaml.Node) Pos { return Pos{File: r.file, Line: n.Line} }

// kindName words a YAML node's kind for an error.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "empty"
	}
	return fmt.Sprintf("%q", n.Value)
}

// yamlLine is the "yaml: line N: " of yaml.v3's syntax errors, which
// carry their line only in their text (the library has no error type for
// them).
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxErr turns a yaml.v3 syntax error into an Error at its line.
func (r *reader) syntaxErr(err error) {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	r.errs = append(r.errs, &Error{File: r.file, Line: line, Msg: "not valid YAML: " + msg})
}

// fields walks mapping n, whose path is field, calling each for every key
// among known (in the file's order); an unknown or repeated key is an
// error naming what is accepted and the near miss.
func (r *reader) fields(n *yaml.Node, field string, known []string, each func(key string, v *yaml.Node)) {
	r.entries(n, field, func(key string, k, v *yaml.Node) {
		for _, f := range known {
			if f == key {
				each(key, v)
				return
			}
		}
		hint := ""
		if near := names.Nearest(key, known); near != "" {
			hint = fmt.Sprintf("; did you mean %q?", near)
		}
		r.errf(k, join(field, key), "unknown field %q (accepted: %s)%s", key, strings.Join(known, ", "), hint)
	})
}

// entries walks mapping n, whose keys are names the file chooses (nodes,
// interfaces, sysctls), calling each in the file's order; a repeated key
// is an error. An empty value (a key with nothing after it) is an empty
// mapping.
func (r *reader) entries(n *yaml.Node, field string, each func(key string, k, v *yaml.Node)) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		r.errf(n, field, "want a mapping (key: value lines, or {key: value}), not %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.errf(k, field, "want a name as key, not %s", kindName(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			r.errf(k, join(field, k.Value), "given twice (first on line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		each(k.Value, k, v)
	}
}

// scalar returns n's text, or records an error when n is not a scalar.
func (r *reader) scalar(n *yaml.Node, field, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		r.errf(n, field, "want %s, not %s", want, kindName(n))
		return "", false
	}
	return n.Value, true
}

// boolean reads a YAML boolean (true or false).
func (r *reader) boolean(n *yaml.Node, field string) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, _ := strconv.ParseBool(n.Value)
		return b
	}
	r.errf(n, field, "want true or false, not %s", kindName(n))
	return false
}

// list returns the items of sequence n; a single scalar is a list of one
// when one is true.
func (r *reader) list(n *yaml.Node, field string, one bool) []*yaml.Node {
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil
	case one && n.Kind == yaml.ScalarNode:
		return []*yaml.Node{n}
	}
	r.errf(n, field, "want a list ([a, b], or lines starting with -), not %s", kindName(n))
	return nil
}

// words reads a command line: a list of words, or one string split at
// spaces.
func (r *reader) words(n *yaml.Node, field string) []string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return strings.Fields(n.Value)
	}
	var out []string
	for i, it := range r.list(n, field, false) {
		if s, ok := r.scalar(it, fmt.Sprintf("%s[%d]", field, i), "a word"); ok {
			out = append(out, s)
		}
	}
	return out
}

// join extends a field's path.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}
