package jobs_test

import (
	"testing"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/sandbox"
)

// COUNTERSIGN_SANDBOX names connectors one by one, but Gmail, Drive and Sheets share
// the Google key the sandbox mints: a Google connector it does not name has no key
// of its own and is off, not "real" against Google with the sandbox's key. A
// connector neither named nor configured is off.
func TestSandboxNamingSomeGoogleConnectorsLeavesTheOthersOff(t *testing.T) {
	sb, err := sandbox.Start(config.Connectors{MailFrom: "billing@countersign.local"}, sandbox.Options{Names: []string{"email", "slack"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	conns, err := jobs.NewConnectors(sb.Connectors, sb.Sandboxed, sb.Recorder)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]jobs.Mode{jobs.Email: jobs.Sandbox, jobs.Slack: jobs.Sandbox, jobs.Drive: jobs.Off, jobs.Sheets: jobs.Off,
		jobs.Stripe: jobs.Off, jobs.Zendesk: jobs.Off, jobs.TokenMetrics: jobs.Off}
	for name, m := range want {
		if conns.Modes[name] != m {
			t.Errorf("%s is %s, want %s", name, conns.Modes[name], m)
		}
	}
	if conns.Drive != nil || conns.Sheets != nil || conns.Email == nil {
		t.Errorf("clients: drive %v, sheets %v, email %v", conns.Drive != nil, conns.Sheets != nil, conns.Email != nil)
	}
}
