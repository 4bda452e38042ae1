package suite

import (
	"context"
	"fmt"
	"strings"

	"github.com/onsi/ginkgo/v2"

	fstus "github.com/upspec/upspec/fakeserver/tus"
	"github.com/upspec/upspec/reports/result"

	"github.com/upspec/upspec/reports"
	"github.com/upspec/upspec/scenarios"
	expectlist "github.com/upspec/upspec/scenarios/expect"
	"github.com/upspec/upspec/scenarios/tus"
)

// The protocols the suite checks (--protocol).
const (
	// ProtocolNginx is the resumable-upload protocol of nginx-upload-module (the default).
	ProtocolNginx = "nginx"
	// ProtocolTus is tus 1.0 (package scenarios/tus); the target is the creation URL.
	ProtocolTus = tus.Protocol
)

// Protocols returns the names --protocol takes, the default first.
func Protocols() []string { return []string{ProtocolNginx, ProtocolTus} }

// EmbeddedTusMaxSize is the Tus-Max-Size of the embedded reference tus server, so that the
// scenario of that limit runs against it.
const EmbeddedTusMaxSize = 1 << 30

// protocolName is the protocol of c, "" meaning the default.
func (c *Config) protocolName() string {
	if c.Protocol == "" {
		return ProtocolNginx
	}
	return c.Protocol
}

// setupTus is setupFirst for --protocol tus: without a target it starts the embedded
// reference tus server (package fakeserver/tus, its creation URL the target), else it runs
// the tus preflight (PreflightTus). No harness backend: tus has no upload_pass.
func (r *run) setupTus(ctx context.Context, sc scenarios.Config, info result.RunInfo) result.RunInfo {
	if sc.Target == nil {
		srv, err := fstus.NewServer(fstus.Options{MaxSize: EmbeddedTusMaxSize})
		if err != nil {
			ginkgo.Fail(fmt.Sprintf("upspec setup: start the embedded reference tus server: %v", err))
		}
		r.tus = srv
		info.Target, info.Embedded = srv.CreationURL(), true
		return info
	}
	if !r.cfg.NoPreflight {
		if err := PreflightTus(ctx, sc); err != nil {
			ginkgo.Fail("upspec setup: " + err.Error() + " (--no-preflight skips this check)")
		}
	}
	info.Target = sc.Target.String()
	return info
}

// checkProtocol validates --protocol.
func (c *Config) checkProtocol() error {
	for _, p := range Protocols() {
		if c.protocolName() == p {
			return nil
		}
	}
	return fmt.Errorf("--protocol %q: want one of %s", c.Protocol, strings.Join(Protocols(), ", "))
}

// Scenarios returns the scenarios of the configured protocol: a spec per scenario. An unknown
// protocol (which Resolve rejects) gives the default's.
func (c *Config) Scenarios() []scenarios.Scenario {
	if c.protocolName() == ProtocolTus {
		return tus.All()
	}
	return scenarios.All()
}

// Catalogue returns what the reports know of the configured protocol's scenarios and
// clauses.
func (c *Config) Catalogue() reports.Catalogue {
	if c.protocolName() == ProtocolTus {
		return reports.Catalogue{Scenarios: tus.All(), Clauses: tus.Catalogue()}
	}
	return reports.DefaultCatalogue()
}

// LoadExpectations reads an --expect argument for the configured protocol: one of its
// built-in lists (tusd-v2 for tus; nginx-upload-module, ... for nginx) or a file.
func (c *Config) LoadExpectations(arg string) (*expectlist.List, error) {
	if c.protocolName() == ProtocolTus {
		return tus.LoadExpectations(arg)
	}
	var ids []string
	for _, s := range scenarios.All() {
		ids = append(ids, s.ID)
	}
	return expectlist.Load(arg, ids)
}
