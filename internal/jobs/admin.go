package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/models"
)

// JobStates in display order.
var JobStates = []string{"available", "scheduled", "running", "retryable", "pending", "completed", "cancelled", "discarded"}

// JobInfo is one River job for the admin page. Args hold ids only.
type JobInfo struct {
	ID          int64
	Kind        string
	Queue       string
	State       string
	Attempt     int
	MaxAttempts int
	Args        string
	LastError   string
	CreatedAt   time.Time
	FinalizedAt *time.Time
}

// ListJobs returns the newest jobs in state (all states when empty) and the count
// of jobs per state.
func ListJobs(ctx context.Context, db *gorm.DB, state string, limit int) ([]JobInfo, map[string]int, error) {
	var rows []struct {
		ID          int64           `gorm:"column:id"`
		Kind        string          `gorm:"column:kind"`
		Queue       string          `gorm:"column:queue"`
		State       string          `gorm:"column:state"`
		Attempt     int             `gorm:"column:attempt"`
		MaxAttempts int             `gorm:"column:max_attempts"`
		Args        string          `gorm:"column:args"`
		Errors      json.RawMessage `gorm:"column:errors"`
		CreatedAt   time.Time       `gorm:"column:created_at"`
		FinalizedAt *time.Time      `gorm:"column:finalized_at"`
	}
	err := db.WithContext(ctx).Raw(`SELECT id, kind, queue, state::text AS state, attempt, max_attempts, args::text AS args,
			to_jsonb(errors) AS errors, created_at, finalized_at
		FROM river_job WHERE (? = '' OR state::text = ?) ORDER BY id DESC LIMIT ?`, state, state, limit).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: list jobs: %w", err)
	}
	out := make([]JobInfo, 0, len(rows))
	for _, r := range rows {
		var errs []struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(r.Errors, &errs)
		j := JobInfo{ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: r.State, Attempt: r.Attempt,
			MaxAttempts: r.MaxAttempts, Args: r.Args, CreatedAt: r.CreatedAt, FinalizedAt: r.FinalizedAt}
		if len(errs) > 0 {
			j.LastError = truncate(errs[len(errs)-1].Error, 400)
		}
		out = append(out, j)
	}
	var counts []struct {
		State string `gorm:"column:state"`
		N     int    `gorm:"column:n"`
	}
	if err := db.WithContext(ctx).Raw(`SELECT state::text AS state, count(*) AS n FROM river_job GROUP BY state`).Scan(&counts).Error; err != nil {
		return nil, nil, fmt.Errorf("jobs: count jobs: %w", err)
	}
	by := map[string]int{}
	for _, c := range counts {
		by[c.State] = c.N
	}
	return out, by, nil
}

// ActionInfo is an action row as pages show it.
type ActionInfo struct {
	models.Action
}

// Summary is the receipt's one line for people.
func (a ActionInfo) Summary() string {
	var r struct {
		Summary string `json:"summary"`
	}
	_ = json.Unmarshal(a.Receipt, &r)
	return r.Summary
}

// Retryable reports whether the action waits for a person's retry.
func (a ActionInfo) Retryable() bool {
	return a.Status == models.ActionNeedsAttention || a.Status == models.ActionFailed
}

// CaseActions lists a case's actions in plan order.
func CaseActions(ctx context.Context, db *gorm.DB, caseID int64) ([]ActionInfo, error) {
	var out []ActionInfo
	err := db.WithContext(ctx).Model(&models.Action{}).Where("case_id = ?", caseID).Order("position, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("jobs: actions of case %d: %w", caseID, err)
	}
	return out, nil
}

// AttentionActions lists actions that wait for a person, oldest first.
func AttentionActions(ctx context.Context, db *gorm.DB) ([]ActionInfo, error) {
	var out []ActionInfo
	err := db.WithContext(ctx).Model(&models.Action{}).Where("status IN ?", []models.ActionStatus{models.ActionNeedsAttention, models.ActionFailed}).
		Order("updated_at").Limit(200).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("jobs: actions needing attention: %w", err)
	}
	return out, nil
}
