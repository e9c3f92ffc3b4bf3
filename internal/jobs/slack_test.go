package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/jobs"
)

// Channels come from COUNTERSIGN_SLACK_CHANNELS per alert kind and are resolved to
// ids: a VIP blocker posts to its channel, and a rerun after a crash finds the earlier
// post by id (history by name is channel_not_found at Slack, and at the fake).
func TestSlackAlertKindsResolveToIDsAndRerunsFindTheirPost(t *testing.T) {
	var mu sync.Mutex
	crashed := map[int64]bool{}
	e := newEnvWith(t, config.Connectors{MailFrom: "billing@countersign.test",
		SlackChannels: map[string]string{"vip_blocker": "#finance-vip", "default": "#finance-alerts"}},
		jobs.Options{AfterCall: func(ctx context.Context, actionID int64) error {
			mu.Lock()
			defer mu.Unlock()
			if crashed[actionID] {
				return nil
			}
			crashed[actionID] = true
			return errors.New("simulated crash after Slack answered")
		}})
	ctx := context.Background()
	id, name, err := e.svc.Connectors().SlackChannel(ctx, "vip_blocker")
	if err != nil || name != "#finance-vip" || !strings.HasPrefix(id, "C") {
		t.Fatalf("vip_blocker channel = %q %q %v", id, name, err)
	}
	if other, _, _ := e.svc.Connectors().SlackChannel(ctx, "chargeback"); other == id || other == "" {
		t.Fatalf("chargeback (default) channel %q, want the default's own id", other)
	}
	caseID, ids := e.newCase("payment_blocker", plan{"slack", "alert", jobs.AlertParams{Channel: id, ChannelName: name, Kind: "vip_blocker", Text: "VIP blocked"}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	if n := e.sb.Slack.CountByActionID(fmt.Sprintf("action-%d", ids[0])); n != 1 {
		t.Fatalf("messages = %d, want 1", n)
	}
	if msgs := e.sb.Slack.Messages(); len(msgs) != 1 || msgs[0].Channel != id {
		t.Fatalf("messages %+v, want one in %s", msgs, id)
	}
}
