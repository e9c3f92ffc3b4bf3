package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

func TestStepUpWrapper(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := StepUp(10*time.Minute, ok)
	run := func(method, target string, authAge time.Duration, referer string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		req.Header.Set("Referer", referer)
		req = req.WithContext(auth.WithPrincipal(req.Context(), &auth.Principal{UserID: 1, AuthTime: time.Now().Add(-authAge)}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := run("POST", "http://example.com/approve", time.Minute, ""); rec.Code != http.StatusNoContent {
		t.Errorf("recent sign-in: %d", rec.Code)
	}
	if rec := run("GET", "http://example.com/cases/3?tab=a", time.Hour, ""); rec.Code != http.StatusSeeOther ||
		rec.Header().Get("Location") != "/login?max_age=600&return=%2Fcases%2F3%3Ftab%3Da" {
		t.Errorf("old sign-in GET: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if rec := run("POST", "http://example.com/approve", time.Hour, "http://example.com/cases/3"); rec.Header().Get("Location") != "/login?max_age=600&return=%2Fcases%2F3" {
		t.Errorf("old sign-in POST: %s", rec.Header().Get("Location"))
	}
	if rec := run("POST", "http://example.com/approve", time.Hour, "http://evil.example/x"); rec.Header().Get("Location") != "/login?max_age=600&return=%2F" {
		t.Errorf("cross-origin referer: %s", rec.Header().Get("Location"))
	}
}
