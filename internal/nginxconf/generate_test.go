package nginxconf

import (
	"strings"
	"testing"
)

// directivesOf returns `name args` lines of the directives of the block, for comparisons.
func directivesOf(ds []*Directive) []string {
	var out []string
	for _, d := range ds {
		out = append(out, strings.TrimSpace(d.Name+" "+strings.Join(d.Args, " ")))
	}
	return out
}

// uploadLocation returns the location of the generated configuration that takes segments.
func uploadLocation(t *testing.T, text string) *Directive {
	t.Helper()
	cfg, err := Parse([]byte(text), "nginx.conf")
	if err != nil {
		t.Fatalf("the generated configuration does not parse: %v", err)
	}
	for _, srv := range cfg.Find("http")[0].Find("server") {
		for _, loc := range srv.Find("location") {
			if len(loc.Find("upload_pass")) > 0 {
				return loc
			}
		}
	}
	t.Fatal("no location with upload_pass")
	return nil
}

func TestGenerate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Params)
		want   []string // directives of the upload location, in order
		text   []string // substrings of the whole text
	}{
		{"defaults", func(*Params) {}, []string{
			"upload_resumable on",
			"upload_store /var/lib/upspec/store",
			"upload_state_store /var/lib/upspec/state",
			"upload_store_access user:rw group:rw all:r",
			"upload_set_form_field name $upload_file_name",
			"upload_set_form_field content_type $upload_content_type",
			"upload_set_form_field path $upload_tmp_path",
			"upload_aggregate_form_field size $upload_file_size",
			"upload_aggregate_form_field md5 $upload_file_md5",
			"upload_aggregate_form_field sha1 $upload_file_sha1",
			"upload_cleanup 500-505",
			"client_max_body_size 1m",
			"upload_max_file_size 0",
			"upload_pass @upspec_backend",
		}, []string{"server 127.0.0.1:4567;", "listen 8080;", "location = /upload {", "root /var/www/upspec;", "location /file/ {"}},
		{"every flag", func(p *Params) {
			p.Listen, p.UploadPath, p.StoreDir, p.StateDir = "127.0.0.1:9090", "/up", "/srv/s", "/srv/t"
			p.StoreLevels, p.Backend, p.MaxFileSize, p.SegmentSize, p.StaticRoot = []int{1}, "10.0.0.2:9000", 10<<30, 8<<20, ""
		}, []string{
			"upload_resumable on", "upload_store /srv/s 1", "upload_state_store /srv/t",
		}, []string{"listen 127.0.0.1:9090;", "client_max_body_size 8m;", "upload_max_file_size 10g;", "server 10.0.0.2:9000;",
			"bash -c 'mkdir -p -- /srv/s/{{0..9},{a..z},{A..Z},_,-}'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			tt.change(&p)
			text, err := Generate(p)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(directivesOf(uploadLocation(t, text).Block), "\n")
			if want := strings.Join(tt.want, "\n"); !strings.HasPrefix(got, want) && tt.name == "defaults" {
				t.Errorf("upload location:\n%s\nwant:\n%s", got, want)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("upload location lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.text {
				if !strings.Contains(text, w) {
					t.Errorf("configuration lacks %q", w)
				}
			}
			if p.StaticRoot == "" && strings.Contains(text, "root ") {
				t.Error("a page location without a static root")
			}
		})
	}
}

func TestGenerateRefusesBadParams(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Params)
		want   string
	}{
		{"relative store", func(p *Params) { p.StoreDir = "store" }, "absolute"},
		{"same dirs", func(p *Params) { p.StateDir = p.StoreDir }, "must differ"},
		{"path without slash", func(p *Params) { p.UploadPath = "upload" }, "must start with /"},
		{"injection", func(p *Params) { p.StaticRoot = "/x; } server { listen 1" }, "holds a blank"},
		{"levels", func(p *Params) { p.StoreLevels = []int{3} }, "1 or 2"},
		{"four levels", func(p *Params) { p.StoreLevels = []int{1, 1, 1, 1} }, "at most three"},
		{"backend", func(p *Params) { p.Backend = "localhost" }, "host:port"},
		{"segment", func(p *Params) { p.SegmentSize = 0 }, "positive"},
	}
	for _, tt := range tests {
		p := DefaultParams()
		tt.change(&p)
		if _, err := Generate(p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1: "1", 1024: "1k", 65536: "64k", 1 << 20: "1m", 3 << 30: "3g", 1500: "1500"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLevelDirs(t *testing.T) {
	if got := LevelDirs("/s", nil); got != "" {
		t.Errorf("no levels: %q", got)
	}
	if got, want := LevelDirs("/s", []int{1, 2}), "bash -c 'mkdir -p -- /s/{{0..9},{a..z},{A..Z},_,-}/{{0..9},{a..z},{A..Z},_,-}{{0..9},{a..z},{A..Z},_,-}'"; got != want {
		t.Errorf("levels 1 2: %q", got)
	}
}
