package nginxconf

import (
	"strings"
	"testing"
)

// shape writes directives compactly, without positions: `name(arg,arg){...}`.
func shape(ds []*Directive) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Name)
		b.WriteString("(" + strings.Join(d.Args, ",") + ")")
		if d.IsBlock {
			b.WriteString("{" + shape(d.Block) + "}")
		}
		b.WriteString(";")
	}
	return b.String()
}

// dump is the shape of `nginx -T` output: the lines of nginx -t, then each file after its
// marker, includes left in place.
const dump = `nginx: the configuration file /etc/nginx/nginx.conf syntax is ok
nginx: configuration file /etc/nginx/nginx.conf test is successful
# configuration file /etc/nginx/nginx.conf:
user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
	worker_connections 768; # a comment after a directive
}

http {
	sendfile on;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
	include /etc/nginx/snippets/missing.conf;
}

# configuration file /etc/nginx/modules-enabled/50-mod-http-upload.conf:
load_module modules/ngx_http_upload_module.so;

# configuration file /etc/nginx/mime.types:

types {
    text/html                             html htm shtml;
    application/octet-stream              bin exe dll;
}

# configuration file /etc/nginx/sites-enabled/upload:
server {
	listen 80 default_server;
	server_name "upload.example.com" 'www.upload.example.com';
	root /var/www/html;

	location / {
		try_files $uri $uri/ =404;
	}
	location ~ ^/upload(/.*)?$ {
		upload_resumable on;
		upload_store /var/lib/upload/store;
		upload_set_form_field "${upload_field_name}name" "$upload_file_name";
		upload_pass @backend;
		location ~* \.(php)$ { deny all; }
	}
	location @backend {
		proxy_pass http://127.0.0.1:4567;
		add_header X-Note "a \"quoted\" value; with {braces} and # no comment";
	}
}
`

func TestParseDump(t *testing.T) {
	cfg, err := Parse([]byte(dump), "-")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := "/etc/nginx/nginx.conf /etc/nginx/modules-enabled/50-mod-http-upload.conf /etc/nginx/mime.types /etc/nginx/sites-enabled/upload"
	if got := strings.Join(cfg.Files, " "); got != wantFiles {
		t.Errorf("files %q", got)
	}
	if len(cfg.Unresolved) != 1 || cfg.Unresolved[0].Arg(0) != "/etc/nginx/snippets/missing.conf" {
		t.Errorf("unresolved %+v, want the missing snippet only (a glob that matches nothing includes nothing)", cfg.Unresolved)
	}
	got := shape(cfg.Directives)
	for _, want := range []string{
		"user(www-data);worker_processes(auto);pid(/run/nginx.pid);load_module(modules/ngx_http_upload_module.so);events(){worker_connections(768);}",
		"http(){sendfile(on);types(){text/html(html,htm,shtml);application/octet-stream(bin,exe,dll);};default_type(application/octet-stream);server(){",
		"server_name(upload.example.com,www.upload.example.com);",
		"include(/etc/nginx/snippets/missing.conf);}",
		"location(~,^/upload(/.*)?$){upload_resumable(on);upload_store(/var/lib/upload/store);upload_set_form_field(${upload_field_name}name,$upload_file_name);upload_pass(@backend);location(~*,\\.(php)$){deny(all);};}",
		`add_header(X-Note,a "quoted" value; with {braces} and # no comment);`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("parsed:\n%s\nwant it to contain\n%s", got, want)
		}
	}
	srv := cfg.Find("http")[0].Find("server")[0]
	if srv.File != "/etc/nginx/sites-enabled/upload" || srv.Line != 1 {
		t.Errorf("server at %s, want /etc/nginx/sites-enabled/upload:1", srv.Pos())
	}
	if loc := srv.Find("location")[1]; loc.Pos() != "/etc/nginx/sites-enabled/upload:9" {
		t.Errorf("regex location at %s", loc.Pos())
	}
}

