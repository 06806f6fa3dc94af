package flexhrm

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Credentials
		wantErr string
	}{
		{"three_parts_are_split", b64("1001:api-user:secret"), Credentials{CustomerNumber: "1001", Username: "api-user", Password: "secret"}, ""},
		{"password_keeps_its_colons", b64("1001:api-user:pa:ss:word:"), Credentials{CustomerNumber: "1001", Username: "api-user", Password: "pa:ss:word:"}, ""},
		{"surrounding_newline_of_a_secret_file_is_trimmed", b64("1001:u:p") + "\n", Credentials{CustomerNumber: "1001", Username: "u", Password: "p"}, ""},
		{"unicode_password_is_kept", b64("1001:u:lösenord€"), Credentials{CustomerNumber: "1001", Username: "u", Password: "lösenord€"}, ""},
		{"empty_is_refused", "", Credentials{}, "empty"},
		{"only_spaces_are_refused", "   ", Credentials{}, "empty"},
		{"not_base64_is_refused", "not base64!", Credentials{}, "not standard base64"},
		{"url_safe_base64_is_refused", base64.URLEncoding.EncodeToString([]byte("1001:u:p?>>")), Credentials{}, "not standard base64"},
		{"unpadded_base64_is_refused", base64.RawStdEncoding.EncodeToString([]byte("1001:u:pwd1")), Credentials{}, "not standard base64"},
		{"two_parts_are_refused", b64("1001:user"), Credentials{}, "found 2 part(s)"},
		{"one_part_is_refused", b64("just-a-token"), Credentials{}, "found 1 part(s)"},
		{"empty_customer_number_is_refused", b64(":u:p"), Credentials{}, "customer number is empty"},
		{"empty_username_is_refused", b64("1001::p"), Credentials{}, "username is empty"},
		{"empty_password_is_refused", b64("1001:u:"), Credentials{}, "password is empty"},
		{"space_in_the_username_is_refused", b64("1001:api user:p"), Credentials{}, "username contains white space"},
		{"space_in_the_password_is_refused", b64("1001:u:pass word"), Credentials{}, "password contains white space"},
		{"newline_in_the_password_is_refused", b64("1001:u:pass\nword"), Credentials{}, "password contains white space"},
		{"control_character_in_the_customer_number_is_refused", b64("10\x0001:u:p"), Credentials{}, "customer number contains"},
		{"invalid_utf8_is_refused", b64("1001:u:\xff\xfe"), Credentials{}, "not UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCredentials(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrMalformedCredentials) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrMalformedCredentials mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.CustomerNumber != tc.want.CustomerNumber || got.Username != tc.want.Username || got.Password != tc.want.Password {
				t.Fatalf("got %q %q %q", got.CustomerNumber, got.Username, got.Password)
			}
			if got.Encoded() != strings.TrimSpace(tc.in) {
				t.Fatalf("Encoded() = %q, want the original text", got.Encoded())
			}
		})
	}
}

func TestCredentialsBuiltInCodeEncodeTheirParts(t *testing.T) {
	c := Credentials{CustomerNumber: "1", Username: "u", Password: "p:q"}
	if c.Encoded() != b64("1:u:p:q") {
		t.Fatalf("Encoded() = %q", c.Encoded())
	}
}

func TestCredentialsNeverShowThemselves(t *testing.T) {
	c, err := ParseCredentials(b64("1001:api-user:TopSecret42"))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "creds", c)
	js, _ := json.Marshal(struct{ C Credentials }{c})
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", c),
		"%#v":  fmt.Sprintf("%#v", c),
		"%s":   fmt.Sprintf("%s", c),
		"%q":   fmt.Sprintf("%q", c),
		"%x":   fmt.Sprintf("%x", c),
		"ptr":  fmt.Sprintf("%v", &c),
		"slog": logged.String(),
		"json": string(js),
	}
	for how, out := range outputs {
		for _, secret := range []string{"TopSecret42", "api-user", c.Encoded(), "1001"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %q: %s", how, secret, out)
			}
		}
	}
}
