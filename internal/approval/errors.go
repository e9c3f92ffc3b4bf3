package approval

import (
	"errors"
	"fmt"
)

// Sentinel errors; handlers map them to HTTP statuses. Messages are sentences for the
// person at the screen.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrValidation = errors.New("invalid input")
	ErrForbidden  = errors.New("forbidden")
)

// ErrStepUp says the approval needs a fresher sign-in. It also matches ErrForbidden.
type ErrStepUp struct {
	CaseID int64
	Within int // minutes
}

func (e *ErrStepUp) Error() string {
	return fmt.Sprintf("Approving this amount needs a sign-in within the last %d minutes. Sign in again and approve.", e.Within)
}

// Is makes ErrStepUp match ErrForbidden.
func (e *ErrStepUp) Is(target error) bool { return target == ErrForbidden }

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

func forbiddenf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), kind: ErrForbidden}
}

func notFoundf(format string, args ...any) error {
	return &userError{msg: fmt.Sprintf(format, args...), kind: ErrNotFound}
}
