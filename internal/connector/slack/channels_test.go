package slack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/slack"
)

// A rerun looks its earlier post up with conversations.history, which takes an id:
// with a channel name (what plans used to store) Slack answers channel_not_found,
// a permanent error, so the rerun needed a person.
func TestFindByActionIDNeedsTheChannelID(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, token, time.Second)
	fake.AddChannel("C0VIPALERTS", "finance-vip")
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	if _, err := c.PostAlert(ctx, slack.Alert{Channel: "#finance-vip", Text: "VIP blocked", ActionID: "action-9"}); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.FindByActionID(ctx, "#finance-vip", "action-9", since)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Code != "channel_not_found" || !ce.Permanent {
		t.Fatalf("history by name: err = %v, want permanent channel_not_found (as Slack answers)", err)
	}
	id, err := c.ChannelID(ctx, "#finance-vip")
	if err != nil || id != "C0VIPALERTS" {
		t.Fatalf("ChannelID = %q, %v", id, err)
	}
	if _, found, err := c.FindByActionID(ctx, id, "action-9", since); err != nil || !found {
		t.Fatalf("history by id: found %v, err %v", found, err)
	}
}

// Names resolve through every page of conversations.list, once.
func TestChannelIDPagesAndCaches(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, token, time.Second)
	for i := range 450 {
		fake.AddChannel(fmt.Sprintf("C%08d", i), fmt.Sprintf("team-%03d", i))
	}
	fake.AddChannel("CZZZLAST01", "finance-alerts") // sorts last: on the third page
	ctx := context.Background()
	id, err := c.ChannelID(ctx, "#finance-alerts")
	if err != nil || id != "CZZZLAST01" {
		t.Fatalf("ChannelID = %q, %v", id, err)
	}
	pages := fake.ListCalls()
	if pages != 3 {
		t.Fatalf("conversations.list pages = %d, want 3 (200 a page)", pages)
	}
	if id, err := c.ChannelID(ctx, "team-007"); err != nil || id != "C00000007" || fake.ListCalls() != pages {
		t.Fatalf("cached lookup: %q %v, list calls %d", id, err, fake.ListCalls())
	}
	if id, _ := c.ChannelID(ctx, "C0ALREADYID"); id != "C0ALREADYID" {
		t.Fatalf("an id was resolved to %q", id)
	}
	_, err = c.ChannelID(ctx, "#nope")
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Code != "channel_not_found" || !ce.Permanent {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestNotInChannelSaysHowToFixIt(t *testing.T) {
	t.Parallel()
	fake, c := setup(t, token, time.Second)
	fake.AddChannelWithoutBot("C0DISPUTES", "disputes")
	_, err := c.PostAlert(context.Background(), slack.Alert{Channel: "C0DISPUTES", Text: "chargeback", ActionID: "action-3"})
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Code != "not_in_channel" || !ce.Permanent || !strings.Contains(err.Error(), "/invite") {
		t.Fatalf("err = %v, want permanent not_in_channel with the fix", err)
	}
	if len(fake.Messages()) != 0 {
		t.Fatal("a post to a channel the bot is not in was stored")
	}
}
