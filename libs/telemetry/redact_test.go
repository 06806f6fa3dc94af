package telemetry_test

import (
	"strings"
	"testing"

	"github.com/flexflow/flexflow/libs/telemetry"
)

func TestRedactorRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		// National ID numbers.
		{"twelve_digit_personnummer_with_dash_is_redacted", "employee 19900312-1234 created", "employee [REDACTED:national-id] created"},
		{"twelve_digit_personnummer_without_dash_is_redacted", "pnr=199003121234", "pnr=[REDACTED:national-id]"},
		{"ten_digit_personnummer_with_dash_is_redacted", "id 900312-1234.", "id [REDACTED:national-id]."},
		{"ten_digit_personnummer_with_plus_for_centenarians_is_redacted", "born 121212+1212", "born [REDACTED:national-id]"},
		{"ten_digit_personnummer_without_separator_and_valid_luhn_is_redacted", "nationalId:8112189876", "nationalId:[REDACTED:national-id]"},
		{"samordningsnummer_with_day_plus_sixty_is_redacted", "snr 701063-2383", "snr [REDACTED:national-id]"},
		{"personnummer_inside_json_is_redacted", `{"nationalIdentificationNumber":"19900312-1234"}`, `{"nationalIdentificationNumber":"[REDACTED:national-id]"}`},
		{"bare_ten_digits_failing_luhn_are_kept", "order 8112189877", "order 8112189877"},
		{"ten_digits_with_impossible_month_are_kept", "ref 901312-1234", "ref 901312-1234"},
		{"twelve_digits_from_another_century_are_kept", "batch 219003121234", "batch 219003121234"},
		// Emails.
		{"work_email_is_redacted", "manager anna@example.se not found", "manager [REDACTED:email] not found"},
		{"email_with_plus_and_subdomain_is_redacted", "to: Anna.Lind+hr@mail.corp.example.com", "to: [REDACTED:email]"},
		{"email_with_swedish_letters_is_redacted", "från åsa.öberg@företag.se", "från [REDACTED:email]"},
		{"at_sign_without_domain_is_kept", "user@localhost failed", "user@localhost failed"},
		// Phone numbers.
		{"swedish_mobile_in_e164_is_redacted", "phone4 +46701234567 set", "phone4 [REDACTED:phone] set"},
		{"swedish_mobile_in_e164_with_spaces_is_redacted", "sms to +46 70 123 45 67", "sms to [REDACTED:phone]"},
		{"swedish_mobile_national_with_dash_is_redacted", "mobil 070-123 45 67", "mobil [REDACTED:phone]"},
		{"swedish_mobile_national_without_separators_is_redacted", "mobil 0731234567", "mobil [REDACTED:phone]"},
		{"swedish_number_with_0046_prefix_is_redacted", "call 0046 70 123 45 67", "call [REDACTED:phone]"},
		{"stockholm_landline_is_redacted", "tel 08-123 456 78", "tel [REDACTED:phone]"},
		{"us_number_in_e164_is_redacted", "+1 (555) 123-4567 called", "[REDACTED:phone] called"},
		// Things that must stay.
		{"uuid_is_kept", "contract 550e8400-e29b-41d4-a716-446655440000", "contract 550e8400-e29b-41d4-a716-446655440000"},
		{"uuid_with_digit_only_segments_is_kept", "id 19900312-1234-4567-8901-070123456789", "id 19900312-1234-4567-8901-070123456789"},
		{"trace_id_is_kept", "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7", "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7"},
		{"digit_only_trace_id_is_kept", "trace 12345678901234567890123456789012", "trace 12345678901234567890123456789012"},
		{"short_contract_id_is_kept", "contract 4711 published", "contract 4711 published"},
		{"employee_number_is_kept", "employee number 1001 in company 3", "employee number 1001 in company 3"},
		{"rfc3339_timestamp_is_kept", "at 2025-11-25T14:03:07.123+01:00", "at 2025-11-25T14:03:07.123+01:00"},
		{"compact_timestamp_is_kept", "file 20251125140307.pdf", "file 20251125140307.pdf"},
		{"unix_millis_are_kept", "ts=1764079387123", "ts=1764079387123"},
		{"date_is_kept", "from 2025-01-01 to 2025-12-31", "from 2025-01-01 to 2025-12-31"},
		{"postal_code_is_kept", "111 22 Stockholm", "111 22 Stockholm"},
		{"timezone_offset_is_kept", "offset +0100", "offset +0100"},
		{"version_is_kept", "otel v1.47.0 semconv v1.43.0", "otel v1.47.0 semconv v1.43.0"},
		{"empty_string_is_kept", "", ""},
	}
	r := telemetry.NewRedactor()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secrets []string
		in      string
		want    string
	}{
		{"registered_token_is_redacted", []string{"tok_9f8e7d6c5b4a39281706"}, "Authorization: Bearer tok_9f8e7d6c5b4a39281706", "Authorization: Bearer [REDACTED:secret]"},
		{"credentials_and_decoded_password_are_redacted", []string{"MTIzOmFwaTpwYTpzcw==", "pa:ss-w0rd!"}, "creds MTIzOmFwaTpwYTpzcw== password pa:ss-w0rd!", "creds [REDACTED:secret] password [REDACTED:secret]"},
		{"longer_secret_containing_a_shorter_one_is_redacted_whole", []string{"abcd", "abcdefgh"}, "x abcdefgh y", "x [REDACTED:secret] y"},
		{"secret_in_json_escaped_form_is_redacted", []string{`sign"key<&>`}, `{"k":"sign\"key\u003c\u0026\u003e"}`, `{"k":"[REDACTED:secret]"}`},
		{"secret_shorter_than_minimum_is_ignored", []string{"abc"}, "abc abc", "abc abc"},
		{"unregistered_text_is_kept", []string{"s3cr3t-token-value"}, "nothing to hide", "nothing to hide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := telemetry.NewRedactor()
			for _, s := range tt.secrets {
				r.AddSecret(s)
			}
			if got := r.Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	r := telemetry.NewRedactor()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			r.AddSecret(strings.Repeat("k", 4+i))
		}
	}()
	for i := 0; i < 100; i++ {
		_ = r.Redact("kkkk anna@example.se")
	}
	<-done
	if got := r.Redact("kkkk"); got != "[REDACTED:secret]" {
		t.Errorf("Redact after AddSecret = %q", got)
	}
}

func BenchmarkRedactPlainLine(b *testing.B) {
	r := telemetry.NewRedactor()
	r.AddSecret("tok_9f8e7d6c5b4a39281706")
	line := "webhook stored contract=4711 callback_id=550e8400-e29b-41d4-a716-446655440000 took 12ms"
	for b.Loop() {
		_ = r.Redact(line)
	}
}
