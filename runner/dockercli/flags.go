package dockercli

import (
	"fmt"
	"strconv"
	"strings"
)

// FlagSet parses command lines the way the docker CLI and dockerd do (both
// use spf13/pflag through cobra), with pflag's error texts, so that a
// scenario sees the same "unknown flag: --foo" a person would:
//
//	--name=value, --name value     long flags
//	-n value, -nvalue, -n=value    short flags
//	-itd, -dp 80:80                short flags combined; only the last may take a value
//	--flag, --flag=false, -d=false booleans (never "--flag false")
//	--                             ends the flags
//
// With Interspersed false (docker run, docker exec), the first argument that
// is not a flag ends the flags, so that `docker run IMAGE ls -l` leaves -l to
// the command. runner's probes parse their flags with it too.
type FlagSet struct {
	flags []*flagDef
	// Interspersed lets flags follow arguments, as in
	// `docker network connect NET CTR --ip IP`.
	Interspersed bool
}

type flagKind int

const (
	boolFlag flagKind = iota
	stringFlag
	listFlag
)

type flagDef struct {
	long, short string
	kind        flagKind
	b           *bool
	s           *string
	list        *[]string
	// check, when set, validates a list flag's value and returns it as
	// kept (the CLI's opts.ValidatorFctType).
	check func(string) (string, error)
}

// flagError is a command line that pflag rejects; its text is pflag's.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// Bool defines a boolean flag; short may be "".
func (f *FlagSet) Bool(p *bool, short, long string) {
	f.flags = append(f.flags, &flagDef{long: long, short: short, kind: boolFlag, b: p})
}

// String defines a flag with one value; the last occurrence wins.
func (f *FlagSet) String(p *string, short, long string) {
	f.flags = append(f.flags, &flagDef{long: long, short: short, kind: stringFlag, s: p})
}

// List defines a flag that may be repeated; every value is kept in order.
func (f *FlagSet) List(p *[]string, short, long string) {
	f.flags = append(f.flags, &flagDef{long: long, short: short, kind: listFlag, list: p})
}

// CheckedList defines a list flag whose every value check validates, and
// may rewrite, as it is set: the docker CLI's opts.NewListOpts with a
// validator, whose error pflag reports as `invalid argument "V" for
// "--name" flag: ERR`.
func (f *FlagSet) CheckedList(p *[]string, short, long string, check func(string) (string, error)) {
	f.flags = append(f.flags, &flagDef{long: long, short: short, kind: listFlag, list: p, check: check})
}

// TakesValue reports whether --name is a flag that takes a value (a string
// or list flag).
func (f *FlagSet) TakesValue(name string) bool {
	d := f.lookupLong(name)
	return d != nil && d.kind != boolFlag
}

func (f *FlagSet) lookupLong(name string) *flagDef {
	for _, d := range f.flags {
		if d.long == name {
			return d
		}
	}
	return nil
}

func (f *FlagSet) lookupShort(c byte) *flagDef {
	for _, d := range f.flags {
		if len(d.short) == 1 && d.short[0] == c {
			return d
		}
	}
	return nil
}

// name is how pflag names a flag in "invalid argument" errors.
func (d *flagDef) name() string {
	if d.short != "" {
		return "-" + d.short + ", --" + d.long
	}
	return "--" + d.long
}

func (d *flagDef) set(value string) error {
	switch d.kind {
	case boolFlag:
		v, err := strconv.ParseBool(value)
		if err != nil {
			return &flagError{fmt.Sprintf("invalid argument %q for %q flag: %v", value, d.name(), err)}
		}
		*d.b = v
	case stringFlag:
		*d.s = value
	case listFlag:
		if d.check != nil {
			v, err := d.check(value)
			if err != nil {
				return &flagError{fmt.Sprintf("invalid argument %q for %q flag: %v", value, d.name(), err)}
			}
			value = v
		}
		*d.list = append(*d.list, value)
	}
	return nil
}

// Parse parses args and returns the arguments that are not flags.
func (f *FlagSet) Parse(args []string) ([]string, error) {
	var rest []string
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		switch {
		case a == "--":
			return append(rest, args...), nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			d := f.lookupLong(name)
			if d == nil {
				return nil, &flagError{"unknown flag: --" + name}
			}
			switch {
			case hasValue:
			case d.kind == boolFlag:
				value = "true"
			case len(args) > 0:
				value, args = args[0], args[1:]
			default:
				return nil, &flagError{"flag needs an argument: --" + name}
			}
			if err := d.set(value); err != nil {
				return nil, err
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			var err error
			if args, err = f.parseShort(a[1:], args); err != nil {
				return nil, err
			}
		default:
			if !f.Interspersed {
				return append(append(rest, a), args...), nil
			}
			rest = append(rest, a)
		}
	}
	return rest, nil
}

// parseShort parses one group of short flags ("itd", "p80:80", "d=false")
// and returns the arguments left after any value it consumed.
func (f *FlagSet) parseShort(group string, args []string) ([]string, error) {
	for i := 0; i < len(group); i++ {
		c := group[i]
		d := f.lookupShort(c)
		if d == nil {
			return nil, &flagError{fmt.Sprintf("unknown shorthand flag: %q in -%s", c, group)}
		}
		rest := group[i+1:]
		switch {
		case strings.HasPrefix(rest, "="):
			return args, d.set(rest[1:])
		case d.kind == boolFlag:
			if err := d.set("true"); err != nil {
				return nil, err
			}
		case rest != "":
			return args, d.set(rest)
		case len(args) > 0:
			return args[1:], d.set(args[0])
		default:
			return nil, &flagError{fmt.Sprintf("flag needs an argument: %q in -%s", c, group)}
		}
	}
	return args, nil
}
