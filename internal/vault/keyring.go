package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Keyring holds the vault keys by id; the first one seals.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	mac     []byte // HMAC key for fingerprints, derived from the first key
}

// ParseKeys reads COUNTERSIGN_VAULT_KEY: comma-separated "id:base64" entries
// (or bare base64, given the ids k1, k2… in order), each 32 random bytes. The
// first seals new entries; all open. Rotate by putting a new key first.
func ParseKeys(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			id, b64 = "k"+strconv.Itoa(i+1), part
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			key, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("key %d (%s) must be 32 random bytes in base64 (`openssl rand -base64 32`)", i+1, id)
		}
		if _, dup := k.aeads[id]; dup || id == "" {
			return nil, fmt.Errorf("key %d: id %q is empty or repeated", i+1, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		k.aeads[id] = aead
		if k.current == "" {
			k.current = id
			m := hmac.New(sha256.New, key)
			m.Write([]byte("countersign vault fingerprint v1"))
			k.mac = m.Sum(nil)
		}
	}
	if k.current == "" {
		return nil, errors.New("no key given")
	}
	return k, nil
}

// NewKey returns a fresh key spec for dev: "dev1:<base64 of 32 random bytes>".
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "dev1:" + base64.StdEncoding.EncodeToString(b)
}

// CurrentID is the id of the key that seals.
func (k *Keyring) CurrentID() string { return k.current }

func aad(callID int64, kind string) []byte {
	return []byte(strconv.FormatInt(callID, 10) + "\x00" + kind)
}

// seal encrypts value for call callID and kind under the current key.
func (k *Keyring) seal(callID int64, kind, value string) (keyID string, nonce, sealed []byte, err error) {
	return k.sealBytes([]byte(value), aad(callID, kind))
}

func (k *Keyring) sealBytes(plain, ad []byte) (keyID string, nonce, sealed []byte, err error) {
	aead := k.aeads[k.current]
	nonce = make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return k.current, nonce, aead.Seal(nil, nonce, plain, ad), nil
}

// open decrypts an entry; it fails for an unknown key id or tampered data.
func (k *Keyring) open(callID int64, kind, keyID string, nonce, sealed []byte) (string, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return "", fmt.Errorf("vault: entry sealed with key %q, which is not in COUNTERSIGN_VAULT_KEY", keyID)
	}
	if len(nonce) != aead.NonceSize() {
		return "", errors.New("vault: bad nonce")
	}
	b, err := aead.Open(nil, nonce, sealed, aad(callID, kind))
	if err != nil {
		return "", errors.New("vault: entry does not open (wrong key or altered)")
	}
	return string(b), nil
}

// fingerprint identifies a value within a call without revealing it.
func (k *Keyring) fingerprint(kind, value string) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(kind + "\x00" + value))
	return m.Sum(nil)
}
