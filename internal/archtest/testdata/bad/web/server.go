package web

import (
	"github.com/countersign/countersign/handlers"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/load"
)

var _ = jobs.New
var _ = stripe.New
var _ = handlers.X
var _ = load.Gauge{}
