package netkit

import "fmt"

// engineError carries Docker's exact message text while still matching one
// of the sentinels with errors.Is.
type engineError struct {
	msg  string
	kind error
}

func (e *engineError) Error() string { return e.msg }
func (e *engineError) Unwrap() error { return e.kind }

// derr makes an error whose text is exactly Docker's message and which
// errors.Is matches against kind.
func derr(kind error, format string, args ...any) error {
	return &engineError{msg: fmt.Sprintf(format, args...), kind: kind}
}
