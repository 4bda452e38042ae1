package doctor

import (
	"slices"
	"strings"
	"testing"

	"github.com/upspec/upspec/internal/nginxconf"
)

// good is a working deployment in the shape of a distribution's nginx -T output: the upload
// location in a site file reached through an include, comments, quoted values, a nested and a
// regex location.
const good = `# configuration file /etc/nginx/nginx.conf:
user www-data;
events { worker_connections 768; }
http {
    client_max_body_size 10m;   # inherited by the upload location
    include /etc/nginx/sites-enabled/*;
}

# configuration file /etc/nginx/sites-enabled/default:
server {
    listen 80 default_server;
    root /var/www/html;
    location / {
        try_files $uri $uri/ =404;
        location ~* \.(png|css)$ { expires 1d; }
    }
    location ~ \.php$ { deny all; }
}

# configuration file /etc/nginx/sites-enabled/upload:
server {
    listen 8080;
    server_name "upload.example";
    location / { root /var/www/upspec; }
    location ^~ /upload {
        upload_resumable on;
        upload_store /var/lib/upspec/store;
        upload_state_store '/var/lib/upspec/state';
        upload_store_access user:rw group:rw all:r;
        upload_set_form_field name "$upload_file_name";
        upload_set_form_field "path" "$upload_tmp_path";
        upload_aggregate_form_field size "$upload_file_size";
        upload_cleanup 404 500-505;
        upload_max_file_size 0;
        upload_pass @backend;
        location ~ /upload/admin { deny all; }
    }
    location @backend { proxy_pass http://127.0.0.1:4567; }
}
`

func rulesOf(r Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Rule)
	}
	return out
}

func checkText(t *testing.T, text string, opts ConfigOptions) Report {
	t.Helper()
	cfg, err := nginxconf.Parse([]byte(text), "nginx.conf")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return CheckConfig(cfg, opts)
}

