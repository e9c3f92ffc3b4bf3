package handlers

import (
	"fmt"
	"net/http"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector/slack"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/views"
)

// AdminConnectors is the connector health panel: mode, last success and failure,
// error rate over the last hour (from every worker process's calls).
func (a *App) AdminConnectors(w http.ResponseWriter, r *http.Request) {
	modes := map[string]jobs.Mode{}
	if a.Jobs != nil {
		modes = a.Jobs.Connectors().Modes
	}
	health, err := jobs.HealthReport(r.Context(), a.DB.Gorm, modes)
	if err != nil {
		Fail(w, r, err)
		return
	}
	rows := make([]views.ConnectorHealthRow, 0, len(health))
	for _, h := range health {
		rows = append(rows, views.ConnectorHealthRow{Name: h.Connector, Mode: string(h.Mode),
			LastSuccess: formatTime(h.LastSuccess), LastFailure: formatTime(h.LastFailure), LastError: h.LastError,
			Calls: h.CallsLastHour, ErrorRate: fmt.Sprintf("%.0f%%", h.ErrorRate()*100)})
		if h.Connector == jobs.Slack && a.Jobs != nil {
			rows[len(rows)-1].Help = slackHelp(a.Jobs.Connectors().SlackChannels)
		}
	}
	unlinked, err := jobs.UnlinkedDisputes(r.Context(), a.DB.Gorm)
	if err != nil {
		Fail(w, r, err)
		return
	}
	disputes := make([]views.UnlinkedDisputeRow, 0, len(unlinked))
	for _, d := range unlinked {
		disputes = append(disputes, views.UnlinkedDisputeRow{ID: d.ID, Charge: d.Charge, Status: d.Status,
			Amount: stripe.FormatMinor(d.AmountMinor, d.Currency), DueBy: formatTime(d.DueBy)})
	}
	Render(w, r, http.StatusOK, views.AdminConnectors(a.Page(r, "Connectors"), rows, disputes))
}

// slackHelp lists the channel of each alert kind and what Slack's configuration
// errors mean, with the fix.
func slackHelp(channels map[string]string) []views.HelpLine {
	var out []views.HelpLine
	for _, kind := range config.SlackAlertKinds {
		if ch := channels[kind]; ch != "" {
			out = append(out, views.HelpLine{Term: kind, Text: "alerts go to " + ch})
		}
	}
	for _, code := range []string{"not_in_channel", "channel_not_found"} {
		out = append(out, views.HelpLine{Term: code, Text: slack.Fixes[code]})
	}
	return out
}
