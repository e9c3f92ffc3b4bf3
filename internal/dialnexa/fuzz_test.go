package dialnexa

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addTestdataSeeds adds every sample and envelope body as a seed.
func addTestdataSeeds(f *testing.F) {
	f.Helper()
	for _, dir := range []string{"samples", "envelopes"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds in testdata/%s: %v", dir, err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

func FuzzParseSignature(f *testing.F) {
	for _, sig := range sampleSignatures(f) {
		f.Add(sig)
		f.Add(strings.TrimPrefix(sig, "sha256="))
		f.Add(strings.ToUpper(sig))
		f.Add(" " + sig[:len(sig)-1] + " ")
	}
	f.Add("")
	f.Add("sha256=")
	f.Add("sha1=abc")
	f.Fuzz(func(t *testing.T, v string) {
		mac, err := ParseSignature(v)
		if err != nil {
			if mac != nil {
				t.Fatalf("ParseSignature(%q) returned a MAC with error %v", v, err)
			}
			return
		}
		s := strings.TrimPrefix(strings.TrimSpace(v), "sha256=")
		if len(mac) != 32 || hex.EncodeToString(mac) != s {
			t.Fatalf("ParseSignature(%q) = %x, not the input's lowercase hex", v, mac)
		}
	})
}

func FuzzDecode(f *testing.F) {
	addTestdataSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := Decode(body)
		if err != nil {
			if ev.Call != nil || ev.Kind != "" {
				t.Fatalf("Decode returned %+v with error %v", ev, err)
			}
			return
		}
		switch ev.Kind {
		case KindVerification, KindIgnored:
			if ev.Call != nil {
				t.Fatalf("%s event with a call", ev.Kind)
			}
		case KindInitiated, KindEnded, KindTransfer, KindUpdate:
			if ev.Call == nil || ev.Call.ID == "" {
				t.Fatalf("%s event without a call id: %+v", ev.Kind, ev.Call)
			}
			_ = TranscriptText(ev.Call.Transcript)
		default:
			t.Fatalf("unknown kind %q", ev.Kind)
		}
	})
}
