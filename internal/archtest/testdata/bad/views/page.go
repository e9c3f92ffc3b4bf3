package views

import (
	"gorm.io/gorm"

	"github.com/countersign/countersign/models"
)

var _ = models.StatusNew
var _ *gorm.DB
