package stripefake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"time"
)

// File is an upload the fake's files host accepted.
type File struct {
	ID, Purpose, Filename, Type string
	Size                        int
	Data                        []byte
}

// filePurposes are the upload purposes Stripe documents; dispute_evidence takes
// PDF, JPEG or PNG only.
var filePurposes = map[string]bool{"dispute_evidence": true, "additional_verification": true, "business_icon": true,
	"business_logo": true, "customer_signature": true, "identity_document": true, "pci_document": true,
	"tax_document_user_upload": true, "account_requirement": true}

const maxUpload = 5 << 20 // dispute evidence is limited to 5 MB per file (4.5 MB in total for card disputes)

// multipartForm reads a multipart body into form values plus "file_sha256", so
// idempotency compares uploads by content.
func multipartForm(r *http.Request) (url.Values, error) {
	if err := r.ParseMultipartForm(maxUpload + 1<<20); err != nil {
		return nil, err
	}
	form := url.Values{}
	for k, v := range r.MultipartForm.Value {
		form[k] = v
	}
	if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
		fd, err := fh[0].Open()
		if err != nil {
			return nil, err
		}
		defer fd.Close()
		b, err := io.ReadAll(fd)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		form.Set("file_sha256", hex.EncodeToString(sum[:]))
		form.Set("file_name", fh[0].Filename)
	}
	return form, nil
}

// fileType sniffs what Stripe accepts for dispute evidence.
func fileType(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "pdf"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "jpg"
	}
	return ""
}

func (f *Fake) createFile(w http.ResponseWriter, r *http.Request) {
	if r.MultipartForm == nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"File uploads must be sent as multipart/form-data.", "file")
		return
	}
	purpose := r.MultipartForm.Value["purpose"]
	fh := r.MultipartForm.File["file"]
	switch {
	case len(purpose) != 1 || !filePurposes[purpose[0]]:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_empty", "Invalid purpose.", "purpose")
		return
	case len(fh) != 1:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "Missing required param: file.", "file")
		return
	}
	fd, err := fh[0].Open()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid file.", "file")
		return
	}
	defer fd.Close()
	data, _ := io.ReadAll(fd)
	typ := fileType(data)
	switch {
	case len(data) > maxUpload:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "The file is larger than 5 MB.", "file")
		return
	case purpose[0] == "dispute_evidence" && typ == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Dispute evidence files must be PDF, JPEG or PNG.", "file")
		return
	}
	f.mu.Lock()
	file := &File{ID: f.nextID("file"), Purpose: purpose[0], Filename: fh[0].Filename, Type: typ, Size: len(data), Data: data}
	f.files = append(f.files, file)
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": file.ID, "object": "file", "purpose": file.Purpose,
		"filename": file.Filename, "size": file.Size, "type": file.Type, "created": time.Now().Unix(),
		"url": "https://files.stripe.com/v1/files/" + file.ID + "/contents"})
}

// Files returns copies of the uploads accepted, oldest first.
func (f *Fake) Files() []File {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]File, len(f.files))
	for i, fl := range f.files {
		out[i] = *fl
	}
	return out
}
