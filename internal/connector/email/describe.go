package email

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// DescribeGmailSend renders the body of a users.messages.send request for people:
// the message's headers, its text and one line per attachment (name, type, size),
// instead of the base64url of the RFC 5322 bytes. ok is false when body is not a
// {"raw": ...} request or the message does not parse (a recording cut short).
func DescribeGmailSend(body string) (string, bool) {
	var req struct {
		Raw string `json:"raw"`
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil || req.Raw == "" {
		return "", false
	}
	raw, err := base64.URLEncoding.DecodeString(req.Raw)
	if err != nil {
		if raw, err = base64.RawURLEncoding.DecodeString(req.Raw); err != nil {
			return "", false
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", false
	}
	var b strings.Builder
	dec := new(mime.WordDecoder)
	for _, k := range []string{"Message-Id", "Date", "From", "To", "Subject"} {
		if v := msg.Header.Get(k); v != "" {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	if err := describePart(&b, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), "", msg.Body); err != nil {
		return "", false
	}
	return strings.TrimRight(b.String(), "\n"), true
}

// describePart writes a text part's text, an attachment's summary line, and
// recurses into multipart parts.
func describePart(b *strings.Builder, contentType, encoding, disposition string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := describePart(b, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"),
				p.Header.Get("Content-Disposition"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, newlineDropper{body})
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	_, dparams, _ := mime.ParseMediaType(disposition)
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if mt == "text/plain" && name == "" {
		b.Write(bytes.TrimRight(data, "\r\n"))
		b.WriteString("\n\n")
		return nil
	}
	fmt.Fprintf(b, "[attachment: %s, %s, %d bytes]\n", name, mt, len(data))
	return nil
}

// newlineDropper drops CR and LF, which base64 bodies wrap at 76 columns.
type newlineDropper struct{ r io.Reader }

func (n newlineDropper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
