package foo

import (
	"gorm.io/gorm"

	"github.com/countersign/countersign/handlers"
)

var _ = handlers.X

func moves(tx *gorm.DB) {
	tx.Exec(`UPDATE cases SET status = 'done' WHERE id = ?`, 1)
	tx.Exec(`update actions
		set last_error = '', status = 'queued' where id = ?`, 1)
	tx.Model(nil).Update("status", "done")
	// Fine: status only in WHERE, or another table, or another column.
	tx.Exec(`UPDATE cases SET assignee_id = NULL WHERE id = ? AND status = 'new'`, 1)
	tx.Exec(`UPDATE connector_alerts SET status = 'done' WHERE id = ?`, 1)
	tx.Exec(`UPDATE cases SET suspected_kind = '' WHERE id = ?`, 1)
	tx.Exec(`INSERT INTO cases (status) VALUES ('new')`)
}
