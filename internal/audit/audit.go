package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// LockKey is the pg_advisory_xact_lock key that serialises audit writers. It is
// "audit" in ASCII; nothing else in Countersign may use it.
const LockKey int64 = 0x6175646974

// Sentinel errors; match with errors.Is.
var (
	ErrInvalid          = errors.New("audit: invalid entry")
	ErrNotInTransaction = errors.New("audit: Append needs a transaction")
	ErrNotFound         = errors.New("audit: not found")
	ErrChainMoved       = errors.New("audit: chain head moved under the lock (is the transaction READ COMMITTED?)")
)

// Entry is what a caller records. Actor names who acted ("user:42 fiona@example.com",
// "system", "dialnexa"); Summary holds redacted before/after values, never secrets.
type Entry struct {
	Actor      string
	ActorID    *int64
	Action     string
	ObjectType string
	ObjectID   string
	Outcome    string
	Summary    map[string]any
	RequestID  string
	IP         string
	UserAgent  string
}

// Record is an Entry as stored: sanitised, numbered and chained. Summary numbers are
// json.Number, exactly as stored, so the hash recomputes.
type Record struct {
	Seq int64
	At  time.Time
	Entry
	PrevHash []byte
	Hash     []byte
}

// Head identifies the end of the chain at one moment. Exported heads, kept outside
// the database, are what expose a cut tail or a rewritten chain.
type Head struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// genesis is prev_hash of entry 1.
var genesis = make([]byte, sha256.Size)

// Append writes e as the next entry of the chain inside tx, which must be a gorm
// transaction. Call it last in the transaction: from here to commit every other
// audited write waits on LockKey. Rolling back tx leaves no entry.
func Append(ctx context.Context, tx *gorm.DB, e Entry) (Record, error) {
	if c, ok := tx.Statement.ConnPool.(gorm.TxCommitter); !ok || c == nil {
		return Record{}, ErrNotInTransaction
	}
	tx = tx.WithContext(ctx)
	e, err := sanitise(e)
	if err != nil {
		return Record{}, err
	}
	// Let Postgres normalise the summary first, so the hash covers exactly what a
	// later SELECT returns (jsonb reorders keys and reprints numbers).
	stored, summary, err := normaliseSummary(tx, e.Summary)
	if err != nil {
		return Record{}, err
	}
	e.Summary = summary
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", LockKey).Error; err != nil {
		return Record{}, fmt.Errorf("audit: lock chain: %w", err)
	}
	var (
		at       time.Time
		lastSeq  int64
		lastHash []byte
	)
	err = tx.Raw(`SELECT clock_timestamp(), coalesce(l.seq, 0), l.hash
		FROM (SELECT 1) one LEFT JOIN LATERAL
		     (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) l ON true`).Row().Scan(&at, &lastSeq, &lastHash)
	if err != nil {
		return Record{}, fmt.Errorf("audit: read chain head: %w", err)
	}
	if lastHash == nil {
		lastHash = genesis
	}
	r := Record{Seq: lastSeq + 1, At: at.UTC(), Entry: e, PrevHash: lastHash}
	if r.Hash, err = computeHash(&r); err != nil {
		return Record{}, err
	}
	err = tx.Exec(`INSERT INTO audit_log (seq, at, actor, actor_id, action, object_type, object_id,
		outcome, summary, request_id, ip, user_agent, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), ?, ?, ?, ?, ?)`,
		r.Seq, r.At, r.Actor, r.ActorID, r.Action, r.ObjectType, r.ObjectID,
		r.Outcome, stored, r.RequestID, r.IP, r.UserAgent, r.PrevHash, r.Hash).Error
	if err != nil {
		if isUniqueViolation(err) {
			return Record{}, fmt.Errorf("%w: seq %d: %v", ErrChainMoved, r.Seq, err)
		}
		return Record{}, fmt.Errorf("audit: insert seq %d: %w", r.Seq, err)
	}
	return r, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pgErr) && pgErr.Code == "23505")
}

// normaliseSummary round-trips the summary through jsonb and returns the text to
// store and the value to hash.
func normaliseSummary(tx *gorm.DB, summary map[string]any) (string, map[string]any, error) {
	raw, err := encodeCanonical(summary)
	if err != nil {
		return "", nil, fmt.Errorf("%w: summary: %v", ErrInvalid, err)
	}
	var text string
	if err := tx.Raw("SELECT CAST(? AS jsonb)::text", string(raw)).Row().Scan(&text); err != nil {
		return "", nil, fmt.Errorf("audit: normalise summary: %w", err)
	}
	m, err := decodeSummary(text)
	if err != nil {
		return "", nil, fmt.Errorf("audit: normalise summary: %w", err)
	}
	return text, m, nil
}

// decodeSummary parses a stored summary, keeping numbers as written.
func decodeSummary(text string) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// CurrentHead returns the last entry's seq and hash; Seq 0 (and the genesis hash)
// when the log is empty. Export it to a file the database cannot reach.
func CurrentHead(ctx context.Context, db *gorm.DB) (Head, error) {
	var (
		seq  int64
		hash []byte
		at   time.Time
	)
	err := db.WithContext(ctx).Raw("SELECT seq, hash, at FROM audit_log ORDER BY seq DESC LIMIT 1").Row().Scan(&seq, &hash, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Head{Hash: hex.EncodeToString(genesis)}, nil
	}
	if err != nil {
		return Head{}, fmt.Errorf("audit: read head: %w", err)
	}
	return Head{Seq: seq, Hash: hex.EncodeToString(hash), At: at.UTC()}, nil
}

// canonical is the byte string hashed for r; see doc.go.
func canonical(r *Record) ([]byte, error) {
	summary := r.Summary
	if summary == nil {
		summary = map[string]any{}
	}
	var actorID any
	if r.ActorID != nil {
		actorID = *r.ActorID
	}
	return encodeCanonical(map[string]any{
		"action":      r.Action,
		"actor":       r.Actor,
		"actor_id":    actorID,
		"at":          r.At.UTC().Format(time.RFC3339Nano),
		"ip":          r.IP,
		"object_id":   r.ObjectID,
		"object_type": r.ObjectType,
		"outcome":     r.Outcome,
		"prev_hash":   hex.EncodeToString(r.PrevHash),
		"request_id":  r.RequestID,
		"seq":         r.Seq,
		"summary":     summary,
		"user_agent":  r.UserAgent,
	})
}

// encodeCanonical writes v as compact JSON with sorted map keys and no HTML escaping.
func encodeCanonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func computeHash(r *Record) ([]byte, error) {
	c, err := canonical(r)
	if err != nil {
		return nil, fmt.Errorf("audit: canonical form of seq %d: %w", r.Seq, err)
	}
	h := sha256.New()
	h.Write(r.PrevHash)
	h.Write(c)
	return h.Sum(nil), nil
}
