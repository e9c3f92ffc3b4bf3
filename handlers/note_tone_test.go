package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

func TestAbusiveNoteRefusedWithTheReason(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "collections"})
	path := "/cases/" + strconv.FormatInt(id, 10)

	rec := h.post(fiona, path+"/notes", url.Values{"body": {"this deadbeat is lying, threaten him"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	msg := testid(rec.Body.String(), "note-error")
	for _, want := range []string{"abusive wording", "deadbeat", "lying", "threatening wording", "threaten him", "factual"} {
		if !strings.Contains(unescaped(msg), want) {
			t.Errorf("refusal lacks %q: %s", want, msg)
		}
	}
	if h.count("SELECT count(*) FROM notes") != 0 {
		t.Fatal("refused note stored")
	}
	rec = h.post(fiona, path+"/notes", url.Values{"body": {"Customer promised to pay 640.00 GBP by 2026-12-05."}})
	wantStatus(t, rec, http.StatusSeeOther)
}
