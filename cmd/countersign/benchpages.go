package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/triage"
)

// Registered like seed (see registerCommand), independent of file-name order.
var _ = registerCommand(command{"bench-pages", "[--n 200] [--concurrency 4] [--url URL --cookie VALUE]",
	"Load test the console pages (queues, cases, dashboard) and report latency percentiles.", runBenchPages})

type benchPagesFlags struct {
	n, concurrency, cases int
	url, cookie           string
	explain               bool
}

func runBenchPages(ctx context.Context, args []string) error {
	fs := newFlags("bench-pages", "[--n 200] [--concurrency 4] [--cases 20] [--url URL --cookie VALUE]",
		"Request every queue page (open, each kind, a filter, a search, page 2 via the next link), a sample\n"+
			"of case pages and the dashboard N times each, and print p50/p95/p99/max and the page size.\n"+
			"By default it runs the real console in-process on the database (DATABASE_URL, or the private\n"+
			"cluster `dev` uses), signs a benchmark user in directly in the database, and prints\n"+
			"EXPLAIN (ANALYZE, BUFFERS) of the slowest query of the open queue. With --url it measures a\n"+
			"running console instead, with the session cookie given in --cookie.")
	var f benchPagesFlags
	fs.IntVar(&f.n, "n", 200, "requests per page")
	fs.IntVar(&f.concurrency, "concurrency", 4, "requests in flight at once")
	fs.IntVar(&f.cases, "cases", 20, "case pages sampled (requests cycle through them)")
	fs.StringVar(&f.url, "url", "", "base URL of a running console (default: in-process)")
	fs.StringVar(&f.cookie, "cookie", "", "with --url: the session cookie, as name=value or the value of countersign_session")
	fs.BoolVar(&f.explain, "explain", true, "in-process: print EXPLAIN (ANALYZE, BUFFERS) of the open queue's slowest query")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.n <= 0 || f.concurrency <= 0 {
		return usageError{"--n and --concurrency must be positive"}
	}
	if f.url != "" {
		if f.cookie == "" {
			return usageError{"--url needs --cookie (copy the session cookie from a signed-in browser)"}
		}
		return benchRemote(ctx, f)
	}
	return benchInProcess(ctx, f)
}

func benchRemote(ctx context.Context, f benchPagesFlags) error {
	name, value, ok := strings.Cut(f.cookie, "=")
	if !ok {
		name, value = auth.SessionCookieHTTP, f.cookie
	}
	b := &pageBench{base: strings.TrimRight(f.url, "/"), client: &http.Client{Timeout: 60 * time.Second},
		cookie: &http.Cookie{Name: name, Value: value}, f: f}
	pages, err := b.discoverCases(ctx, nil)
	if err != nil {
		return err
	}
	return b.run(ctx, pages, os.Stdout)
}

func benchInProcess(ctx context.Context, f benchPagesFlags) error {
	db, stop, err := openToolDB(ctx)
	if err != nil {
		return err
	}
	defer stop()
	cfg, err := config.Load(os.Getenv, config.Dev)
	if err != nil {
		return err
	}
	if len(cfg.SessionKeys) == 0 { // a throwaway key: the cookie only lives for this run
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		cfg.SessionKeys = [][]byte{key}
	}
	rec := &queryRecorder{}
	rec.install(db.Gorm)
	// Only server errors reach stderr: a 500 during the run should say why.
	srvLog := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := newServer(serverOptions{cfg: cfg, db: db, log: srvLog})
	if err != nil {
		return err
	}
	defer srv.graph.Close()
	ts := httptest.NewServer(srv.web.Handler())
	defer ts.Close()
	cookie, err := benchSignIn(ctx, db, cfg)
	if err != nil {
		return err
	}
	b := &pageBench{base: ts.URL, client: ts.Client(), cookie: cookie, f: f, rec: rec}
	pages, err := b.discoverCases(ctx, db)
	if err != nil {
		return err
	}
	if err := b.run(ctx, pages, os.Stdout); err != nil {
		return err
	}
	if f.explain {
		return explainSlowest(ctx, db, rec.take("/queues/open"), os.Stdout)
	}
	return nil
}