// TestConfigRules runs every rule on a configuration that triggers it (one change from the
// good one) and on the good one, which triggers none.
func TestConfigRules(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			panic("no " + old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name string
		text string
		opts ConfigOptions
		want []string // rules, in order
		fix  string   // substring of the first finding's fix
	}{
		{"good", good, ConfigOptions{FileSize: 1 << 30, SessionIDLength: 30}, nil, ""},
		{"resumable missing", edit("upload_resumable on;", ""), ConfigOptions{}, []string{"resumable-off"}, "upload_resumable on;"},
		{"resumable off", edit("upload_resumable on;", "upload_resumable off;"), ConfigOptions{}, []string{"resumable-off"}, "upload_resumable on;"},
		{"no upload_pass", edit("upload_pass @backend;", ""), ConfigOptions{}, []string{"upload-pass-missing"}, "upload_pass @backend;"},
		{"no state store", edit("upload_state_store '/var/lib/upspec/state';", ""), ConfigOptions{}, []string{"state-store-missing"}, "upload_state_store /"},
		{"no store", edit("upload_store /var/lib/upspec/store;", ""), ConfigOptions{}, []string{"store-missing"}, "upload_store /"},
		{"store levels", edit("upload_store /var/lib/upspec/store;", "upload_store /var/lib/upspec/store 1;"), ConfigOptions{},
			[]string{"store-levels"}, "mkdir -p -- /var/lib/upspec/store/{{0..9}"},
		{"session IDs shorter than the levels", edit("upload_store /var/lib/upspec/store;", "upload_store /var/lib/upspec/store 1 2;"),
			ConfigOptions{SessionIDLength: 2}, []string{"store-levels", "session-id-short"}, "upload_store /var/lib/upspec/store;"},
		{"state levels", edit("upload_state_store '/var/lib/upspec/state';", "upload_state_store /var/lib/upspec/state 1 2;"), ConfigOptions{},
			[]string{"state-levels"}, "mkdir -p /var/lib/upspec/state/e/at"},
		{"body size below the segment", edit("client_max_body_size 10m;", "client_max_body_size 64k;"), ConfigOptions{SegmentSize: 1 << 20},
			[]string{"body-size"}, "client_max_body_size 1m;"},
		{"body size default below the segment", edit("client_max_body_size 10m;", ""), ConfigOptions{SegmentSize: 8 << 20},
			[]string{"body-size"}, "client_max_body_size 8m;"},
		{"body size default, segment 1m", edit("client_max_body_size 10m;", ""), ConfigOptions{SegmentSize: 1 << 20}, nil, ""},
		{"body size unlimited", edit("client_max_body_size 10m;", "client_max_body_size 0;"), ConfigOptions{SegmentSize: 1 << 30}, nil, ""},
		{"cleanup 400 499", edit("upload_cleanup 404 500-505;", "upload_cleanup 400 404 499 500-505;"), ConfigOptions{},
			[]string{"cleanup-400"}, "upload_cleanup 404 500-505;"},
		{"cleanup range over 400", edit("upload_cleanup 404 500-505;", "upload_cleanup 400-599;"), ConfigOptions{},
			[]string{"cleanup-400"}, "upload_cleanup 500-505;"},
		{"cleanup range over 499 only", edit("upload_cleanup 404 500-505;", "upload_cleanup 450-510;"), ConfigOptions{},
			[]string{"cleanup-400"}, ""},
		{"no form field for the path", edit(`upload_set_form_field "path" "$upload_tmp_path";`, ""), ConfigOptions{},
			[]string{"form-field-path"}, `upload_set_form_field path "$upload_tmp_path";`},
		{"no form field at all", strings.Replace(edit(`upload_set_form_field name "$upload_file_name";`, ""), `upload_set_form_field "path" "$upload_tmp_path";`, "", 1),
			ConfigOptions{}, []string{"form-field-name", "form-field-path"}, "$upload_file_name"},
		{"max file size below the files", edit("upload_max_file_size 0;", "upload_max_file_size 100m;"), ConfigOptions{FileSize: 1 << 30},
			[]string{"max-file-size"}, "upload_max_file_size 1g;"},
		{"max file size above the files", edit("upload_max_file_size 0;", "upload_max_file_size 2g;"), ConfigOptions{FileSize: 1 << 30}, nil, ""},
		{"no store access", edit("upload_store_access user:rw group:rw all:r;", ""), ConfigOptions{}, []string{"store-access"}, "upload_store_access user:rw"},
		{"page from another origin", edit("location / { root /var/www/upspec; }", ""), ConfigOptions{}, []string{"cors"}, "Access-Control-Allow-Origin"},
		{"another origin, with CORS", edit("location / { root /var/www/upspec; }",
			"upload_add_header Access-Control-Allow-Origin https://page.example; upload_add_header Access-Control-Expose-Headers Range;"),
			ConfigOptions{}, nil, ""},
		{"another origin, Range not exposed", edit("location / { root /var/www/upspec; }", "add_header Access-Control-Allow-Origin *;"),
			ConfigOptions{}, []string{"cors-range"}, "Access-Control-Expose-Headers Range"},
		{"a path only location / serves", good, ConfigOptions{UploadPath: "/files/up"}, []string{"no-location"}, "location = /files/up"},
		{"no http block", "events {}\n", ConfigOptions{}, []string{"no-server"}, "nginx -T"},
		{"no location for the path", "http { server { location = /other { } } }", ConfigOptions{}, []string{"no-location"}, "location = /upload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := checkText(t, tt.text, tt.opts)
			got := rulesOf(r)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("rules %v, want %v\n%s", got, tt.want, r.Text())
			}
			if len(r.Findings) > 0 && !strings.Contains(r.Findings[0].Fix, tt.fix) {
				t.Errorf("fix %q, want it to contain %q", r.Findings[0].Fix, tt.fix)
			}
			for _, f := range r.Findings {
				if f.Directive == "" || f.Fix == "" || f.Evidence == "" || f.Problem == "" || f.Severity == "" {
					t.Errorf("incomplete finding %+v", f)
				}
			}
		})
	}
}

