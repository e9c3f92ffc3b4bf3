package console

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/textsafe"
	"github.com/countersign/countersign/internal/tone"
)

// MaxNoteLength is the longest note accepted, in characters.
const MaxNoteLength = 4000

// ErrSensitiveNote is matched (errors.Is) by the refusal of a note that contains card,
// bank or tax data, or abusive or threatening wording (internal/tone); its message
// says what was found and how to write the note instead.
var ErrSensitiveNote = errors.New("console: note contains card, bank or tax data")

// refusal is a sensitive-note refusal; it matches ErrSensitiveNote and apperr.ErrValidation.
type refusal struct{ msg string }

func (e *refusal) Error() string { return e.msg }
func (e *refusal) Is(target error) bool {
	return target == ErrSensitiveNote || target == apperr.ErrValidation
}

// NoteGuidance is shown beside the note form and in every refusal.
const NoteGuidance = "Keep notes factual: what the customer asked, what was promised and by when. Never write card, bank or tax numbers in a note."

var mentionPattern = regexp.MustCompile(`(^|[^\w.@])@([A-Za-z0-9][A-Za-z0-9._-]{0,63})`)

// AddNote stores an internal note on case caseID by p, records @mentions of other
// users as unread mentions, and audits it, in one transaction. A note with card, bank
// or tax data is refused (nothing is stored) with a message saying what was found.
func AddNote(ctx context.Context, db *gorm.DB, p *auth.Principal, caseID int64, body string) (int64, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return 0, apperr.Invalidf("The note is empty.")
	}
	if err := textsafe.Check(body); err != nil {
		return 0, apperr.Invalidf("The note was not saved: %s.", err.Error())
	}
	if utf8.RuneCountInString(body) > MaxNoteLength {
		return 0, apperr.Invalidf("The note is longer than %d characters; shorten it.", MaxNoteLength)
	}
	if found := redact.Detect(body); found.Total() > 0 {
		return 0, &refusal{msg: "The note was not saved: it contains " + describeFindings(found) +
			". " + NoteGuidance + " Remove the numbers and save again."}
	}
	if found := tone.Check(body); len(found) > 0 {
		return 0, &refusal{msg: "The note was not saved: it uses " + tone.Describe(found) +
			". " + NoteGuidance + " Describe what was said and agreed, without insults or threats."}
	}
	var noteID int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var exists bool
		if err := tx.Raw("SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?)", caseID).Scan(&exists).Error; err != nil {
			return fmt.Errorf("console: note: find case %d: %w", caseID, err)
		}
		if !exists {
			return apperr.NotFoundf("Case %d does not exist.", caseID)
		}
		if err := tx.Raw("INSERT INTO notes (case_id, author_id, body) VALUES (?, ?, ?) RETURNING id",
			caseID, p.UserID, body).Scan(&noteID).Error; err != nil {
			return fmt.Errorf("console: insert note: %w", err)
		}
		mentioned, err := resolveMentions(tx, body, p.UserID)
		if err != nil {
			return err
		}
		for _, uid := range mentioned {
			if err := tx.Exec("INSERT INTO mentions (note_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", noteID, uid).Error; err != nil {
				return fmt.Errorf("console: insert mention: %w", err)
			}
		}
		_, err = audit.Append(ctx, tx, Entry(ctx, p, "case.note_added", caseID,
			map[string]any{"note_id": noteID, "mentions": mentioned, "length": utf8.RuneCountInString(body)}))
		return err
	})
	return noteID, err
}

var findingNames = map[redact.Kind][2]string{
	redact.Card: {"a card number", "card numbers"}, redact.CVV: {"a card security code", "card security codes"},
	redact.IBAN: {"an IBAN", "IBANs"}, redact.Routing: {"a bank routing number", "bank routing numbers"},
	redact.BankAccount: {"a bank account number", "bank account numbers"}, redact.SSN: {"a social security number", "social security numbers"},
	redact.EIN: {"an EIN", "EINs"}, redact.ITIN: {"an ITIN", "ITINs"}, redact.VAT: {"a VAT number", "VAT numbers"},
}

