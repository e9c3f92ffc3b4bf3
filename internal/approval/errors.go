package approval

import (
	"fmt"

	"github.com/countersign/countersign/internal/apperr"
)

// ErrStepUp says the approval needs a fresher sign-in. It also matches
// apperr.ErrForbidden.
type ErrStepUp struct {
	CaseID int64
	Within int // minutes
}

func (e *ErrStepUp) Error() string {
	return fmt.Sprintf("Approving this amount needs a sign-in within the last %d minutes. Sign in again and approve.", e.Within)
}

// Is makes ErrStepUp match apperr.ErrForbidden.
func (e *ErrStepUp) Is(target error) bool { return target == apperr.ErrForbidden }