// benchSignIn signs the benchmark user in the way a login would, straight in the
// database: it upserts the user (issuer countersign-bench) with the triage and finance
// roles, creates a server-side session and returns the cookie the console would set.
func benchSignIn(ctx context.Context, db *database.DB, cfg *config.Config) (*http.Cookie, error) {
	var id int64
	err := db.Gorm.WithContext(ctx).Raw(`INSERT INTO users (issuer, subject, email, name, roles, last_login_at)
		VALUES ('countersign-bench', 'bench', 'bench@countersign.invalid', 'Benchmark', string_to_array(?, ','), now())
		ON CONFLICT (issuer, subject) DO UPDATE SET roles = EXCLUDED.roles, disabled = false, last_login_at = now()
		RETURNING id`, auth.SupportLead+","+auth.FinanceApprover).Row().Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("bench-pages: create the benchmark user: %w", err)
	}
	token, _, err := auth.CreateSessionTx(ctx, db.Gorm, auth.NewSession{UserID: id, AuthTime: time.Now(),
		Lifetime: cfg.SessionLifetime, UserAgent: "countersign bench-pages"})
	if err != nil {
		return nil, fmt.Errorf("bench-pages: %w", err)
	}
	https := cfg.BaseURL.Scheme == "https"
	name := auth.SessionCookieName(https)
	v, err := auth.EncodeSessionToken(auth.Codecs(cfg.SessionKeys, "session", cfg.SessionLifetime), name, token)
	if err != nil {
		return nil, fmt.Errorf("bench-pages: encode the session cookie: %w", err)
	}
	return &http.Cookie{Name: name, Value: v}, nil
}

// benchPage is one row of the report: a page, or a group of URLs requested in turn.
type benchPage struct {
	name string
	urls []string
	// next: the URL is page 2 of urls[0], found by following its rel="next" link.
	next bool
}

type pageBench struct {
	base   string
	client *http.Client
	cookie *http.Cookie
	f      benchPagesFlags
	rec    *queryRecorder
}

func (b *pageBench) pages(caseIDs []int64) []benchPage {
	ps := []benchPage{{name: "/queues/open", urls: []string{"/queues/open"}}}
	for _, k := range triage.Kinds {
		ps = append(ps, benchPage{name: "/queues/" + string(k), urls: []string{"/queues/" + string(k)}})
	}
	ps = append(ps,
		benchPage{name: "filter: awaiting approval, USD", urls: []string{"/queues/open?status=awaiting_approval&currency=USD"}},
		benchPage{name: "filter: overdue, by deadline", urls: []string{"/queues/open?deadline=overdue&sort=deadline"}},
		benchPage{name: "search: q=refund invoice", urls: []string{"/queues/open?q=" + url.QueryEscape("refund invoice")}},
		benchPage{name: "/queues/open page 2", urls: []string{"/queues/open"}, next: true},
		benchPage{name: "/dashboard (cached 30 s)", urls: []string{"/dashboard"}},
	)
	if len(caseIDs) > 0 {
		cp := benchPage{name: fmt.Sprintf("/cases/{id} (%d sampled)", len(caseIDs))}
		for _, id := range caseIDs {
			cp.urls = append(cp.urls, fmt.Sprintf("/cases/%d", id))
		}
		ps = append(ps, cp)
	}
	return ps
}

