package handlers

import (
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/connector"
)

// A Drive upload reads as its metadata and "[application/pdf, N bytes]", not as
// the PDF's bytes.
func TestSandboxShowsMultipartUploadsByPart(t *testing.T) {
	body := "--b0undary\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n" +
		`{"name":"invoice-INV-1.pdf","parents":["f1"]}` + "\r\n--b0undary\r\nContent-Type: application/pdf\r\n\r\n" +
		"%PDF-1.4\n1 0 obj\n0000000009 00000 n\n%%EOF\n\r\n--b0undary--\r\n"
	got, how := readableBody(connector.RecordedRequest{Body: body,
		Header: map[string]string{"Content-Type": "multipart/related; boundary=b0undary"}})
	if how == "" || !strings.Contains(got, `"name":"invoice-INV-1.pdf"`) || !strings.Contains(got, "[application/pdf, 42 bytes]") ||
		strings.Contains(got, "%PDF") {
		t.Errorf("readable body (%s):\n%s", how, got)
	}
	// A body that is not what its type says is shown as sent.
	if got, how := readableBody(connector.RecordedRequest{Body: "not multipart",
		Header: map[string]string{"Content-Type": "multipart/related; boundary=x"}}); how != "" || got != "not multipart" {
		t.Errorf("broken multipart shown as %q (%s)", got, how)
	}
}
