package jobs_test

import (
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

func stripefakeCharge(amount int64) stripefake.Charge {
	return stripefake.Charge{Amount: amount, Currency: "usd", Email: "jordan@example.com", Customer: "cus_Jordan", ReceiptNumber: "1842-3301"}
}