// TestParseRealWorldConstructs: constructs of distribution and application configurations.
func TestParseRealWorldConstructs(t *testing.T) {
	const text = `http {
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent "$http_referer"';
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen [::]:443 ssl http2;
        if ($request_method = OPTIONS) { return 204; }
        location ~ ^/files/(?<name>[^/]+)$ { alias /srv/files/$name; }
        location ~ "^/v[0-9]{1,2}/upload$" { upload_pass @b; }
        rewrite ^/old/(.*)$ /new/$1 permanent;
        location / { try_files $uri $uri/ /index.html =404; }#trailing comment
    }
}`
	cfg, err := Parse([]byte(text), "app.conf")
	if err != nil {
		t.Fatal(err)
	}
	got := shape(cfg.Directives)
	for _, want := range []string{
		"log_format(main,$remote_addr - $remote_user [$time_local] \"$request\" ,$status $body_bytes_sent \"$http_referer\");",
		"map($http_upgrade,$connection_upgrade){default(upgrade);(close);}",
		"listen([::]:443,ssl,http2);",
		"if(($request_method,=,OPTIONS)){return(204);}",
		"location(~,^/files/(?<name>[^/]+)$){alias(/srv/files/$name);}",
		"location(~,^/v[0-9]{1,2}/upload$){upload_pass(@b);}",
		"location(/){try_files($uri,$uri/,/index.html,=404);}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("parsed:\n%s\nwant it to contain\n%s", got, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unclosed block", "http {\n server {\n}\n", "f.conf:4: unexpected end of file, expecting \"}\""},
		{"stray brace", "a b;\n}\n", "f.conf:2: unexpected \"}\""},
		{"missing semicolon before brace", "http { a b }", "unexpected \"}\" after \"a\""},
		{"missing semicolon at end", "a b", "unexpected end of file, expecting \";\" or \"}\" after \"a\""},
		{"unterminated quote", "a \"b;\n", "f.conf:1: unterminated quoted string"},
		{"text after a quote", "a \"b\"c;", "unexpected 'c' after a quoted string"},
		{"stray semicolon", ";", "unexpected \";\""},
		{"block without name", "{ }", "unexpected \"{\""},
		{"include loop", "# configuration file /a.conf:\ninclude /a.conf;\n", "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "f.conf")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) error %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{`a "x y" 'p q';`, "a(x y,p q);"},
		{`a "\"\\\t\n\z";`, "a(\"\\\t\n\\z);"},
		{`a b\;c;`, `a(b\;c);`}, // nginx keeps a backslash before other characters,
		{`a x#y; # comment`, "a(x#y);"},
		{"a ${v}x ${w};", "a(${v}x,${w});"},
		{`rewrite ^/(a|b){1,2}$ /c;`, "rewrite(^/(a|b)){1,2}$(/c);"}, // nginx reads a block there too
		{`a "";`, "a();"},
		{"events{}", "events(){};"},
	}
	for _, tt := range tests {
		cfg, err := Parse([]byte(tt.in), "f")
		if tt.in == `rewrite ^/(a|b){1,2}$ /c;` {
			if err == nil {
				t.Errorf("Parse(%q): no error; nginx refuses an unquoted brace", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := shape(cfg.Directives); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{dump, "a b;", "http { server { location / { root /x; } } }", `a "q\"" 'r\'' \x ${v};`, "# c\na;"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "f.conf")
		if err != nil {
			return
		}
		text := Format(cfg.Directives)
		again, err := Parse([]byte(text), "f.conf")
		if err != nil {
			t.Fatalf("the formatted configuration does not parse: %v\n%s", err, text)
		}
		if a, b := shape(cfg.Directives), shape(again.Directives); a != b {
			t.Fatalf("round trip changed the directives:\n%q\n%q\nformatted:\n%s", a, b, text)
		}
	})
}
