package suite

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/upspec/upspec/reports/result"
	"github.com/upspec/upspec/scenarios"
)

func TestRegisterFlagsParses(t *testing.T) {
	cfg := NewConfig()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	cfg.RegisterFlags(fs)
	err := fs.Parse([]string{
		"--target", "https://example.com:8443/up",
		"--header", "Authorization: Bearer x",
		"--header=X-Trace: 1",
		"--insecure",
		"--request-timeout=3s", "--spec-timeout=20s",
		"--segment-size", "1024",
		"--final-status", "201", "--final-body", "done",
		"--file-url", "http://example.com/files/{name}",
		"--run-id", "ci_42", "--strict",
		"--backend-listen", "127.0.0.1:9000",
	})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	sc, err := cfg.Resolve()
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if got := sc.Target.String(); got != "https://example.com:8443/up" {
		t.Errorf("target = %q", got)
	}
	want := []result.Header{{Name: "Authorization", Value: "Bearer x"}, {Name: "X-Trace", Value: "1"}}
	if len(sc.Headers) != 2 || sc.Headers[0] != want[0] || sc.Headers[1] != want[1] {
		t.Errorf("headers = %+v, want %+v", sc.Headers, want)
	}
	if !sc.TLS.InsecureSkipVerify || sc.TLS.ServerName != "example.com" {
		t.Errorf("tls = insecure %v, server name %q", sc.TLS.InsecureSkipVerify, sc.TLS.ServerName)
	}
	if sc.RequestTimeout != 3*time.Second || cfg.SpecTimeout != 20*time.Second || sc.SegmentSize != 1024 ||
		sc.FinalStatus != 201 || sc.FinalBody != "done" || sc.FileURL != "http://example.com/files/{name}" ||
		sc.RunID != "ci_42" || !sc.Strict || sc.Loopback || cfg.BackendListen != "127.0.0.1:9000" {
		t.Errorf("resolved config = %+v", sc)
	}
}

func TestResolveDefaults(t *testing.T) {
	cfg := NewConfig()
	sc, err := cfg.Resolve()
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if sc.Target != nil {
		t.Errorf("no --target: Target = %v, want nil (the embedded server)", sc.Target)
	}
	if sc.SegmentSize != 64*1024 || sc.RequestTimeout != DefaultRequestTimeout {
		t.Errorf("defaults: segment size %d, request timeout %s", sc.SegmentSize, sc.RequestTimeout)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`).MatchString(sc.RunID) {
		t.Errorf("run ID %q is not [A-Za-z0-9_-]{1,64}", sc.RunID)
	}
	if cfg.RunID != sc.RunID {
		t.Errorf("Resolve did not keep the run ID: cfg %q, resolved %q", cfg.RunID, sc.RunID)
	}
	again, err := cfg.Resolve()
	if err != nil || again.RunID != sc.RunID {
		t.Errorf("second Resolve: run ID %q (err %v), want %q", again.RunID, err, sc.RunID)
	}
	if other := scenarios.NewRunID(); other == sc.RunID {
		t.Errorf("two fresh run IDs are equal: %q", other)
	}
	loop := NewConfig()
	loop.Target = "http://127.0.0.1:1/upload"
	if sc, err := loop.Resolve(); err != nil || !sc.Loopback {
		t.Errorf("loopback target: Loopback = %v, err %v", sc.Loopback, err)
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(c *Config)
		want string // a part of the error
	}{
		{"bad scheme", func(c *Config) { c.Target = "ftp://example.com/up" }, "--target"},
		{"no host", func(c *Config) { c.Target = "http:///upload" }, "no host"},
		{"malformed", func(c *Config) { c.Target = "http://[::1/upload" }, "malformed URL"},
		{"bad port", func(c *Config) { c.Target = "http://example.com:99999/up" }, "port"},
		{"no scheme", func(c *Config) { c.Target = "127.0.0.1:8080/upload" }, "--target"},
		{"header without colon", func(c *Config) { c.Headers = []string{"Authorization Bearer"} }, "--header"},
		{"header bad name", func(c *Config) { c.Headers = []string{"Bad Name: x"} }, "--header"},
		{"header line break", func(c *Config) { c.Headers = []string{"X: a\r\nY: b"} }, "--header"},
		{"missing CA file", func(c *Config) { c.CAFile = filepath.Join(dir, "missing.pem") }, "--ca-file"},
		{"CA file not PEM", func(c *Config) { c.CAFile = notPEM }, "no PEM certificate"},
		{"zero request timeout", func(c *Config) { c.RequestTimeout = 0 }, "--request-timeout"},
		{"spec shorter than request", func(c *Config) { c.SpecTimeout = time.Second }, "--spec-timeout"},
		{"zero segment size", func(c *Config) { c.SegmentSize = 0 }, "--segment-size"},
		{"final status 404", func(c *Config) { c.FinalStatus = 404 }, "--final-status"},
		{"file URL without name", func(c *Config) { c.FileURL = "http://example.com/files/x" }, "{name}"},
		{"file URL relative", func(c *Config) { c.FileURL = "/files/{name}" }, "--file-url"},
		{"run ID with dot", func(c *Config) { c.RunID = "a.b" }, "--run-id"},
		{"run ID too long", func(c *Config) { c.RunID = strings.Repeat("a", 65) }, "--run-id"},
		{"backend address without port", func(c *Config) { c.BackendListen = "127.0.0.1" }, "--backend-listen"},
		{"backend port not a number", func(c *Config) { c.BackendListen = "127.0.0.1:http" }, "--backend-listen"},
		{"backend port too large", func(c *Config) { c.BackendListen = ":70000" }, "--backend-listen"},
		{"backend URL", func(c *Config) { c.BackendListen = "http://127.0.0.1:9000/" }, "--backend-listen"},
		{"backend-url not a URL", func(c *Config) { c.BackendURL = "127.0.0.1:4567" }, "--backend-url"},
		{"backend-url and backend-listen", func(c *Config) { c.BackendURL, c.BackendListen = "http://127.0.0.1:4567", "127.0.0.1:9000" }, "--backend-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfig()
			c.Target = "http://127.0.0.1:8080/upload"
			tt.edit(c)
			_, err := c.Resolve()
			if err == nil {
				t.Fatalf("Resolve accepted %+v", c)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not mention %q", msg, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
		})
	}
}
