// Package apperr is the one error vocabulary of Countersign's domain packages:
// four kinds every caller can test with errors.Is, and an [Error] carrying a
// sentence for the person at the screen. handlers.StatusOf is the one place that
// turns a kind into an HTTP status. It imports nothing of ours.
package apperr

import (
	"errors"
	"fmt"
)

// The kinds. A domain error wraps or matches exactly one of them.
var (
	ErrNotFound    = errors.New("not found")
	ErrConflict    = errors.New("conflict")
	ErrValidation  = errors.New("invalid input")
	ErrForbidden   = errors.New("forbidden")
	ErrUnavailable = errors.New("temporarily unavailable")
)

// Error is a refusal whose message is safe and meant to be shown: it says what
// happened and, where there is one, what to do. It matches its Kind.
type Error struct {
	Msg  string
	Kind error
}

func (e *Error) Error() string { return e.Msg }

// Is makes an Error match its kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

func newf(kind error, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Kind: kind}
}

// NotFoundf is an ErrNotFound with a message for people.
func NotFoundf(format string, args ...any) error { return newf(ErrNotFound, format, args...) }

// Conflictf is an ErrConflict with a message for people.
func Conflictf(format string, args ...any) error { return newf(ErrConflict, format, args...) }

// Invalidf is an ErrValidation with a message for people.
func Invalidf(format string, args ...any) error { return newf(ErrValidation, format, args...) }

// Forbiddenf is an ErrForbidden with a message for people.
func Forbiddenf(format string, args ...any) error { return newf(ErrForbidden, format, args...) }

// Unavailablef is an ErrUnavailable with a message for people.
func Unavailablef(format string, args ...any) error { return newf(ErrUnavailable, format, args...) }