// TestConfigEvidenceNamesTheFile: the evidence names the file and line of the dump.
func TestConfigEvidenceNamesTheFile(t *testing.T) {
	text := strings.Replace(good, "upload_cleanup 404 500-505;", "upload_cleanup 400 404 499 500-505;", 1)
	r := checkText(t, text, ConfigOptions{})
	if len(r.Findings) != 1 || r.Findings[0].Evidence != "/etc/nginx/sites-enabled/upload:13: upload_cleanup 400 404 499 500-505" {
		t.Errorf("findings %+v", r.Findings)
	}
}

// TestConfigLocationSelection: the location checked is the one nginx picks for the path.
func TestConfigLocationSelection(t *testing.T) {
	const upload = "upload_resumable on; upload_store /s; upload_state_store /t; upload_store_access user:rw; " +
		`upload_set_form_field name "$upload_file_name"; upload_set_form_field path "$upload_tmp_path"; upload_pass @b;`
	// onlyPass: the rules a location with only upload_pass triggers.
	onlyPass := []string{"resumable-off", "store-missing", "state-store-missing", "form-field-name", "form-field-path", "store-access"}
	tests := []struct {
		name, server string
		want         []string
	}{
		{"exact beats regex", "location = /upload { " + upload + " } location ~ ^/up { }", nil},
		{"regex beats prefix", "location /upload { } location ~ ^/upload$ { " + upload + " }", nil},
		{"first regex wins", "location ~ ^/upload$ { upload_pass @b; } location ~ ^/up { " + upload + " }", onlyPass},
		{"^~ stops regexes", "location ^~ /upload { " + upload + " } location ~ ^/upload$ { }", nil},
		{"nested regex in the prefix", "location /up { location ~ load$ { " + upload + " } }", nil},
		{"longest prefix", "location /up { " + upload + " } location /upload { upload_pass @b; }", onlyPass},
		{"case-insensitive regex", "location ~* ^/UPLOAD$ { " + upload + " }", nil},
		{"inherited from the server", upload + " location /upload { upload_resumable on; }", nil},
		{"array directives are not merged", upload + " location /upload { upload_set_form_field x y; }", []string{"form-field-name", "form-field-path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := "http { server { location / { root /w; } location @b { proxy_pass http://b; } " + tt.server + " } }"
			r := checkText(t, text, ConfigOptions{})
			if got := rulesOf(r); !slices.Equal(got, tt.want) {
				t.Errorf("rules %v, want %v\n%s", got, tt.want, r.Text())
			}
		})
	}
}

// TestGeneratedConfigIsClean: the configuration `upspec nginx-conf` writes passes every rule,
// with and without hash levels (which only warn).
func TestGeneratedConfigIsClean(t *testing.T) {
	text, err := nginxconf.Generate(nginxconf.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	if r := checkText(t, text, ConfigOptions{SegmentSize: 1 << 20, FileSize: 1 << 40}); len(r.Findings) != 0 || len(r.Notes) != 0 {
		t.Errorf("the generated configuration:\n%s", r.Text())
	}
	p := nginxconf.DefaultParams()
	p.StoreLevels = []int{1}
	text, err = nginxconf.Generate(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := rulesOf(checkText(t, text, ConfigOptions{})); !slices.Equal(got, []string{"store-levels"}) {
		t.Errorf("with levels: %v", got)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1024": 1024, "64k": 65536, "1M": 1 << 20, "2g": 2 << 30} {
		if got, ok := parseSize(in); !ok || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "k", "-1", "1x", "99999999999999999999g"} {
		if _, ok := parseSize(in); ok {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

// FuzzCheckConfig: any configuration that parses is checked without a panic, and every
// finding is complete.
func FuzzCheckConfig(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte("http { server { location ~ ( { upload_store /s 1 2 3; upload_state_store /t 2 2 2; upload_cleanup 499-400 x; } } }"))
	f.Add([]byte("http { server { location =/upload { client_max_body_size 99999999999g; upload_max_file_size k; } } }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := nginxconf.Parse(data, "f.conf")
		if err != nil {
			return
		}
		r := CheckConfig(cfg, ConfigOptions{FileSize: 1 << 30, SessionIDLength: 1})
		for _, fd := range r.Findings {
			if fd.Rule == "" || fd.Directive == "" || fd.Fix == "" || fd.Evidence == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
		}
	})
}
