package apperr

import (
	"errors"
	"fmt"
	"testing"
)

func TestKinds(t *testing.T) {
	kinds := []error{ErrNotFound, ErrConflict, ErrValidation, ErrForbidden, ErrUnavailable}
	for i, err := range []error{NotFoundf("No case %d.", 7), Conflictf("x"), Invalidf("x"), Forbiddenf("x"), Unavailablef("x")} {
		wrapped := fmt.Errorf("outer: %w", err)
		for j, k := range kinds {
			if got := errors.Is(wrapped, k); got != (i == j) {
				t.Errorf("error %d matches kind %d: %v, want %v", i, j, got, i == j)
			}
		}
	}
	if got := NotFoundf("No case %d.", 7).Error(); got != "No case 7." {
		t.Errorf("message %q", got)
	}
}
