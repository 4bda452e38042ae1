// Package result is the result model of upspec: the records that a run produces and that
// every other part reads. The wire client records each request as an Exchange (Request,
// Response, Header, Outcome); a check that fails records a Finding at a Level; a scenario ends
// with a Verdict; a list of expected deviations names Expectations. The suite attaches these
// records to its Ginkgo specs under the report entry names of this package (EntryName,
// SetupEntryName, RunInfo, IDLabel), and package reports builds its run and writes its
// reports from them.
//
// The records say nothing about one protocol or one implementation: they are the same for a
// run of server scenarios and for a grade of client clauses judged from a server's journal,
// whatever the upload protocol.
package result