// discoverCases samples case ids from the database, or from the open queue's links
// when benchmarking a remote console.
func (b *pageBench) discoverCases(ctx context.Context, db *database.DB) ([]benchPage, error) {
	var ids []int64
	if db != nil {
		err := db.Gorm.WithContext(ctx).Raw(`SELECT id FROM cases TABLESAMPLE SYSTEM (1) REPEATABLE (42) LIMIT ?`, b.f.cases).Scan(&ids).Error
		if err != nil {
			return nil, fmt.Errorf("bench-pages: sample cases: %w", err)
		}
		if len(ids) == 0 {
			_ = db.Gorm.WithContext(ctx).Raw(`SELECT id FROM cases ORDER BY id DESC LIMIT ?`, b.f.cases).Scan(&ids).Error
		}
	} else {
		_, body, err := b.get(ctx, "/queues/open")
		if err != nil {
			return nil, err
		}
		for _, m := range regexp.MustCompile(`href="/cases/(\d+)"`).FindAllStringSubmatch(body, -1) {
			var id int64
			fmt.Sscan(m[1], &id)
			if !slices.Contains(ids, id) && len(ids) < b.f.cases {
				ids = append(ids, id)
			}
		}
	}
	return b.pages(ids), nil
}

func (b *pageBench) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.AddCookie(b.cookie)
	res, err := b.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

var nextLink = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)

type pageResult struct {
	name, note      string
	status          int
	bytes           int
	first           time.Duration
	p50, p95, p99   time.Duration
	max             time.Duration
	n               int
	errors, non200s int
}

func (b *pageBench) run(ctx context.Context, pages []benchPage, out io.Writer) error {
	var results []pageResult
	for _, p := range pages {
		if p.next {
			_, body, err := b.get(ctx, p.urls[0])
			if err != nil {
				return err
			}
			m := nextLink.FindStringSubmatch(body)
			if m == nil {
				results = append(results, pageResult{name: p.name, note: "no next link (fewer than one page of cases?)"})
				continue
			}
			p.urls = []string{strings.ReplaceAll(m[1], "&amp;", "&")}
		}
		r, err := b.measure(ctx, p)
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "  %-34s done\n", p.name)
	}
	printResults(out, results, b.f)
	return nil
}

// measure requests p once alone (cold, with query capture), then n times with the
// configured concurrency.
func (b *pageBench) measure(ctx context.Context, p benchPage) (pageResult, error) {
	r := pageResult{name: p.name}
	b.rec.start(p.urls[0])
	t0 := time.Now()
	status, body, err := b.get(ctx, p.urls[0])
	r.first = time.Since(t0)
	b.rec.stop()
	if err != nil {
		return r, err
	}
	r.status = status
	var mu sync.Mutex
	var lat []time.Duration
	var bytes int
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range b.f.concurrency {
		wg.Go(func() {
			for u := range jobs {
				t := time.Now()
				st, body, err := b.get(ctx, u)
				d := time.Since(t)
				mu.Lock()
				switch {
				case err != nil:
					r.errors++
				case st != http.StatusOK:
					r.non200s++
				}
				lat = append(lat, d)
				bytes += len(body)
				mu.Unlock()
			}
		})
	}
	for i := range b.f.n {
		if ctx.Err() != nil {
			break
		}
		jobs <- p.urls[i%len(p.urls)]
	}
	close(jobs)
	wg.Wait()
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	slices.Sort(lat)
	r.n = len(lat)
	if r.n > 0 {
		r.p50, r.p95, r.p99, r.max = benchPct(lat, 50), benchPct(lat, 95), benchPct(lat, 99), lat[len(lat)-1]
		r.bytes = bytes / r.n
	} else {
		r.bytes = len(body)
	}
	return r, nil
}

func benchPct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}

func benchMS(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func printResults(out io.Writer, rs []pageResult, f benchPagesFlags) {
	fmt.Fprintf(out, "\n%d requests per page, %d concurrent; times in ms; first = the one cold request before the run\n\n", f.n, f.concurrency)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\tstatus\tbytes\tfirst\tp50\tp95\tp99\tmax\terrors\t")
	for _, r := range rs {
		if r.note != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t%s\t\n", r.name, r.note)
			continue
		}
		errs := "0"
		if r.errors+r.non200s > 0 {
			errs = fmt.Sprintf("%d err, %d non-200", r.errors, r.non200s)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.status, r.bytes, benchMS(r.first),
			benchMS(r.p50), benchMS(r.p95), benchMS(r.p99), benchMS(r.max), errs)
	}
	_ = tw.Flush()
}

