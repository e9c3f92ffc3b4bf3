package e2e

import (
	"context"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
)

// dbScalar reads one value from the instance's database.
func dbScalar(t *testing.T, inst *instance, q string, dest any, args ...any) error {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, inst.DBURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return c.QueryRow(ctx, q, args...).Scan(dest)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
