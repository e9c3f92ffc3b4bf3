package drivefake

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// FolderMimeType is Drive's type for folders.
const FolderMimeType = "application/vnd.google-apps.folder"

// Files returns copies of every file and folder, sorted by id.
func (f *Fake) Files() []File {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]File, 0, len(f.files))
	for _, file := range f.files {
		out = append(out, *file)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Path returns the folder names from a root folder down to file id ("customers/cus_1/invoice.pdf").
func (f *Fake) Path(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var parts []string
	for range 20 {
		file, ok := f.files[id]
		if !ok {
			break
		}
		parts = append([]string{file.Name}, parts...)
		if len(file.Parents) == 0 {
			break
		}
		id = file.Parents[0]
	}
	return strings.Join(parts, "/")
}

// AddFolder creates a folder under parent, as someone using Drive would (two
// folders may share a name).
func (f *Fake) AddFolder(parent, name string) string {
	id := "1" + rand.Text()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.folders[id] = true
	f.files[id] = &File{ID: id, Name: name, MimeType: FolderMimeType, Parents: []string{parent}}
	return id
}

// create is files.create without media: folders only (a file needs its content).
func (f *Fake) create(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	var meta File
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&meta); err != nil || meta.Name == "" {
		googleError(w, http.StatusBadRequest, "Invalid file metadata.", "badRequest")
		return
	}
	if meta.MimeType != FolderMimeType {
		googleError(w, http.StatusBadRequest, "the fake creates only folders without media", "badRequest")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range meta.Parents {
		if !f.folders[p] {
			googleError(w, http.StatusNotFound, "File not found: "+p+".", "notFound")
			return
		}
	}
	meta.ID = "1" + rand.Text()
	meta.WebViewLink = "https://drive.google.com/drive/folders/" + meta.ID
	f.folders[meta.ID] = true
	f.files[meta.ID] = &meta
	writeJSON(w, http.StatusOK, meta)
}

var (
	termRE   = regexp.MustCompile(`^(name|mimeType) = '((?:[^'\\]|\\.)*)'$`)
	parentRE = regexp.MustCompile(`^'((?:[^'\\]|\\.)*)' in parents$`)
)

// list is files.list for the queries Countersign makes: terms joined by "and"
// among name = '…', mimeType = '…', '<id>' in parents and trashed = false.
// Any other query is refused as Drive refuses one it cannot parse.
func (f *Fake) list(w http.ResponseWriter, r *http.Request) {
	if !f.Before(w, r, fail) || !f.authorized(w, r) {
		return
	}
	var name, mimeType, parent string
	for _, term := range strings.Split(r.URL.Query().Get("q"), " and ") {
		term = strings.TrimSpace(term)
		switch m, p := termRE.FindStringSubmatch(term), parentRE.FindStringSubmatch(term); {
		case term == "trashed = false":
		case m != nil && m[1] == "name":
			name = unquote(m[2])
		case m != nil:
			mimeType = unquote(m[2])
		case p != nil:
			parent = unquote(p[1])
		default:
			googleError(w, http.StatusBadRequest, "Invalid Value", "invalid")
			return
		}
	}
	f.mu.Lock()
	out := []File{}
	for _, file := range f.files {
		if (name == "" || file.Name == name) && (mimeType == "" || file.MimeType == mimeType) &&
			(parent == "" || contains(file.Parents, parent)) {
			out = append(out, *file)
		}
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeJSON(w, http.StatusOK, map[string]any{"kind": "drive#fileList", "incompleteSearch": false, "files": out})
}

func unquote(s string) string { return strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(s) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
