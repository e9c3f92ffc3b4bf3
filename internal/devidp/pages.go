package devidp

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

var (
	//go:embed assets/pages.html.tmpl
	pagesSource string
	//go:embed assets/static.css
	staticCSS []byte
)

type hiddenField struct{ Name, Value string }

// pickerData is the view model of the persona picker.
type pickerData struct {
	ClientID string
	Action   string
	Hidden   []hiddenField
	Personas []Persona
}

// parseTemplates is called per provider because the stylesheet path depends
// on the issuer.
func parseTemplates(issuerPath string) (*template.Template, error) {
	css := issuerPath + "/static.css"
	return template.New("pages").Funcs(template.FuncMap{
		"cssPath": func() string { return css },
		"join":    strings.Join,
	}).Parse(pagesSource)
}

func (p *Provider) renderPicker(w http.ResponseWriter, data pickerData, redirectURI string) {
	// Chrome applies form-action to the redirect that follows a form POST, so
	// the client's origin must be allowed alongside our own.
	formAction := "'self'"
	if u, err := url.Parse(redirectURI); err == nil {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	p.render(w, http.StatusOK, "picker", data, formAction)
}

func (p *Provider) renderError(w http.ResponseWriter, status int, message string) {
	p.render(w, status, "error", message, "'none'")
}

func (p *Provider) renderSignedOut(w http.ResponseWriter) {
	p.render(w, http.StatusOK, "signed-out", nil, "'none'")
}

func (p *Provider) render(w http.ResponseWriter, status int, name string, data any, formAction string) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "devidp: render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func handleCSS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(staticCSS)
}
