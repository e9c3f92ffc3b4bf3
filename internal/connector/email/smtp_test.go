package email_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/email"
)

// smtpServer speaks just enough SMTP for the sender: EHLO/HELO, AUTH PLAIN,
// MAIL, RCPT, DATA, RSET, NOOP, QUIT. Mailpit may not be installed.
type smtpServer struct {
	ln         net.Listener
	user, pass string
	rcptReply  string // when set, the answer to every RCPT
	silent     bool   // accept connections but never greet

	mu   sync.Mutex
	msgs []receivedMail
}

type receivedMail struct {
	from, authUser string
	to             []string
	data           string
}

func startSMTP(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *smtpServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *smtpServer) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.msgs...)
}

func (s *smtpServer) serve(conn net.Conn) {
	defer conn.Close()
	if s.silent {
		_, _ = io.Copy(io.Discard, conn)
		return
	}
	tp := textproto.NewConn(conn)
	reply := func(lines ...string) { _ = tp.PrintfLine("%s", strings.Join(lines, "\r\n")) }
	reply("220 localhost ESMTP test")
	var cur receivedMail
	authUser := ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			if s.user != "" {
				reply("250-localhost", "250-8BITMIME", "250 AUTH PLAIN")
			} else {
				reply("250-localhost", "250 8BITMIME")
			}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				reply("504 5.5.4 mechanism not supported")
				continue
			}
			if resp == "" {
				reply("334 ")
				if resp, err = tp.ReadLine(); err != nil {
					return
				}
			}
			dec, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(dec), "\x00")
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
				authUser = parts[1]
				reply("235 2.7.0 Authentication successful")
			} else {
				reply("535 5.7.8 Authentication credentials invalid")
			}
		case "MAIL":
			if s.user != "" && authUser == "" {
				reply("530 5.7.0 Authentication required")
				continue
			}
			cur = receivedMail{from: arg, authUser: authUser}
			reply("250 2.1.0 Ok")
		case "RCPT":
			if s.rcptReply != "" {
				reply(s.rcptReply)
				continue
			}
			cur.to = append(cur.to, arg)
			reply("250 2.1.5 Ok")
		case "DATA":
			reply("354 End data with <CR><LF>.<CR><LF>")
			data, err := io.ReadAll(tp.DotReader())
			if err != nil {
				return
			}
			cur.data = string(data)
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			reply("250 2.0.0 Ok: queued as 1")
		case "RSET":
			cur = receivedMail{}
			reply("250 2.0.0 Ok")
		case "NOOP":
			reply("250 2.0.0 Ok")
		case "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Error: command not recognized")
		}
	}
}

const smtpPassword = "smtp-password-very-secret"

func newSMTP(t *testing.T, srv *smtpServer, password string, timeout time.Duration) *email.SMTPSender {
	t.Helper()
	// Opportunistic STARTTLS falls back to plain text (the test server offers
	// no STARTTLS); with a password, only TLSNone lets PLAIN go over it.
	mode := email.TLSOpportunistic
	if srv.user != "" {
		mode = email.TLSNone
	}
	s, err := email.NewSMTP(email.SMTPConfig{Host: "127.0.0.1", Port: srv.port(), Username: srv.user,
		Password: password, TLS: mode, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSend(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, &smtpServer{user: "relay-user", pass: smtpPassword})
	s := newSMTP(t, srv, smtpPassword, time.Second)
	const id = "<action-42.call_abc@countersign.local>"
	r, err := s.Send(context.Background(), message(id))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 || r.ExternalID != id {
		t.Fatalf("receipt %+v, received %d", r, len(got))
	}
	m := got[0]
	if m.authUser != "relay-user" || !strings.HasPrefix(m.from, "FROM:<billing@acme.test>") || len(m.to) != 1 || m.to[0] != "TO:<ana@example.com>" {
		t.Fatalf("envelope = %+v", m)
	}
	msg, err := readMessage(m.data)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Get("Message-Id") != id || !strings.Contains(m.data, "credit-note.pdf") {
		t.Fatalf("message headers = %v", msg)
	}
}

func TestSMTPErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		srv       *smtpServer
		password  string
		permanent bool
		status    int
	}{
		{name: "mailbox busy", srv: &smtpServer{rcptReply: "451 4.3.0 Try again later"}, status: 451},
		{name: "no such user", srv: &smtpServer{rcptReply: "550 5.1.1 No such user"}, permanent: true, status: 550},
		{name: "wrong password", srv: &smtpServer{user: "relay-user", pass: smtpPassword}, password: "wrong-password-also-secret", permanent: true, status: 535},
		{name: "timeout", srv: &smtpServer{silent: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTP(t, tt.srv)
			s := newSMTP(t, srv, tt.password, 200*time.Millisecond)
			_, err := s.Send(context.Background(), message("<action-1.call_x@countersign.local>"))
			var ce *connector.Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if ce.Permanent != tt.permanent || ce.Status != tt.status {
				t.Fatalf("err = %+v (%v)", ce, err)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Fatalf("error leaks the password: %q", err)
			}
			if n := len(srv.received()); n != 0 {
				t.Fatalf("failed send delivered %d messages", n)
			}
		})
	}
}

func TestSMTPConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s, err := email.NewSMTP(email.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: email.TLSNone, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Send(context.Background(), message("<action-1.call_x@countersign.local>"))
	if err == nil || connector.IsPermanent(err) {
		t.Fatalf("err = %v, want temporary", err)
	}
}

func readMessage(data string) (textproto.MIMEHeader, error) {
	return textproto.NewReader(bufio.NewReader(strings.NewReader(data))).ReadMIMEHeader()
}
