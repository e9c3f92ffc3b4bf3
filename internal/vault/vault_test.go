package vault_test

import (
	"context"
	"testing"

	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/vault"
)

func TestParseKeysRefusesBadSpecs(t *testing.T) {
	for _, bad := range []string{"", "not base64!", "k1:c2hvcnQ=", "a:" + vault.NewKey()[5:] + ",a:" + vault.NewKey()[5:]} {
		if _, err := vault.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q): want an error", bad)
		}
	}
	k, err := vault.ParseKeys(vault.NewKey()[5:]) // bare base64: id k1
	if err != nil || k.CurrentID() != "k1" {
		t.Fatalf("bare key: %v %v", k, err)
	}
}

// Entries sealed under an old key still open after a rotation puts a new key
// first; new entries are sealed with the new key; cards are never kept; a value
// is kept once per call; entries are bound to their call.
func TestSealRotateOpen(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	oldKey, newKey := "old:"+vault.NewKey()[5:], "new:"+vault.NewKey()[5:]
	k1, _ := vault.ParseKeys(oldKey)
	insert := func(k *vault.Keyring, callID int64, f ...redact.Finding) {
		t.Helper()
		q, args, err := k.InsertStatement(callID, f)
		if err != nil {
			t.Fatal(err)
		}
		if q == "" {
			return
		}
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	insert(k1, 7, redact.Finding{Kind: redact.SSN, Value: "123-45-6789"}, redact.Finding{Kind: redact.Card, Value: "4242424242424242"})
	insert(k1, 7, redact.Finding{Kind: redact.SSN, Value: "123-45-6789"})
	k2, err := vault.ParseKeys(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	insert(k2, 7, redact.Finding{Kind: redact.IBAN, Value: "DE89 3704 0044 0532 0130 00"})
	got, err := k2.Open(ctx, db.Gorm, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Value != "123-45-6789" || got[1].Value != "DE89 3704 0044 0532 0130 00" {
		t.Fatalf("opened %+v", got)
	}
	var keyIDs string
	db.Gorm.Raw(`SELECT string_agg(key_id, ',' ORDER BY id) FROM vault_entries`).Scan(&keyIDs)
	if keyIDs != "old,new" {
		t.Errorf("key ids %q, want old,new", keyIDs)
	}
	if _, err := k1.Open(ctx, db.Gorm, 7); err == nil {
		t.Error("the old keyring opened an entry sealed with the new key")
	}
	if err := db.Gorm.Exec(`UPDATE vault_entries SET call_id = 8`).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Open(ctx, db.Gorm, 8); err == nil {
		t.Error("an entry moved to another call still opens")
	}
	refs, err := vault.Refs(ctx, db.Gorm, 8)
	if err != nil || len(refs) != 2 || refs[0].Value != "" || refs[0].Kind != "ssn" {
		t.Errorf("refs %+v %v", refs, err)
	}
}
