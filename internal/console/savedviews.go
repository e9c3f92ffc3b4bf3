package console

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/redact"
)

// SavedView is a named queue URL of one user.
type SavedView struct {
	ID    int64  `gorm:"column:id"`
	Name  string `gorm:"column:name"`
	Query string `gorm:"column:query"` // "/queues/refund?urgency=3"
}

// maxSavedViews bounds the sidebar.
const maxSavedViews = 50

// SavedViews lists the user's views by name.
func SavedViews(ctx context.Context, db *gorm.DB, userID int64) ([]SavedView, error) {
	var out []SavedView
	err := db.WithContext(ctx).Raw(`SELECT id, name, query FROM saved_views WHERE user_id = ?
		ORDER BY lower(name), id LIMIT ?`, userID, maxSavedViews).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("console: saved views: %w", err)
	}
	return out, nil
}

// SaveView stores the queue URL query under name, replacing a view of the same name.
// Only queue URLs are accepted, so a saved view can never point off the console.
func SaveView(ctx context.Context, db *gorm.DB, userID int64, name, query string) (SavedView, error) {
	name, _ = redact.String(strings.TrimSpace(name))
	if name == "" || utf8.RuneCountInString(name) > 60 {
		return SavedView{}, apperr.Invalidf("Give the view a name of 1 to 60 characters.")
	}
	clean, err := cleanQueueURL(query)
	if err != nil {
		return SavedView{}, err
	}
	var n int64
	err = db.WithContext(ctx).Raw("SELECT count(*) FROM saved_views WHERE user_id = ? AND name <> ?", userID, name).Scan(&n).Error
	if err != nil {
		return SavedView{}, fmt.Errorf("console: count saved views: %w", err)
	}
	if n >= maxSavedViews {
		return SavedView{}, apperr.Invalidf("You have %d saved views, the most the sidebar shows; delete some you no longer use.", maxSavedViews)
	}
	v := SavedView{Name: name, Query: clean}
	err = db.WithContext(ctx).Raw(`INSERT INTO saved_views (user_id, name, query) VALUES (?, ?, ?)
		ON CONFLICT (user_id, name) DO UPDATE SET query = EXCLUDED.query RETURNING id`,
		userID, name, clean).Scan(&v.ID).Error
	if err != nil {
		return SavedView{}, fmt.Errorf("console: save view: %w", err)
	}
	return v, nil
}

// cleanQueueURL accepts "/queues/<queue>?<query>" and drops the page cursor.
func cleanQueueURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		u = &url.URL{}
	}
	queue, ok := strings.CutPrefix(u.Path, "/queues/")
	if u.Scheme != "" || u.Host != "" || !ok || !ValidQueue(queue) {
		return "", apperr.Invalidf("A saved view must be a queue address such as /queues/refund?urgency=3.")
	}
	f, _ := ParseFilter(u.Query())
	out := "/queues/" + queue
	if q := f.Values().Encode(); q != "" {
		out += "?" + q
	}
	return out, nil
}

// DeleteView removes one of the user's views; another user's view is not found.
func DeleteView(ctx context.Context, db *gorm.DB, userID, id int64) error {
	res := db.WithContext(ctx).Exec("DELETE FROM saved_views WHERE id = ? AND user_id = ?", id, userID)
	if res.Error != nil {
		return fmt.Errorf("console: delete view: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return apperr.NotFoundf("That saved view does not exist (it may have been deleted already).")
	}
	return nil
}
