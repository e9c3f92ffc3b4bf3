package gdrive_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
)

// A customer's folder is created once, found by name under its parent after that,
// and the uploaded file lands in it with its description and properties.
func TestFolderPathFindsOrCreatesOnce(t *testing.T) {
	fake, c := setup(t, mailbox, 5*time.Second)
	ctx := context.Background()
	id, err := c.FolderPath(ctx, folder, "customers", "cus_O'Brien")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.FolderPath(ctx, folder, "customers", "cus_O'Brien")
	if err != nil || again != id {
		t.Fatalf("second look-up %q %v, want %q", again, err, id)
	}
	other, err := c.FolderPath(ctx, folder, "customers", "cus_2")
	if err != nil || other == id {
		t.Fatalf("another customer: %q %v", other, err)
	}
	if n := len(fake.Files()); n != 3 {
		t.Errorf("folders %d, want 3 (customers and two customers)", n)
	}
	fileID := fake.IssueID()
	f := invoice(fileID, "action-9")
	f.FolderID, f.Description, f.Properties = id, "Invoice resend for case 9", map[string]string{"stripe_id": "in_1"}
	if _, err := c.Upload(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, _ := fake.File(fileID)
	if p := fake.Path(fileID); p != "customers/cus_O'Brien/"+f.Name || got.Description != f.Description ||
		got.AppProperties["stripe_id"] != "in_1" || got.AppProperties["action_id"] != "action-9" {
		t.Errorf("stored at %q: %+v", p, got)
	}
}

// Drive names are not unique: two folders with the customer's name are refused,
// never guessed between.
func TestFolderPathRefusesAmbiguousNames(t *testing.T) {
	fake, c := setup(t, mailbox, 5*time.Second)
	customers := fake.AddFolder(folder, "customers")
	fake.AddFolder(customers, "cus_1")
	fake.AddFolder(customers, "cus_1")
	_, err := c.FolderPath(context.Background(), folder, "customers", "cus_1")
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Code != "ambiguous_folder" || !ce.Permanent {
		t.Fatalf("ambiguous: %v", err)
	}
}
