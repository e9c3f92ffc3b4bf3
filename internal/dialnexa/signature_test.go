package dialnexa

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testSecret = "whsec_test_dialnexa_fixture"

// sampleSignatures reads testdata/samples/SIGNATURES: "file header-value" lines.
func sampleSignatures(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "samples", "SIGNATURES"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sigs := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, sig, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if ok {
			sigs[name] = sig
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(sigs) == 0 {
		t.Fatal("SIGNATURES lists no samples")
	}
	return sigs
}

func readTestdata(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func header(name, value string) http.Header {
	h := http.Header{}
	h.Set(name, value)
	return h
}

func TestVerifySamples(t *testing.T) {
	t.Parallel()
	for name, sig := range sampleSignatures(t) {
		body := readTestdata(t, "samples", name)
		if got := Sign(body, testSecret); got != sig {
			t.Errorf("Sign(%s) = %s, SIGNATURES says %s", name, got, sig)
		}
		for _, hdr := range []string{"X-DialNexa-Signature", "x-dialnexa-signature", "X-Nexa-Signature", "x-nexa-signature"} {
			h := http.Header{}
			h.Add(hdr, sig) // Add canonicalises the name, as net/http does for requests.
			if err := Verify(h, body, []string{testSecret}); err != nil {
				t.Errorf("%s with %s: %v", name, hdr, err)
			}
		}
		bare := strings.TrimPrefix(sig, "sha256=")
		if err := Verify(header(HeaderSignature, "  "+bare+"\t"), body, []string{testSecret}); err != nil {
			t.Errorf("%s with bare hex: %v", name, err)
		}
		if err := Verify(header(HeaderSignature, sig), body, []string{"whsec_other"}); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s with the wrong secret: err = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "samples", "refund-request.json")
	sig := sampleSignatures(t)["refund-request.json"]
	hexSig := strings.TrimPrefix(sig, "sha256=")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	remarshalled, err := json.Marshal(v) // same semantics, sorted keys
	if err != nil {
		t.Fatal(err)
	}
	tamperedBody := bytes.Replace(body, []byte("249.0"), []byte("2490"), 1)

	tests := []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"missing header", http.Header{}, body, ErrNoSignature},
		{"empty header", header(HeaderSignature, ""), body, ErrNoSignature},
		{"blank header", header(HeaderSignatureAlt, "   "), body, ErrNoSignature},
		{"flipped first hex digit", header(HeaderSignature, "sha256="+flip(hexSig, 0)), body, ErrBadSignature},
		{"flipped last hex digit", header(HeaderSignature, "sha256="+flip(hexSig, 63)), body, ErrBadSignature},
		{"truncated hex", header(HeaderSignature, sig[:len(sig)-2]), body, ErrBadSignature},
		{"extra hex", header(HeaderSignature, sig+"00"), body, ErrBadSignature},
		{"uppercase hex", header(HeaderSignature, "sha256="+strings.ToUpper(hexSig)), body, ErrBadSignature},
		{"uppercase prefix", header(HeaderSignature, "SHA256="+hexSig), body, ErrBadSignature},
		{"wrong prefix", header(HeaderSignature, "sha1="+hexSig), body, ErrBadSignature},
		{"doubled prefix", header(HeaderSignature, "sha256=sha256="+hexSig), body, ErrBadSignature},
		{"non-hex", header(HeaderSignature, "sha256="+hexSig[:63]+"g"), body, ErrBadSignature},
		{"base64", header(HeaderSignature, "sha256=FKG8bS8sX6jcXh7l4R9D2KaMPdVLUjjZZ0Sy6ZRx7P8="), body, ErrBadSignature},
		{"compacted body", header(HeaderSignature, sig), compact.Bytes(), ErrBadSignature},
		{"re-serialised body", header(HeaderSignature, sig), remarshalled, ErrBadSignature},
		{"trailing newline dropped", header(HeaderSignature, sig), bytes.TrimRight(body, "\n"), ErrBadSignature},
		{"tampered amount", header(HeaderSignature, sig), tamperedBody, ErrBadSignature},
		{"empty body", header(HeaderSignature, sig), nil, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tt.h, tt.body, []string{testSecret})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyRotation(t *testing.T) {
	t.Parallel()
	body := readTestdata(t, "samples", "charge-dispute.json")
	const current, previous = "whsec_new_after_rotation", testSecret
	for _, signer := range []string{current, previous} {
		h := header(HeaderSignature, Sign(body, signer))
		if err := Verify(h, body, []string{current, previous}); err != nil {
			t.Errorf("signed with %s, secrets [current previous]: %v", signer, err)
		}
		if err := Verify(h, body, []string{previous, current}); err != nil {
			t.Errorf("signed with %s, secrets [previous current]: %v", signer, err)
		}
	}
	h := header(HeaderSignature, Sign(body, "whsec_retired"))
	if err := Verify(h, body, []string{current, previous}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("signed with a retired secret: err = %v, want ErrBadSignature", err)
	}
}

func TestVerifyNeedsASecret(t *testing.T) {
	t.Parallel()
	body := []byte(`{"message":"hi"}`)
	for _, secrets := range [][]string{nil, {}, {""}, {"", ""}} {
		h := header(HeaderSignature, Sign(body, ""))
		if err := Verify(h, body, secrets); !errors.Is(err, ErrNoSecret) {
			t.Errorf("Verify with secrets %q = %v, want ErrNoSecret", secrets, err)
		}
	}
	// An empty entry next to a real secret is skipped, not used as a key.
	h := header(HeaderSignature, Sign(body, ""))
	if err := Verify(h, body, []string{"", testSecret}); !errors.Is(err, ErrBadSignature) {
		t.Errorf("body signed with the empty key: err = %v, want ErrBadSignature", err)
	}
}

func TestSignatureHeader(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("X-Nexa-Signature", "alt")
	if got := SignatureHeader(h); got != "alt" {
		t.Errorf("only X-Nexa-Signature: got %q", got)
	}
	h.Set("X-Dialnexa-Signature", "main")
	if got := SignatureHeader(h); got != "main" {
		t.Errorf("both headers: got %q, want the X-DialNexa-Signature value", got)
	}
	h.Set("X-Dialnexa-Signature", " ")
	if got := SignatureHeader(h); got != "alt" {
		t.Errorf("blank X-DialNexa-Signature: got %q, want the X-Nexa-Signature value", got)
	}
	if got := SignatureHeader(http.Header{}); got != "" {
		t.Errorf("no header: got %q", got)
	}
}

func TestParseSignature(t *testing.T) {
	t.Parallel()
	const hexSig = "1614d9e8bdecde23415e296f1db9cc6dde503887340851b7fd924c412a0c67a7"
	for _, ok := range []string{"sha256=" + hexSig, hexSig, "  sha256=" + hexSig + " \n"} {
		mac, err := ParseSignature(ok)
		if err != nil || len(mac) != 32 || mac[0] != 0x16 || mac[31] != 0xa7 {
			t.Errorf("ParseSignature(%q) = %x, %v", ok, mac, err)
		}
	}
	for _, bad := range []string{
		"", "sha256=", "sha256=" + hexSig[:62], hexSig + "0", strings.ToUpper(hexSig),
		"sha512=" + hexSig, "SHA256=" + hexSig, "sha256 =" + hexSig, "sha256=" + hexSig[:63] + "z",
		"sha256=" + hexSig[:62] + "é", "v1=" + hexSig, "sha256=" + hexSig + ",sha256=" + hexSig,
	} {
		if mac, err := ParseSignature(bad); err == nil || !errors.Is(err, ErrBadSignature) || mac != nil {
			t.Errorf("ParseSignature(%q) = %x, %v; want an ErrBadSignature error", bad, mac, err)
		}
	}
}
