package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
	ct "github.com/countersign/countersign/internal/console/consoletest"
	"github.com/countersign/countersign/internal/testdb"
)

func setup(t *testing.T) (*gorm.DB, *auth.Principal) {
	t.Parallel()
	db := testdb.New(t).Gorm
	p := ct.User(t, db, "Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	return db, p
}

func filter(t *testing.T, q string) console.Filter {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	f, msgs := console.ParseFilter(v)
	if len(msgs) > 0 {
		t.Fatalf("filter %q: %v", q, msgs)
	}
	return f
}

func ids(rows []console.Row) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

// TestKeysetPagination walks every sort in both directions with ties and NULLs and
// checks each case appears exactly once, in the same order as one big page.
func TestKeysetPagination(t *testing.T) {
	db, p := setup(t)
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var want []int64
	for i := range 37 {
		c := ct.Case{Kind: "refund", Urgency: i % 4, Currency: "USD", CreatedAt: base.Add(time.Duration(i%5) * time.Hour)}
		if i%3 != 0 {
			c.AmountMinor = ct.Minor(int64(i%7) * 1000)
			d := base.Add(time.Duration(i%6) * 24 * time.Hour)
			c.Deadline = &d
		}
		want = append(want, ct.Insert(t, db, c))
	}
	ct.Insert(t, db, ct.Case{Kind: "dispute"})                // other queue
	ct.Insert(t, db, ct.Case{Kind: "refund", Status: "done"}) // closed
	ctx := context.Background()
	sc := console.Scope{Queue: "refund", Viewer: p.UserID, Now: time.Now()}
	for _, sort := range console.Sorts {
		for _, dir := range []string{"asc", "desc"} {
			t.Run(sort+"_"+dir, func(t *testing.T) {
				all, err := console.List(ctx, db, sc, filter(t, "size=100&sort="+sort+"&dir="+dir))
				if err != nil {
					t.Fatal(err)
				}
				if len(all.Rows) != len(want) || all.Next != nil {
					t.Fatalf("one page: %d rows, next %v; want %d", len(all.Rows), all.Next, len(want))
				}
				var got []int64
				f := filter(t, "size=25&sort="+sort+"&dir="+dir)
				for range 10 {
					pg, err := console.List(ctx, db, sc, f)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, ids(pg.Rows)...)
					if pg.Next == nil {
						break
					}
					v := f.Values()
					v.Set("after", pg.Next.Encode())
					f, _ = console.ParseFilter(v)
				}
				if !slices.Equal(got, ids(all.Rows)) {
					t.Fatalf("paged order differs:\n got %v\nwant %v", got, ids(all.Rows))
				}
			})
		}
	}
}

func TestFilters(t *testing.T) {
	db, p := setup(t)
	other := ct.User(t, db, "Sam Support", "sam@example.com", auth.SupportLead)
	now := time.Now().UTC()
	past, soon, later := now.Add(-3*time.Hour), now.Add(2*time.Hour), now.Add(30*24*time.Hour)
	a := ct.Insert(t, db, ct.Case{Kind: "dispute", Urgency: 3, VIP: true, Confidence: 0.9, AmountMinor: ct.Minor(8900), Currency: "USD",
		Deadline: &past, AssigneeID: &p.UserID, CustomerLabel: "Ada Lovelace", DestinationRef: "PAY-77311",
		Summary: "Caller disputes a duplicate charge"})
	b := ct.Insert(t, db, ct.Case{Kind: "refund", Urgency: 1, Confidence: 0.4, AmountMinor: ct.Minor(150000), Currency: "JPY",
		Deadline: &soon, AssigneeID: &other.UserID, Summary: "Refund for a cancelled order",
		Transcript: []ct.Turn{{Speaker: "user", Text: "I want my refund for invoice INV-2041"}}})
	c := ct.Insert(t, db, ct.Case{Kind: "refund", Urgency: 0, Status: "needs_info", Deadline: &later,
		CreatedAt: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)})
	d := ct.Insert(t, db, ct.Case{Kind: "collections", Status: "done"})
	cases := []struct {
		queue, q string
		want     []int64
	}{
		{"open", "", []int64{a, b, c}},
		{"open", "status=done", []int64{d}},
		{"open", "status=needs_info&status=triaged", []int64{c}},
		{"open", "urgency=3", []int64{a}},
		{"open", "vip=1", []int64{a}},
		{"open", "currency=USD&amount_min=50&amount_max=89", []int64{a}},
		{"open", "currency=USD&amount_min=89.01", nil},
		{"open", "currency=JPY&amount_min=1500", []int64{b}},
		{"open", "deadline=overdue", []int64{a}},
		{"open", "deadline=week", []int64{b}},
		{"open", "assignee=me", []int64{a}},
		{"open", "assignee=none", []int64{c}},
		{"open", fmt.Sprintf("assignee=%d", other.UserID), []int64{b}},
		{"open", "confidence=low", []int64{b, c}},
		{"open", "received_from=2026-01-15&received_to=2026-01-15", []int64{c}},
		{"open", "q=duplicate+charge", []int64{a}},
		{"open", "q=PAY-77311", []int64{a}},
		{"open", "q=lovelace", []int64{a}},
		{"open", "q=INV-2041", []int64{b}},
		{"open", "q=refunds", []int64{b}},
		{"mine", "", []int64{a}},
		{"refund", "", []int64{b, c}},
	}
	for _, tc := range cases {
		pg, err := console.List(context.Background(), db, console.Scope{Queue: tc.queue, Viewer: p.UserID, Now: now},
			filter(t, tc.q+"&sort=received&dir=desc"))
		if err != nil {
			t.Fatalf("%s?%s: %v", tc.queue, tc.q, err)
		}
		got := ids(pg.Rows)
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s?%s: got %v, want %v", tc.queue, tc.q, got, want)
		}
	}
}

