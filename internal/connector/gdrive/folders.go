package gdrive

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign/internal/connector"
)

// FolderMimeType is Drive's type for folders.
const FolderMimeType = "application/vnd.google-apps.folder"

// FolderPath finds or creates each folder of names in turn under root and
// returns the last one's id: FolderPath(ctx, root, "customers", "cus_123").
// Drive names are not unique, so each step looks the name up under its parent
// (files.list with q) and refuses, permanently, a name that matches more than one
// folder: a person decides which one is Countersign's.
func (c *Client) FolderPath(ctx context.Context, root string, names ...string) (string, error) {
	c.folders.Lock() // one creator per process; across processes a duplicate is refused next time
	defer c.folders.Unlock()
	parent := root
	for _, n := range names {
		id, err := c.folder(ctx, parent, n)
		if err != nil {
			return "", err
		}
		parent = id
	}
	return parent, nil
}

func (c *Client) folder(ctx context.Context, parent, name string) (string, error) {
	const op = "find folder"
	if name == "" || parent == "" {
		return "", &connector.Error{Connector: "gdrive", Op: op, Code: "invalid_folder", Message: "folder name and parent are required", Permanent: true}
	}
	q := "name = " + quote(name) + " and " + quote(parent) + " in parents and mimeType = '" + FolderMimeType + "' and trashed = false"
	path := "/drive/v3/files?supportsAllDrives=true&includeItemsFromAllDrives=true&spaces=drive&pageSize=10&fields=" +
		url.QueryEscape("files(id,name,parents)") + "&q=" + url.QueryEscape(q)
	var out struct {
		Files []fileResource `json:"files"`
	}
	if err := c.do(ctx, op, http.MethodGet, path, "", nil, &out); err != nil {
		return "", err
	}
	switch len(out.Files) {
	case 1:
		return out.Files[0].ID, nil
	case 0:
	default:
		return "", &connector.Error{Connector: "gdrive", Op: op, Code: "ambiguous_folder", Permanent: true,
			Message: "more than one Drive folder is named " + name + " in the same parent: keep one and retry"}
	}
	meta, _ := jsonBody(fileResource{Name: name, MimeType: FolderMimeType, Parents: []string{parent},
		AppProperties: map[string]string{"countersign": "folder"}})
	var made fileResource
	err := c.do(ctx, "create folder", http.MethodPost, "/drive/v3/files?supportsAllDrives=true&fields="+url.QueryEscape("id,name,parents"),
		"application/json; charset=UTF-8", meta, &made)
	if err != nil {
		return "", err
	}
	if made.ID == "" {
		return "", &connector.Error{Connector: "gdrive", Op: "create folder", Code: "bad_response", Message: "no folder id returned"}
	}
	return made.ID, nil
}

// quote renders a string literal for Drive's query language.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
