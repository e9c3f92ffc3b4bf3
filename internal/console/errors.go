package console

import (
	"errors"
	"fmt"
)

// Sentinel errors; handlers map them to HTTP statuses.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrValidation = errors.New("invalid input")
	ErrForbidden  = errors.New("forbidden")
)

// userError carries a sentence for the person at the screen and a sentinel to match.
type userError struct {
	msg  string
	kind error
}

func (e *userError) Error() string        { return e.msg }
func (e *userError) Is(target error) bool { return target == e.kind }

func invalidf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), kind: ErrValidation}
}

func conflictf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), kind: ErrConflict}
}

func notFoundf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), kind: ErrNotFound}
}