func TestFilterMessages(t *testing.T) {
	_, msgs := console.ParseFilter(url.Values{"amount_min": {"10"}})
	if len(msgs) != 1 || !strings.Contains(msgs[0], "currency") {
		t.Fatalf("amount without currency: %v", msgs)
	}
	_, msgs = console.ParseFilter(url.Values{"currency": {"USD"}, "amount_min": {"1.005"}, "after": {"%%%"}})
	if len(msgs) != 2 {
		t.Fatalf("bad amount and cursor: %v", msgs)
	}
}

func auditActions(t *testing.T, db *gorm.DB, caseID int64) []string {
	t.Helper()
	recs, err := audit.List(context.Background(), db, audit.Filter{ObjectType: "case", ObjectID: fmt.Sprint(caseID)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		out = append(out, r.Action)
	}
	return out
}

func TestBulkChangesAreAudited(t *testing.T) {
	db, p := setup(t)
	ctx := context.Background()
	call := ct.InsertCall(t, db, ct.Case{})
	a := ct.Insert(t, db, ct.Case{Kind: "review", CallID: call})
	b := ct.Insert(t, db, ct.Case{Kind: "dispute", CallID: call})
	c := ct.Insert(t, db, ct.Case{Kind: "review"})
	res, err := console.Change(ctx, db, p, []int64{a, b, c, 999999}, console.Action{Name: console.ActAssign, AssigneeID: p.UserID})
	if err != nil || len(res.Changed) != 3 || res.Skipped[999999] != "not found" {
		t.Fatalf("assign: %+v %v", res, err)
	}
	res, err = console.Change(ctx, db, p, []int64{a, c}, console.Action{Name: console.ActReclassify, Kind: "dispute"})
	if err != nil || !slices.Equal(res.Changed, []int64{c}) || !strings.Contains(res.Skipped[a], "already has a dispute case") {
		t.Fatalf("reclassify: %+v %v", res, err)
	}
	if _, err := console.ChangeOne(ctx, db, p, a, console.Action{Name: console.ActReclassify, Kind: "dispute"}); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("single reclassify onto a taken kind: %v", err)
	}
	if _, err := console.Change(ctx, db, p, []int64{a, c}, console.Action{Name: console.ActTag, Tag: "Chargeback"}); err != nil {
		t.Fatal(err)
	}
	if _, err := console.Change(ctx, db, p, []int64{c}, console.Action{Name: console.ActReview}); err != nil {
		t.Fatal(err)
	}
	if got := auditActions(t, db, c); !slices.Equal(got, []string{"case.reviewed", "case.tagged", "case.reclassified", "case.assigned"}) {
		t.Fatalf("audit of case %d: %v", c, got)
	}
	if got := auditActions(t, db, a); !slices.Equal(got, []string{"case.tagged", "case.assigned"}) {
		t.Fatalf("audit of case %d: %v", a, got)
	}
	if _, err := console.Change(ctx, db, p, []int64{a}, console.Action{Name: console.ActAssign, AssigneeID: 424242}); !errors.Is(err, apperr.ErrValidation) {
		t.Fatalf("assign to unknown user: %v", err)
	}
}

