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

// LockKey is the pg_advisory_xact_lock key that serialises sealers (Seal), across
// processes. It is "audit" in ASCII; nothing else in Countersign may use it. Append
// never takes it.
const LockKey int64 = 0x6175646974

// Sentinel errors; match with errors.Is.
var (
	ErrInvalid          = errors.New("audit: invalid entry")
	ErrNotInTransaction = errors.New("audit: Append needs a transaction")
	ErrNotFound         = errors.New("audit: not found")
	ErrChainMoved       = errors.New("audit: chain moved under the sealer's lock (a sealer that bypassed LockKey?)")
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

// Record is an Entry as stored: sanitised, with its row ID and time, and once sealed
// its place in the chain (Seq, PrevHash, Hash). An unsealed record has Seq 0 and no
// hashes. Summary numbers are json.Number, exactly as stored, so the hash recomputes.
type Record struct {
	ID  int64
	Seq int64
	At  time.Time
	Entry
	PrevHash []byte
	Hash     []byte
}

// Sealed says r has its place in the chain.
func (r Record) Sealed() bool { return r.Seq > 0 }

// Head identifies the end of the chain at one moment. Exported heads, kept outside
// the database, are what expose a cut tail or a rewritten chain.
type Head struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// genesis is prev_hash of entry 1.
var genesis = make([]byte, sha256.Size)

// Append writes e, unsealed, inside tx, which must be a gorm transaction, so that the
// entry commits or rolls back with the change it records. It takes no lock and reads
// nothing of the chain, so audited transactions do not wait on each other; Seal gives
// the entry its seq and hash after tx commits. The returned Record has ID and At but
// Seq 0 and no hashes.
func Append(ctx context.Context, tx *gorm.DB, e Entry) (Record, error) {
	if c, ok := tx.Statement.ConnPool.(gorm.TxCommitter); !ok || c == nil {
		return Record{}, ErrNotInTransaction
	}
	e, err := sanitise(e)
	if err != nil {
		return Record{}, err
	}
	raw, err := encodeCanonical(e.Summary)
	if err != nil {
		return Record{}, fmt.Errorf("%w: summary: %v", ErrInvalid, err)
	}
	r := Record{Entry: e}
	var stored string
	// RETURNING the summary as Postgres stores it (jsonb reorders keys and reprints
	// numbers) gives the caller what the sealer will hash, in the same round trip.
	err = tx.WithContext(ctx).Raw(`INSERT INTO audit_log (at, actor, actor_id, action, object_type,
		object_id, outcome, summary, request_id, ip, user_agent)
		VALUES (clock_timestamp(), ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), ?, ?, ?)
		RETURNING id, at, summary::text`,
		e.Actor, e.ActorID, e.Action, e.ObjectType, e.ObjectID, e.Outcome, string(raw),
		e.RequestID, e.IP, e.UserAgent).Row().Scan(&r.ID, &r.At, &stored)
	if err != nil {
		return Record{}, fmt.Errorf("audit: insert %s: %w", e.Action, err)
	}
	r.At = r.At.UTC()
	if r.Summary, err = decodeSummary(stored); err != nil {
		return Record{}, fmt.Errorf("audit: stored summary of id %d: %w", r.ID, err)
	}
	return r, nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || (errors.As(err, &pgErr) && pgErr.Code == "23505")
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

// CurrentHead returns the last sealed entry's seq and hash; Seq 0 (and the genesis
// hash) when nothing is sealed yet. Entries appended but not sealed are not part of
// the chain yet, so not of the head. Export it to a file the database cannot reach.
func CurrentHead(ctx context.Context, db *gorm.DB) (Head, error) {
	var (
		seq  int64
		hash []byte
		at   time.Time
	)
	err := db.WithContext(ctx).Raw(`SELECT seq, hash, at FROM audit_log WHERE seq IS NOT NULL
		ORDER BY seq DESC LIMIT 1`).Row().Scan(&seq, &hash, &at)
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
		"id":          r.ID,
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

// AppendMany writes several entries in one statement inside the caller's transaction:
// the same as calling Append for each, in order, for one round trip instead of many
// (the webhook path audits a call and each of its cases). It returns no records.
func AppendMany(ctx context.Context, tx *gorm.DB, entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if c, ok := tx.Statement.ConnPool.(gorm.TxCommitter); !ok || c == nil {
		return ErrNotInTransaction
	}
	sql, args, err := InsertStatement(entries...)
	if err != nil {
		return err
	}
	if _, err := tx.Statement.ConnPool.ExecContext(ctx, sql, args...); err != nil {
		return fmt.Errorf("audit: insert %d entries: %w", len(entries), err)
	}
	return nil
}

// InsertStatement is AppendMany's statement, with $n placeholders, for callers that
// pipeline their own transaction on a pgx connection. The caller must run it inside
// the transaction whose change the entries record. Its text is the same for any
// number of entries (they travel as arrays), so it is prepared and planned once per
// connection.
func InsertStatement(entries ...Entry) (string, []any, error) {
	if len(entries) == 0 {
		return "", nil, fmt.Errorf("%w: no entries", ErrInvalid)
	}
	rows, err := NewRows(entries...)
	if err != nil {
		return "", nil, err
	}
	return `INSERT INTO audit_log (` + RowColumns + `) SELECT ` + RowValues("e", "e.object_id") +
		` FROM ` + RowsFrom(1, "e") + ` ORDER BY e.ord`, rows.Args(), nil
}

// Rows are entries sanitised and encoded as Append would store them, as parallel
// arrays: for a statement that inserts them together with the rows they record (the
// webhook path inserts a call's cases and their case.created entries in one
// statement, each entry only if its case was inserted).
type Rows struct {
	actors, actions, objectTypes, objectIDs, outcomes, summaries, requestIDs, ips, userAgents []string
	actorIDs                                                                                  []*int64
}

// NewRows sanitises and encodes entries, in order.
func NewRows(entries ...Entry) (Rows, error) {
	var r Rows
	for _, e := range entries {
		e, err := sanitise(e)
		if err != nil {
			return Rows{}, err
		}
		raw, err := encodeCanonical(e.Summary)
		if err != nil {
			return Rows{}, fmt.Errorf("%w: summary: %v", ErrInvalid, err)
		}
		r.actors = append(r.actors, e.Actor)
		r.actorIDs = append(r.actorIDs, e.ActorID)
		r.actions = append(r.actions, e.Action)
		r.objectTypes = append(r.objectTypes, e.ObjectType)
		r.objectIDs = append(r.objectIDs, e.ObjectID)
		r.outcomes = append(r.outcomes, e.Outcome)
		r.summaries = append(r.summaries, string(raw))
		r.requestIDs = append(r.requestIDs, e.RequestID)
		r.ips = append(r.ips, e.IP)
		r.userAgents = append(r.userAgents, e.UserAgent)
	}
	return r, nil
}

// Args are the ten arrays RowsFrom reads, in its placeholder order.
func (r Rows) Args() []any {
	return []any{r.actors, r.actorIDs, r.actions, r.objectTypes, r.objectIDs, r.outcomes, r.summaries,
		r.requestIDs, r.ips, r.userAgents}
}

// RowColumns are the audit_log columns RowValues fills, in its order.
const RowColumns = `at, actor, actor_id, action, object_type, object_id, outcome, summary, request_id, ip, user_agent`

// RowsFrom is a FROM item, named alias, yielding Rows' entries from the arrays at
// placeholders $first to $first+9, with columns ord (1, 2, ... in entry order), actor, actor_id,
// action, object_type, object_id, outcome, summary, request_id, ip, user_agent.
// Insert them ORDER BY ord: ids are then taken in entry order.
func RowsFrom(first int, alias string) string {
	p := func(i int) int { return first + i }
	return fmt.Sprintf(`unnest($%d::text[], $%d::bigint[], $%d::text[], $%d::text[], $%d::text[], $%d::text[], $%d::text[],
		$%d::text[], $%d::text[], $%d::text[]) WITH ORDINALITY
		AS %s(actor, actor_id, action, object_type, object_id, outcome, summary, request_id, ip, user_agent, ord)`,
		p(0), p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9), alias)
}

// RowValues is the select list for RowColumns from the RowsFrom item named alias,
// with objectID as the object_id (alias.object_id, or an expression giving the id of
// a row the same statement inserts; it must be the text of a value that needs no
// sanitising, such as an integer id).
func RowValues(alias, objectID string) string {
	a := alias + "."
	return `clock_timestamp(), ` + a + `actor, ` + a + `actor_id, ` + a + `action, ` + a + `object_type, ` +
		objectID + `, ` + a + `outcome, ` + a + `summary::jsonb, ` + a + `request_id, ` + a + `ip, ` + a + `user_agent`
}
