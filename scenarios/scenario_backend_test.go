package scenarios

import "testing"

// TestFormFieldKind checks how form fields are recognised by the last word of their name,
// whatever names the deployment gives them.
func TestFormFieldKind(t *testing.T) {
	tests := []struct{ name, want string }{
		{"size", "size"},
		{"file.size", "size"},
		{"upload_file_size", "size"},
		{"FILE-SIZE", "size"},
		{"md5", "md5"},
		{".md5", "md5"},
		{"file_md5_uc", "md5"},
		{"sha1", "sha1"},
		{"file.sha256", "sha256"},
		{"file.sha512_uc", "sha512"},
		{"crc32", "crc32"},
		{"name", ""},
		{"path", ""},
		{"sizes", ""},
		{"uc", ""},
		{"", ""},
		{"<ngx_upload_module_dummy>", ""},
	}
	for _, tt := range tests {
		if got := formFieldKind(tt.name); got != tt.want {
			t.Errorf("formFieldKind(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