// describeFindings says what was found without repeating any of it.
func describeFindings(c redact.Counts) string {
	var parts []string
	for k, n := range c {
		names, ok := findingNames[k]
		if !ok {
			names = [2]string{"a " + string(k) + " number", string(k) + " numbers"}
		}
		if n == 1 {
			parts = append(parts, names[0])
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", n, names[1]))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " and ")
}

// SuppressedLabel describes a calls.suppressed entry: "2 card numbers".
func SuppressedLabel(kind string, n int) string {
	names, ok := findingNames[redact.Kind(kind)]
	if !ok {
		return fmt.Sprintf("%d %s values", n, kind)
	}
	if n == 1 {
		return "1 " + strings.TrimPrefix(strings.TrimPrefix(names[0], "an "), "a ")
	}
	return fmt.Sprintf("%d %s", n, names[1])
}

// UnknownMentions lists the @names in body that match no active user (nobody is
// notified for them), so the page can say so instead of dropping them silently.
func UnknownMentions(ctx context.Context, db *gorm.DB, body string) ([]string, error) {
	var unknown []string
	for _, m := range mentionPattern.FindAllStringSubmatch(body, 20) {
		t := strings.ToLower(strings.TrimRight(m[2], ".-_"))
		if t == "" || slices.Contains(unknown, t) {
			continue
		}
		ids, err := resolveMentions(db.WithContext(ctx), "@"+t, 0)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			unknown = append(unknown, t)
		}
	}
	return unknown, nil
}

// resolveMentions matches @tokens against active users: the email's local part, the
// full name without spaces, or a first name held by exactly one user. The author is
// never mentioned.
func resolveMentions(tx *gorm.DB, body string, author int64) ([]int64, error) {
	var tokens []string
	for _, m := range mentionPattern.FindAllStringSubmatch(body, 20) {
		t := strings.ToLower(strings.TrimRight(m[2], ".-_"))
		if t != "" && !slices.Contains(tokens, t) {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) == 0 {
		return nil, nil
	}
	var ids []int64
	err := tx.Raw(`SELECT DISTINCT u.id FROM users u, unnest(string_to_array(?, ' ')) AS t(tok)
		WHERE NOT u.disabled AND u.id <> ? AND (
			lower(split_part(u.email, '@', 1)) = t.tok
			OR lower(replace(u.name, ' ', '')) = t.tok
			OR (lower(split_part(u.name, ' ', 1)) = t.tok AND (SELECT count(*) FROM users v
				WHERE NOT v.disabled AND lower(split_part(v.name, ' ', 1)) = t.tok) = 1))
		ORDER BY u.id`, strings.Join(tokens, " "), author).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("console: resolve mentions: %w", err)
	}
	return ids, nil
}

// MarkMentionsRead marks user's unread mentions in case caseID's notes as read: the
// user has now seen the case. It returns how many were marked.
func MarkMentionsRead(ctx context.Context, db *gorm.DB, caseID, userID int64) (int64, error) {
	res := db.WithContext(ctx).Exec(`UPDATE mentions SET read_at = now() WHERE user_id = ? AND read_at IS NULL
		AND note_id IN (SELECT id FROM notes WHERE case_id = ?)`, userID, caseID)
	if res.Error != nil {
		return 0, fmt.Errorf("console: mark mentions read: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// MentionUser is someone a note can @mention: Handle is what resolveMentions
// matches (the email's local part), Label the name shown beside it.
type MentionUser struct {
	Handle string `gorm:"column:handle"`
	Label  string `gorm:"column:label"`
}

// MentionUsers lists the active users a note can mention (everyone who has signed
// in), for the note form's autocomplete.
func MentionUsers(ctx context.Context, db *gorm.DB) ([]MentionUser, error) {
	var out []MentionUser
	err := db.WithContext(ctx).Raw(`SELECT lower(split_part(email, '@', 1)) AS handle,
			coalesce(nullif(name, ''), email) AS label
		FROM users WHERE NOT disabled AND email <> ''
		ORDER BY lower(split_part(email, '@', 1)), id LIMIT 500`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("console: mention users: %w", err)
	}
	return out, nil
}