func TestMatchingIDsCap(t *testing.T) {
	db, p := setup(t)
	ct.Insert(t, db, ct.Case{})
	got, err := console.MatchingIDs(context.Background(), db, console.Scope{Queue: "open", Viewer: p.UserID, Now: time.Now()}, console.Filter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
}

func TestNotesAndMentions(t *testing.T) {
	db, p := setup(t)
	ctx := context.Background()
	sam := ct.User(t, db, "Sam Support", "sam.s@example.com", auth.SupportLead)
	id := ct.Insert(t, db, ct.Case{})
	_, err := console.AddNote(ctx, db, p, id, "Customer read 4242 4242 4242 4242 to me")
	if !errors.Is(err, console.ErrSensitiveNote) || !strings.Contains(err.Error(), "card number") || strings.Contains(err.Error(), "4242") {
		t.Fatalf("card note: %v", err)
	}
	var n int64
	db.Raw("SELECT count(*) FROM notes").Scan(&n)
	if n != 0 {
		t.Fatalf("refused note stored: %d notes", n)
	}
	if _, err := console.AddNote(ctx, db, p, id, "Promised a call back by Friday, @sam.s please check."); err != nil {
		t.Fatal(err)
	}
	counts, err := console.NavCounts(ctx, db, sam.UserID)
	if err != nil || counts.Mentions != 1 {
		t.Fatalf("mentions count: %+v %v", counts, err)
	}
	pg, _ := console.List(ctx, db, console.Scope{Queue: "mentions", Viewer: sam.UserID, Now: time.Now()}, console.Filter{})
	if !slices.Equal(ids(pg.Rows), []int64{id}) {
		t.Fatalf("mentions queue: %v", ids(pg.Rows))
	}
	if n, err := console.MarkMentionsRead(ctx, db, id, sam.UserID); err != nil || n != 1 {
		t.Fatalf("mark read: %d %v", n, err)
	}
	counts, _ = console.NavCounts(ctx, db, sam.UserID)
	if counts.Mentions != 0 {
		t.Fatalf("mention still unread: %+v", counts)
	}
	if got := auditActions(t, db, id); !slices.Equal(got, []string{"case.note_added"}) {
		t.Fatalf("audit: %v", got)
	}
	d, err := console.LoadDetail(ctx, db, sam, id)
	if err != nil || len(d.Notes) != 1 || len(d.Timeline) != 1 || d.Timeline[0].Action != "note" {
		t.Fatalf("detail: %+v %v", d, err)
	}
}

func TestDetail(t *testing.T) {
	db, p := setup(t)
	ctx := context.Background()
	sam := ct.User(t, db, "Sam Support", "sam@example.com", auth.SupportLead)
	id := ct.Insert(t, db, ct.Case{Kind: "dispute", CustomerNumber: "+12125550187", RecordingURL: "https://rec.example/1.mp3",
		Transcript: []ct.Turn{{Speaker: "agent", Text: "How can I help?"}, {Speaker: "user", Text: "Two charges, PAY-77311 and one more, 89 dollars"}},
		Fields:     map[string]any{"payment_id": "PAY-77311", "amount": 89.0, "currency": "USD"},
		Suppressed: map[string]int{"card": 2}})
	ct.Insert(t, db, ct.Case{Kind: "collections", CustomerNumber: "+12125550187", CallStatus: "hangup"})
	d, err := console.LoadDetail(ctx, db, p, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Recording == nil || d.RecordingRestricted {
		t.Fatalf("finance approver should get the recording: %+v", d.Recording)
	}
	fields := map[string]int{}
	for _, f := range d.Fields {
		fields[f.Name] = f.Turn
	}
	if fields["payment_id"] != 1 || fields["amount"] != 1 || fields["currency"] != -1 {
		t.Fatalf("field turns: %v", fields)
	}
	if d.Case.SuppressedCounts["card"] != 2 || console.SuppressedLabel("card", 2) != "2 card numbers" {
		t.Fatalf("suppressed: %v", d.Case.SuppressedCounts)
	}
	if len(d.Customer) != 1 || d.Customer[0].Status != "hangup" || len(d.Customer[0].Cases) != 1 {
		t.Fatalf("customer history: %+v", d.Customer)
	}
	if d.Billing.LookedUp {
		t.Fatal("billing facts without a table")
	}
	d, _ = console.LoadDetail(ctx, db, sam, id)
	if d.Recording != nil || !d.RecordingRestricted {
		t.Fatal("support lead must not get the recording link")
	}
	if _, err := console.LoadDetail(ctx, db, p, 987654); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("unknown case: %v", err)
	}
}

func TestExportEscapesFormulas(t *testing.T) {
	db, p := setup(t)
	ct.Insert(t, db, ct.Case{CustomerLabel: "=HYPERLINK(\"http://evil\")", DestinationRef: "+1-800", AmountMinor: ct.Minor(24950), Currency: "USD"})
	ct.Insert(t, db, ct.Case{CustomerLabel: "@SUM(A1)"})
	var buf bytes.Buffer
	n, err := console.Export(context.Background(), db, p, console.Scope{Queue: "open", Viewer: p.UserID, Now: time.Now()},
		console.Filter{Sort: "received", Desc: true}, &buf, nil)
	if err != nil || n != 2 {
		t.Fatalf("export: %d %v", n, err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[1][8] != "'@SUM(A1)" || recs[2][8] != `'=HYPERLINK("http://evil")` || recs[2][9] != "'+1-800" || recs[2][6] != "249.50" {
		t.Fatalf("cells: %q", recs)
	}
	var entries int64
	db.Raw("SELECT count(*) FROM audit_log WHERE action = 'queue.exported'").Scan(&entries)
	if entries != 1 {
		t.Fatalf("export audit entries: %d", entries)
	}
}

func TestSavedViews(t *testing.T) {
	db, p := setup(t)
	ctx := context.Background()
	v, err := console.SaveView(ctx, db, p.UserID, "Urgent refunds", "/queues/refund?urgency=3&after=abc")
	if err != nil || v.Query != "/queues/refund?urgency=3" {
		t.Fatalf("save: %+v %v", v, err)
	}
	for _, bad := range []string{"https://evil.example/queues/refund", "//evil.example/queues/x", "javascript:alert(1)", "/queues/nope"} {
		if _, err := console.SaveView(ctx, db, p.UserID, "x", bad); !errors.Is(err, apperr.ErrValidation) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
	other := ct.User(t, db, "O", "o@example.com", auth.SupportLead)
	if err := console.DeleteView(ctx, db, other.UserID, v.ID); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("deleting another user's view: %v", err)
	}
	if err := console.DeleteView(ctx, db, p.UserID, v.ID); err != nil {
		t.Fatal(err)
	}
}

// TestIndexerKeepsSearchCurrent: a case's vector is stale until the indexer runs, and
// becomes stale again when its call's text changes.
func TestIndexerKeepsSearchCurrent(t *testing.T) {
	db := testdb.New(t).Gorm
	ctx := context.Background()
	id := ct.Insert(t, db, ct.Case{Kind: "refund", CustomerLabel: "Marie Curie", Summary: "radium invoice refund"})
	stale := func() bool {
		var n int64
		db.Raw(`SELECT count(*) FROM case_search_stale WHERE case_id = ?`, id).Scan(&n)
		return n == 1
	}
	if stale() {
		t.Fatal("consoletest.Insert should leave the case indexed")
	}
	if err := db.Exec(`UPDATE calls SET summary = 'polonium dispute' WHERE id = (SELECT call_id FROM cases WHERE id = ?)`, id).Error; err != nil {
		t.Fatal(err)
	}
	if !stale() {
		t.Fatal("changing the call's summary should mark the case's vector stale")
	}
	if n, err := console.IndexPending(ctx, db, 10); err != nil || n != 1 {
		t.Fatalf("IndexPending = %d, %v; want 1", n, err)
	}
	var hit int64
	db.Raw(`SELECT count(*) FROM case_search WHERE case_id = ? AND search @@ websearch_to_tsquery('english', 'polonium')`, id).Scan(&hit)
	if hit != 1 {
		t.Fatal("the new summary is not searchable after indexing")
	}
}

// TestIndexerSlowsDownWhileBusy: while the foreground is busy the indexer steps
// aside: nothing for BusyDefer, then one batch of IndexBatch cases, leaving the rest
// stale for later.
func TestIndexerSlowsDownWhileBusy(t *testing.T) {
	db := testdb.New(t).Gorm
	for i := range console.IndexBatch + 50 {
		ct.Insert(t, db, ct.Case{Kind: "refund", CustomerLabel: fmt.Sprintf("Customer %d", i), Summary: "refund"})
	}
	if err := db.Exec(`INSERT INTO case_search_stale (case_id) SELECT id FROM cases`).Error; err != nil {
		t.Fatal(err)
	}
	stale := func() int64 {
		var n int64
		db.Raw(`SELECT count(*) FROM case_search_stale`).Scan(&n)
		return n
	}
	const deferFor = 2 * time.Second
	c, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	started := time.Now()
	go func() {
		defer close(done)
		console.RunIndexerWith(c, db, console.IndexerOptions{Every: 5 * time.Millisecond,
			Busy: func() bool { return true }, BusyEvery: 20 * time.Millisecond, BusyDefer: deferFor})
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(deferFor / 4)
	if n := stale(); n != console.IndexBatch+50 && time.Since(started) < deferFor {
		t.Fatalf("busy: %d cases stale %s after the start, want all %d", n, time.Since(started), console.IndexBatch+50)
	}
	for deadline := time.Now().Add(10 * time.Second); stale() > 50; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no busy round within 10 s: %d stale", stale())
		}
	}
	if took := time.Since(started); took < deferFor {
		t.Errorf("the first busy round ran %s after the start, want at least %s", took, deferFor)
	}
	time.Sleep(200 * time.Millisecond)
	if n := stale(); n != 50 {
		t.Errorf("busy: %d cases stale after one round, want 50", n)
	}
}
