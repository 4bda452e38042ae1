// Package tus is the reference server of tus 1.0.0, the resumable upload protocol of tus.io
// (protocol.md of 2016-03-25): the core protocol and the extensions creation,
// creation-with-upload, creation-defer-length, expiration, checksum (sha1, md5, sha256),
// termination and concatenation, over a Store in memory or in a data directory.
//
// It sits beside package fakeserver, the reference server of nginx-upload-module's protocol,
// and is shaped like it: NewServer and NewUnstartedServer in the manner of
// net/http/httptest, the same kinds of store, and fakeserver's CORS wrapper with the tus
// headers. `upspec serve --protocol tus` runs it.
//
// Two PATCHes of one upload never write at once: a PATCH claims the upload under a lock
// before it reads its body, and Go's server sends 100 Continue on the first read, so a client
// that sent Expect: 100-continue and got 100 Continue knows that its PATCH holds the upload;
// another PATCH meanwhile is answered 409 Conflict. The bytes of a PATCH are streamed to the
// store; when the body ends early, what arrived is kept (not with Upload-Checksum, which only
// a whole body can match), and the offset never goes down.
//
// It is also the mock of the nginx-protocol server for tus clients: the same journal
// (fakeserver.Journal), scripted faults (fakeserver.FaultPlan, on PATCH and on a creating POST
// with a body) and admin API (fakeserver.NewAdminHandler over Admin) under
// Options.AdminPrefix, with an upload as the session.
//
// One addition to the protocol: a GET of an upload URL answers the bytes received so far
// (all of them once the upload is complete), with Range support, so that a suite can compare
// what it sent byte for byte.
package tus
