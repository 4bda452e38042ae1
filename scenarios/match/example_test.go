package match_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/upspec/upspec/fakeserver"
	"github.com/upspec/upspec/scenarios/match"
)

// TestExampleSuite runs an example of a user's own Ginkgo suite: specs against an upload
// server (here the in-process reference server; a user's would point at their own) that
// check its answers with the protocol matchers.
func TestExampleSuite(t *testing.T) {
	if f := flag.Lookup("test.count"); f != nil && f.Value.String() != "1" {
		t.Skip("Ginkgo runs its specs once per process: repeat them with `go tool ginkgo --repeat=N ./scenarios/match`")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "protocol matchers: an example suite")
}

// segment sends bytes start..end of a file of total bytes (the byte at offset i is 'a'+i%26)
// as one segment of session id, and returns the answer.
func segment(url, id string, start, end, total int64) *http.Response {
	GinkgoHelper()
	body := make([]byte, end-start+1)
	for i := range body {
		body[i] = byte('a' + (start+int64(i))%26)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("X-Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, total))
	req.Header.Set("Session-ID", id)
	req.Header.Set("Content-Disposition", `attachment; filename="example.bin"`)
	req.Header.Set("Content-Type", "application/octet-stream")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(resp.Body.Close)
	return resp
}

var _ = Describe("an upload server", func() {
	var url string
	BeforeEach(func() {
		srv, err := fakeserver.NewServer(fakeserver.Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)
		url = srv.UploadURL()
	})

	It("lists every range received in each 201, and passes on the backend's answer for the last segment", func() {
		id := "example-1"
		Expect(segment(url, id, 0, 5, 24)).To(match.BeSegmentAnswer("0-5/24"))
		Expect(segment(url, id, 9, 15, 24)).To(match.BeSegmentAnswer("0-5,9-15/24"))
		Expect(segment(url, id, 0, 5, 24)).To(match.BeSegmentAnswer("0-5/24,9-15/24"), "an identical resend")
		Expect(segment(url, id, 16, 23, 24)).To(match.BeSegmentAnswer("0-5/24,9-23/24"))
		Expect(segment(url, id, 6, 8, 24)).To(SatisfyAll(match.BeCompletion(), match.BeCompletionWith(200, "completed")))
	})

	It("refuses, with a reason, a segment whose total is not the session's", func() {
		id := "example-2"
		Expect(segment(url, id, 0, 5, 24)).To(match.BeSegmentAnswer("0-5/24"))
		Expect(segment(url, id, 6, 11, 30)).To(match.BeRefusal())
		Expect(segment(url, id, 6, 11, 24)).NotTo(match.BeRefusal())
	})
})
