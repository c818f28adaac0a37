// Package worlds holds the world files that labrun ships (docs/worlds.md):
// classroom.yaml, the article's world and the default of every lab, and the
// others that scenarios and `labrun up -world NAME` name. They are embedded
// in the binary, so that labrun needs nothing beside it.
//
// It is only data: netkit/world parses and builds a world file.
package worlds

import "embed"

// FS holds the shipped world files, NAME.yaml.
//
//go:embed *.yaml
var FS embed.FS

// Default is the name of the world every lab has unless told otherwise.
const Default = "classroom"
