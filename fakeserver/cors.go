package fakeserver

import (
	"net/http"
	"strings"
)

// CORS answers of the reference server (Options.CORSOrigins).
const (
	// corsAllowMethods is what a segment needs: POST, and OPTIONS for the preflight.
	corsAllowMethods = "POST, OPTIONS"
	// corsAllowHeaders lists every request header of the protocol, both spellings, and the
	// header that names a fault plan.
	corsAllowHeaders = "Content-Type, Content-Disposition, X-Content-Range, Content-Range, X-Session-ID, Session-ID, " + FaultPlanHeader
	// corsExposeHeaders lets a page read the 201's range list and a 503's Retry-After.
	corsExposeHeaders = "Range, Retry-After"
	// corsMaxAge is how long (seconds) a browser may keep a preflight's answer.
	corsMaxAge = "600"
)

// corsHandler wraps next so that pages of the allowed origins may post segments and read the
// answers (CORS with the policy of the segment protocol). With no origins, next is returned as
// it is: the module sends no CORS header.
func corsHandler(origins []string, next http.Handler) http.Handler {
	return CORS(origins, CORSPolicy{AllowMethods: corsAllowMethods, AllowHeaders: corsAllowHeaders, ExposeHeaders: corsExposeHeaders}, next)
}

// CORSPolicy is what a CORS wrapper lets pages of an allowed origin do: the methods and
// request headers a preflight allows, and the response headers a page may read.
type CORSPolicy struct {
	AllowMethods  string // Access-Control-Allow-Methods of a preflight's answer
	AllowHeaders  string // Access-Control-Allow-Headers of a preflight's answer
	ExposeHeaders string // Access-Control-Expose-Headers of every other answer
}

// CORS wraps next so that pages of the allowed origins may send the requests p allows and read
// the answers: a preflight (OPTIONS with Origin and Access-Control-Request-Method) from an
// allowed origin gets 204 with Access-Control-Allow-Methods/-Headers; every other request from
// an allowed origin goes to next with Access-Control-Allow-Origin (the request's origin, so that
// credentials work), -Allow-Credentials and -Expose-Headers. "*" allows every origin. Requests
// without an Origin, or from another origin, reach next unchanged. With no origins, next is
// returned as it is. The reference server of each protocol wraps itself with its own policy.
func CORS(origins []string, p CORSPolicy, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	c := &cors{next: next, policy: p, allowed: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			c.any = true
		}
		c.allowed[strings.TrimRight(o, "/")] = true
	}
	return c
}

type cors struct {
	next    http.Handler
	policy  CORSPolicy
	any     bool
	allowed map[string]bool // origins as a browser sends them: scheme://host[:port]
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !(c.any || c.allowed[origin]) {
		c.next.ServeHTTP(w, r)
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		h.Set("Access-Control-Allow-Methods", c.policy.AllowMethods)
		h.Set("Access-Control-Allow-Headers", c.policy.AllowHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.Set("Access-Control-Expose-Headers", c.policy.ExposeHeaders)
	c.next.ServeHTTP(w, r)
}