// queryRecorder captures the SQL gorm runs while a page is requested alone, so the
// slowest query of a page can be explained afterwards with its real parameters.
type queryRecorder struct {
	mu      sync.Mutex
	current string
	byPage  map[string][]capturedQuery
}

type capturedQuery struct {
	sql  string
	vars []any
	took time.Duration
}

const benchStartKey = "bench-pages:start"

func (q *queryRecorder) install(g *gorm.DB) {
	before := func(db *gorm.DB) { db.InstanceSet(benchStartKey, time.Now()) }
	after := func(db *gorm.DB) {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.current == "" {
			return
		}
		var took time.Duration
		if v, ok := db.InstanceGet(benchStartKey); ok {
			took = time.Since(v.(time.Time))
		}
		q.byPage[q.current] = append(q.byPage[q.current], capturedQuery{sql: db.Statement.SQL.String(),
			vars: append([]any(nil), db.Statement.Vars...), took: took})
	}
	_ = g.Callback().Query().Before("gorm:query").Register("bench:before_query", before)
	_ = g.Callback().Query().After("gorm:query").Register("bench:after_query", after)
	_ = g.Callback().Row().Before("gorm:row").Register("bench:before_row", before)
	_ = g.Callback().Row().After("gorm:row").Register("bench:after_row", after)
}

func (q *queryRecorder) start(page string) {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byPage == nil {
		q.byPage = map[string][]capturedQuery{}
	}
	if _, seen := q.byPage[page]; !seen {
		q.current = page
	}
}

func (q *queryRecorder) stop() {
	if q == nil {
		return
	}
	q.mu.Lock()
	q.current = ""
	q.mu.Unlock()
}

func (q *queryRecorder) take(page string) []capturedQuery {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.byPage[page]
}

// explainSlowest runs EXPLAIN (ANALYZE, BUFFERS) on every SELECT the page ran and
// prints the plans of the two slowest, with a one-line summary of all.
func explainSlowest(ctx context.Context, db *database.DB, qs []capturedQuery, out io.Writer) error {
	type plan struct {
		q     capturedQuery
		lines []string
		exec  time.Duration
	}
	var plans []plan
	for _, q := range qs {
		if !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q.sql)), "SELECT") &&
			!strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q.sql)), "WITH") {
			continue
		}
		rows, err := db.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.sql, q.vars...)
		if err != nil {
			return fmt.Errorf("bench-pages: explain: %w", err)
		}
		p := plan{q: q}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return err
			}
			p.lines = append(p.lines, line)
			if v, ok := strings.CutPrefix(line, "Execution Time: "); ok {
				var f float64
				fmt.Sscanf(v, "%f", &f)
				p.exec = time.Duration(f * float64(time.Millisecond))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		plans = append(plans, p)
	}
	if len(plans) == 0 {
		return errors.New("bench-pages: the open queue ran no SELECT through gorm; nothing to explain")
	}
	slices.SortFunc(plans, func(a, b plan) int { return int(b.exec - a.exec) })
	fmt.Fprintf(out, "\nQueries of /queues/open (%d), by execution time:\n", len(plans))
	for _, p := range plans {
		fmt.Fprintf(out, "  %8s ms  %s\n", benchMS(p.exec), benchOneLine(p.q.sql, 110))
	}
	// The two slowest: in practice the sidebar counts and the queue's list query.
	for i, p := range plans[:min(2, len(plans))] {
		fmt.Fprintf(out, "\nEXPLAIN (ANALYZE, BUFFERS), #%d slowest:\n%s\nparameters: %v\n\n", i+1, strings.TrimSpace(p.q.sql), p.q.vars)
		for _, l := range p.lines {
			fmt.Fprintln(out, l)
		}
	}
	return nil
}

func benchOneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
