package auth

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// AuditRefused records that p tried a change their roles do not allow (a support
// lead's reveal, an auditor's approval): the route pattern, the path and the roles
// it needs. Reading pages is not recorded; only attempts to change something are.
func AuditRefused(ctx context.Context, db *gorm.DB, p *Principal, route, path string, needs []string) error {
	if p == nil {
		return nil
	}
	id := p.UserID
	e := entry(ctx, p.Label(), &id, "access.refused", "route", route, "refused",
		map[string]any{"path": path, "needs": strings.Join(needs, ","), "roles": strings.Join(p.Roles, ",")})
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		return fmt.Errorf("auth: audit refused %s: %w", route, err)
	}
	return nil
}
