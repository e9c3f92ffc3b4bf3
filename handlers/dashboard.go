package handlers

import (
	"net/http"
	"sync"

	"github.com/countersign/countersign/internal/dashboard"
	"github.com/countersign/countersign/views"
)

// dashboards holds one cached dashboard service per database, so the 30-second cache
// is shared by every request of a process without a field on App.
var dashboards sync.Map // *database.DB -> *dashboard.Service

func (a *App) dashboardService() *dashboard.Service {
	if s, ok := dashboards.Load(a.DB); ok {
		return s.(*dashboard.Service)
	}
	s, _ := dashboards.LoadOrStore(a.DB, dashboard.NewService(a.DB.Gorm))
	return s.(*dashboard.Service)
}

// Dashboard shows the overview charts: cases per day, the open backlog by age, money
// waiting and approved per currency, missed deadlines and time to decision.
func (a *App) Dashboard(w http.ResponseWriter, r *http.Request) {
	st, err := a.dashboardService().Stats(r.Context())
	if err != nil {
		Fail(w, r, err)
		return
	}
	Render(w, r, http.StatusOK, views.Dashboard(a.Page(r, "Dashboard"), dashboardView(st)))
}
