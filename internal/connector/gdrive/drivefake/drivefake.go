// Package drivefake is a stateful stand-in for the Google Drive v3 calls
// Countersign makes: files.generateIds, multipart files.create with a
// pre-generated id (409 when the id is taken) and files.get. It counts files
// created.
package drivefake

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"

	"github.com/countersign/countersign/internal/connector/connectorfake"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
)

// File is a stored file.
type File struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	MimeType      string            `json:"mimeType"`
	Description   string            `json:"description,omitempty"`
	Parents       []string          `json:"parents,omitempty"`
	AppProperties map[string]string `json:"appProperties,omitempty"`
	WebViewLink   string            `json:"webViewLink"`
	Data          []byte            `json:"-"`
}

// Fake is a fake Drive. Mount Handler() and use the server URL as the
// client's base URL.
type Fake struct {
	auth *gauthfake.Server
	connectorfake.Faults

	mu      sync.Mutex
	folders map[string]bool
	issued  map[string]bool
	files   map[string]*File
	creates int
}

// New returns a fake accepting the access tokens auth issued (scope drive.file or
// drive), with folders the given folder ids.
func New(auth *gauthfake.Server, folders ...string) *Fake {
	f := &Fake{auth: auth, folders: map[string]bool{}, issued: map[string]bool{},
		files: map[string]*File{}}
	for _, id := range folders {
		f.folders[id] = true
	}
	return f
}

// Handler serves generateIds, the multipart upload, files.get (alt=media gives
// the content), files.list with a folder query and metadata-only files.create.
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /drive/v3/files/generateIds", f.generateIDs)
	mux.HandleFunc("GET /drive/v3/files", f.list)
	mux.HandleFunc("POST /drive/v3/files", f.create)
	mux.HandleFunc("GET /drive/v3/files/{id}", f.get)
	mux.HandleFunc("POST /upload/drive/v3/files", f.upload)
	return mux
}

// Creates counts files created.
func (f *Fake) Creates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

// File returns a copy of file id.
func (f *Fake) File(id string) (File, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	file, ok := f.files[id]
	if !ok {
		return File{}, false
	}
	return *file, true
}

// IssueID reserves an id as files.generateIds would, without a request.
func (f *Fake) IssueID() string {
	id := "1" + rand.Text()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.issued[id] = true
	return id
}

func (f *Fake) generateIDs(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	n := 10
	if c := r.URL.Query().Get("count"); c != "" {
		var err error
		if n, err = strconv.Atoi(c); err != nil || n < 1 || n > 1000 {
			googleError(w, http.StatusBadRequest, "Invalid value for count", "invalid")
			return
		}
	}
	ids := make([]string, n)
	f.mu.Lock()
	for i := range ids {
		ids[i] = "1" + rand.Text()
		f.issued[ids[i]] = true
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"kind": "drive#generatedIds", "space": "drive", "ids": ids})
}

func (f *Fake) get(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	file, ok := f.files[id]
	var cp File
	if ok {
		cp = *file
	}
	f.mu.Unlock()
	if !ok {
		googleError(w, http.StatusNotFound, "File not found: "+id+".", "notFound")
		return
	}
	if r.URL.Query().Get("alt") == "media" {
		w.Header().Set("Content-Type", cp.MimeType)
		w.Write(cp.Data)
		return
	}
	writeJSON(w, http.StatusOK, cp)
}

func (f *Fake) upload(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	if r.URL.Query().Get("uploadType") != "multipart" {
		googleError(w, http.StatusBadRequest, "the fake only supports uploadType=multipart", "badRequest")
		return
	}
	meta, data, mediaType, err := readMultipart(r)
	if err != nil {
		googleError(w, http.StatusBadRequest, "Malformed multipart body.", "badContent")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case meta.ID != "" && f.files[meta.ID] != nil:
		googleError(w, http.StatusConflict, "A file already exists with the provided ID.", "fileIdInUse")
		return
	case meta.ID != "" && !f.issued[meta.ID]:
		googleError(w, http.StatusBadRequest, "The provided file ID is not usable.", "fileIdNotUsable")
		return
	}
	for _, p := range meta.Parents {
		if !f.folders[p] {
			googleError(w, http.StatusNotFound, "File not found: "+p+".", "notFound")
			return
		}
	}
	if meta.ID == "" {
		meta.ID = "1" + rand.Text()
	}
	if meta.MimeType == "" {
		meta.MimeType = mediaType
	}
	meta.Data = data
	if meta.MimeType == FolderMimeType {
		f.folders[meta.ID] = true
	}
	meta.WebViewLink = "https://drive.google.com/file/d/" + meta.ID + "/view"
	f.files[meta.ID] = &meta
	f.creates++
	if f.DropReply(w) {
		return
	}
	writeJSON(w, http.StatusOK, meta)
}

// readMultipart reads a multipart/related body: JSON metadata, then media.
func readMultipart(r *http.Request) (File, []byte, string, error) {
	var meta File
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/related" {
		return meta, nil, "", fmt.Errorf("content type %q", mt)
	}
	mr := multipart.NewReader(io.LimitReader(r.Body, 64<<20), params["boundary"])
	p, err := mr.NextPart()
	if err != nil {
		return meta, nil, "", err
	}
	if err := json.NewDecoder(p).Decode(&meta); err != nil {
		return meta, nil, "", err
	}
	p, err = mr.NextPart()
	if err != nil {
		return meta, nil, "", err
	}
	data, err := io.ReadAll(p)
	return meta, data, p.Header.Get("Content-Type"), err
}

func (f *Fake) authorized(w http.ResponseWriter, r *http.Request) bool {
	return f.auth.Authorize(w, r, gauth.ScopeDriveFile, "https://www.googleapis.com/auth/drive")
}

func fail(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusTooManyRequests:
		googleError(w, status, "Rate Limit Exceeded", "rateLimitExceeded")
	case status >= 500:
		googleError(w, status, "Internal Error", "internalError")
	default:
		googleError(w, status, http.StatusText(status), "forbidden")
	}
}

// googleError writes Drive's v3 error body (legacy "errors" list included).
func googleError(w http.ResponseWriter, code int, msg, reason string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"code": code, "message": msg,
		"errors": []map[string]string{{"domain": "global", "reason": reason, "message": msg}}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
