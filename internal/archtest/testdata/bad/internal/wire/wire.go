package wire

import (
	"github.com/countersign/countersign/handlers"
	"github.com/countersign/countersign/web"
)

var _ = handlers.X
var _ = web.New
