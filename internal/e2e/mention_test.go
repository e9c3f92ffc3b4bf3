package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// rawKey presses key with no char event, as a browser does when the page handles
// the keydown (a char event would type the key into the field regardless).
func rawKey(key string, code int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: key, WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code}); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestMentionKeys: in the note field, Escape closes the @mention suggestions and
// leaves the text and the focus where they were; Tab accepts the highlighted
// suggestion and stays in the field.
func TestMentionKeys(t *testing.T) {
	inst := start(t)
	var caseID int64
	if err := dbScalar(t, inst, `SELECT id FROM cases WHERE kind = 'refund' ORDER BY id LIMIT 1`, &caseID); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	login(t, ctx, inst.URL, "morgan") // signed in once, so suggestible
	options := chromedp.CSS(`#note-body-mentions [role="option"]`)
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/cases/"+itoa(caseID)),
		chromedp.SendKeys(tid("note-text"), "Please check @mo"), chromedp.WaitVisible(options)); err != nil {
		t.Fatalf("suggestions for @mo: %v", err)
	}
	state := func() (string, bool, string) {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`[document.getElementById("note-body").value,
			document.getElementById("note-body-mentions").hidden, document.activeElement.id]`))
		if err != nil || len(v) != 3 {
			t.Fatalf("read the note field: %v", err)
		}
		return v[0].(string), v[1].(bool), v[2].(string)
	}
	if err := chromedp.Do(ctx, rawKey("Escape", 27)); err != nil {
		t.Fatal(err)
	}
	if value, hidden, focus := state(); value != "Please check @mo" || !hidden || focus != "note-body" {
		t.Errorf("after Escape: note %q, list hidden %v, focus on %q; want the text kept, the list closed, the focus in the note", value, hidden, focus)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(tid("note-text"), "r"), chromedp.WaitVisible(options)); err != nil {
		t.Fatalf("suggestions for @mor after Escape: %v", err)
	}
	if err := chromedp.Do(ctx, rawKey("Tab", 9)); err != nil {
		t.Fatal(err)
	}
	if value, hidden, focus := state(); value != "Please check @morgan " || !hidden || focus != "note-body" {
		t.Errorf("after Tab: note %q, list hidden %v, focus on %q; want @morgan completed, the list closed, the focus in the note", value, hidden, focus)
	}
}
