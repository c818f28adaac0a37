package compose

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/schema"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// compose-go says which key of a file it refuses, but not on which line,
// nor what was meant ("services.web.netwroks false schema"). When a file
// does not load, hint looks for a key that no Compose file has where it
// stands, and says where it is and which key is near it, on a line of
// labrun's own after Compose's message.

// keySets are the keys Compose allows at each place a mapping's keys are
// fixed: the top level (the schema's), a service, a network, and a
// service's entry for one of its networks (compose-go's types).
var keySets = map[string][]string{
	"":                      topKeys(),
	"services.*":            yamlKeys(reflect.TypeFor[types.ServiceConfig]()),
	"networks.*":            yamlKeys(reflect.TypeFor[types.NetworkConfig]()),
	"services.*.networks.*": yamlKeys(reflect.TypeFor[types.ServiceNetworkConfig]()),
}

// topKeys are the keys of a Compose file's top level, in its schema.
func topKeys() []string {
	var s struct{ Properties map[string]any }
	json.Unmarshal([]byte(schema.Schema), &s)
	var keys []string
	for k := range s.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// yamlKeys are the YAML keys of a struct's fields, inline ones included.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(f.Type)...)
		case name != "" && name != "-" && !strings.HasPrefix(name, "#"):
			keys = append(keys, name)
		}
	}
	return keys
}

// hint returns where the first key of files that Compose does not know
// is, and the known key nearest to it: "FILE:LINE: ...", or "".
func hint(files []string) string {
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 {
			continue
		}
		if h := walk(doc.Content[0], ""); h != "" {
			return f + ":" + h
		}
	}
	return ""
}

// walk checks the keys of mapping n, at place path ("services.*"), and
// those of the mappings below it whose keys are fixed.
func walk(n *yaml.Node, path string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	known, fixed := keySets[path]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if fixed && !strings.HasPrefix(k.Value, "x-") && !contains(known, k.Value) {
			msg := fmt.Sprintf("%d: %q is not a key Compose knows here (%s)", k.Line, k.Value, where(path))
			if near := nearest(k.Value, known); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			return msg
		}
		if sub, ok := descend(path, k.Value); ok {
			if h := walk(v, sub); h != "" {
				return h
			}
		}
	}
	return ""
}

// descend is the place of the value of key at place path, when walk goes
// there: the services and networks, each of them, and a service's
// networks.
func descend(path, key string) (string, bool) {
	switch {
	case path == "" && (key == "services" || key == "networks"):
		return key, true
	case path == "services" || path == "networks" || path == "services.*.networks":
		return path + ".*", true
	case path == "services.*" && key == "networks":
		return "services.*.networks", true
	}
	return "", false
}

// where names a place of a Compose file for a person.
func where(path string) string {
	switch path {
	case "":
		return "the top level"
	case "services.*":
		return "a service"
	case "networks.*":
		return "a network"
	case "services.*.networks.*":
		return "a service's network"
	}
	return path
}

// nearest is the key of known at most two edits from key (any case), or "".
func nearest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
