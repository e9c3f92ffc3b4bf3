package vault

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/countersign/countersign/internal/redact"
)

// SealFindings seals the restricted findings of a delivery that is not filed yet
// (the webhook inbox keeps it a few seconds): one blob under the current key,
// bound to ref (the delivery's digest). Cards and other unrestricted kinds are
// dropped, as InsertStatement drops them. It returns nil when there is nothing to
// keep.
func (k *Keyring) SealFindings(ref []byte, found []redact.Finding) ([]byte, error) {
	var keep []redact.Finding
	for _, f := range found {
		if f.Kind.Restricted() && f.Value != "" {
			keep = append(keep, f)
		}
	}
	if len(keep) == 0 {
		return nil, nil
	}
	plain, err := json.Marshal(keep)
	if err != nil {
		return nil, fmt.Errorf("vault: encode findings: %w", err)
	}
	keyID, nonce, sealed, err := k.sealBytes(plain, findingsAAD(ref))
	if err != nil {
		return nil, err
	}
	out := append([]byte{byte(len(keyID))}, keyID...)
	out = append(out, nonce...)
	return append(out, sealed...), nil
}

// OpenFindings opens what SealFindings sealed for ref.
func (k *Keyring) OpenFindings(ref, blob []byte) ([]redact.Finding, error) {
	if len(blob) == 0 {
		return nil, nil
	}
	n := int(blob[0])
	if len(blob) < 1+n {
		return nil, errors.New("vault: sealed findings are truncated")
	}
	keyID, rest := string(blob[1:1+n]), blob[1+n:]
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("vault: findings sealed with key %q, which is not in COUNTERSIGN_VAULT_KEY", keyID)
	}
	if len(rest) < aead.NonceSize() {
		return nil, errors.New("vault: sealed findings are truncated")
	}
	plain, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], findingsAAD(ref))
	if err != nil {
		return nil, errors.New("vault: sealed findings do not open (wrong key or altered)")
	}
	var found []redact.Finding
	if err := json.Unmarshal(plain, &found); err != nil {
		return nil, fmt.Errorf("vault: decode findings: %w", err)
	}
	return found, nil
}

func findingsAAD(ref []byte) []byte { return append([]byte("inbox\x00"), ref...) }
