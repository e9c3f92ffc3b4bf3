package pgembed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// acceptsQueries is true once the server has finished recovery and answers a query.
// Authentication failures count as "up" (the password is checked in ensureDatabase).
func (c *Cluster) acceptsQueries() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://countersign@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.Port))
	if err != nil {
		return !isStarting(err)
	}
	conn.Close(ctx)
	return true
}

func isStarting(err error) bool {
	s := err.Error()
	return strings.Contains(s, "starting up") || strings.Contains(s, "shutting down") || strings.Contains(s, "recovery") || strings.Contains(s, "connection refused")
}

func (c *Cluster) ensureDatabase(ctx context.Context, password string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://countersign:%s@127.0.0.1:%d/postgres?sslmode=disable", password, c.Port))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.database).Scan(&exists); err != nil {
		return fmt.Errorf("pgembed: check database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize()); err != nil {
		return fmt.Errorf("pgembed: create database %s: %w", c.database, err)
	}
	return nil
}
