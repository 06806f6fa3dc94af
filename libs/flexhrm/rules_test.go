package flexhrm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidatePersonnummer(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		reason string // "" means valid
	}{
		{"twelve_digits_with_dash_is_valid", "19900312-9831", ""},
		{"twelve_digits_without_separator_is_valid", "199003129831", ""},
		{"ten_digits_with_dash_is_valid", "900312-9831", ""},
		{"ten_digits_without_separator_is_valid", "9003129831", ""},
		{"ten_digits_with_plus_for_a_centenarian_is_valid", "900312+9831", ""},
		{"twelve_digits_with_plus_is_valid", "19900312+9831", ""},
		{"samordningsnummer_day_plus_sixty_is_valid", "19800474-9894", ""},
		{"ten_digit_samordningsnummer_is_valid", "800474-9894", ""},
		{"leap_day_in_a_leap_year_is_valid", "19920229-9856", ""},
		{"leap_day_of_year_00_is_valid_as_2000", "000229-9808", ""},
		{"wrong_check_digit_is_refused", "19900312-9832", "check digit"},
		{"leap_day_in_a_common_year_is_refused", "19930229-9806", "real date"},
		{"twelve_digit_leap_day_of_1900_is_refused", "19000229-9808", "real date"},
		{"month_13_is_refused", "19901312-9831", "real date"},
		{"day_zero_is_refused", "19900300-9831", "real date"},
		{"day_sixty_is_refused", "19900360-9831", "real date"},
		{"samordningsnummer_beyond_the_month_is_refused", "19800492-9894", "real date"},
		{"nine_digits_are_refused", "900312983", "10 or 12"},
		{"eleven_digits_are_refused", "19900312983", "separator"},
		{"fourteen_characters_are_refused", "19900312--9831", "10 or 12"},
		{"empty_is_refused", "", "10 or 12"},
		{"separator_in_the_wrong_place_is_refused", "1990031-29831", "separator"},
		{"letters_are_refused", "19900312-983X", "only digits"},
		{"unicode_digits_are_refused", "１９９００３１２９８３１", "10 or 12"},
		{"spaces_are_refused", "19900312 9831", "separator"},
		{"year_zero_is_refused", "00000101-0008", "real date"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePersonnummer(tc.in)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("ValidatePersonnummer(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPersonnummer) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("ValidatePersonnummer(%q) = %v, want ErrInvalidPersonnummer about %q", tc.in, err, tc.reason)
			}
			if tc.in != "" && len(tc.in) > 4 && strings.Contains(err.Error(), tc.in) {
				t.Fatalf("the error repeats the number")
			}
		})
	}
}

func TestChooseOneflowCategory(t *testing.T) {
	cat := func(id, name string, inRegister bool) DocumentCategory {
		return DocumentCategory{ID: id, CompanyID: "c", Name: name, UsedInEmploymentRegister: inRegister}
	}
	tests := []struct {
		name    string
		in      []DocumentCategory
		wantID  string
		wantErr string
	}{
		{"single_oneflow_category_in_the_register_is_chosen", []DocumentCategory{cat("1", "Anställningsavtal", true), cat("2", "Oneflow Documents", true)}, "2", ""},
		{"prefix_matches_case_insensitively_after_trimming", []DocumentCategory{cat("1", "  ONEFLOW avtal ", true)}, "1", ""},
		{"category_outside_the_register_is_skipped", []DocumentCategory{cat("1", "Oneflow Arkiv", false), cat("2", "Oneflow Documents", true)}, "2", ""},
		{"exact_case_prefix_wins_over_a_shorter_name", []DocumentCategory{cat("1", "ONEFLOW", true), cat("2", "Oneflow Documents", true)}, "2", ""},
		{"shortest_name_wins_among_exact_case", []DocumentCategory{cat("1", "Oneflow Documents", true), cat("2", "Oneflow Avtal", true)}, "2", ""},
		{"length_counts_characters_not_bytes", []DocumentCategory{cat("1", "Oneflow åäö", true), cat("2", "Oneflow abcd", true)}, "1", ""},
		{"smallest_id_breaks_a_tie", []DocumentCategory{cat("b", "Oneflow B", true), cat("a", "Oneflow A", true)}, "a", ""},
		{"name_not_starting_with_oneflow_is_not_chosen", []DocumentCategory{cat("1", "Avtal från Oneflow", true)}, "", "no category name starts with"},
		{"only_categories_outside_the_register_are_named_in_the_error", []DocumentCategory{cat("1", "Oneflow Arkiv", false)}, "", `"Oneflow Arkiv"`},
		{"no_categories_at_all_is_an_error", nil, "", "no Oneflow document category"},
		{"short_name_is_not_a_match", []DocumentCategory{cat("1", "One", true)}, "", "no category name starts with"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseOneflowCategory(tc.in)
			if tc.wantErr != "" {
				if !errors.Is(err, ErrNoOneflowCategory) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrNoOneflowCategory mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.ID != tc.wantID {
				t.Fatalf("got %q, %v; want %q", got.ID, err, tc.wantID)
			}
		})
	}
}

func TestCurrentPeriod(t *testing.T) {
	date := func(y int, m time.Month, d int) *Date { v := NewDate(y, m, d); return &v }
	period := func(id string, from, to *Date) EmploymentPeriod {
		return EmploymentPeriod{ID: id, FromDate: *from, ToDate: to}
	}
	today := time.Date(2024, time.June, 15, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		periods []EmploymentPeriod
		today   time.Time
		wantID  string
	}{
		{"open_ended_period_covers_today", []EmploymentPeriod{period("past", date(2019, 1, 1), date(2021, 12, 31)), period("now", date(2022, 1, 1), nil)}, today, "now"},
		{"period_ending_today_covers_today", []EmploymentPeriod{period("ends", date(2024, 1, 1), date(2024, 6, 15)), period("future", date(2024, 6, 16), nil)}, today, "ends"},
		{"period_starting_today_covers_today", []EmploymentPeriod{period("starts", date(2024, 6, 15), nil), period("old", date(2020, 1, 1), date(2024, 6, 14))}, today, "starts"},
		{"without_a_covering_period_the_latest_start_wins", []EmploymentPeriod{period("old", date(2010, 1, 1), date(2012, 1, 1)), period("newer", date(2015, 1, 1), date(2016, 1, 1))}, today, "newer"},
		{"a_future_period_is_the_latest_start", []EmploymentPeriod{period("past", date(2010, 1, 1), date(2012, 1, 1)), period("future", date(2030, 1, 1), nil)}, today, "future"},
		{"covering_periods_tie_break_on_latest_start", []EmploymentPeriod{period("a", date(2020, 1, 1), nil), period("b", date(2023, 1, 1), nil)}, today, "b"},
		{"same_start_tie_breaks_on_id", []EmploymentPeriod{period("z", date(2020, 1, 1), nil), period("y", date(2020, 1, 1), nil)}, today, "y"},
		{"today_is_read_in_its_own_location", []EmploymentPeriod{period("june15", date(2024, 6, 15), date(2024, 6, 15)), period("june16", date(2024, 6, 16), date(2024, 6, 16))},
			time.Date(2024, time.June, 16, 0, 30, 0, 0, time.FixedZone("CEST", 2*3600)), "june16"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CurrentPeriod(tc.periods, tc.today)
			if !ok || got.ID != tc.wantID {
				t.Fatalf("got %q (%v), want %q", got.ID, ok, tc.wantID)
			}
		})
	}
	t.Run("no_periods_gives_none", func(t *testing.T) {
		if _, ok := CurrentPeriod(nil, today); ok {
			t.Fatal("want false")
		}
	})
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2024-02-29T00:00:00", NewDate(2024, 2, 29), true},
		{"2024-02-29", NewDate(2024, 2, 29), true},
		{"2024-02-29T00:00:00Z", NewDate(2024, 2, 29), true},
		{"2024-02-29T00:00:00.000", NewDate(2024, 2, 29), true},
		{"2024-02-29T00:00:00.0000000Z", NewDate(2024, 2, 29), true},
		{"2023-02-29", Date{}, false},
		{"2023-12-31T23:00:00Z", Date{}, false},
		{"2024-01-01T00:00:00.001", Date{}, false},
		{"2024-01-01T00:00:00+01:00", Date{}, false},
		{"2024-01-01T00:00:00.", Date{}, false},
		{"2024-1-01", Date{}, false},
		{"0000-01-01", Date{}, false},
		{"2024-01-01 00:00:00", Date{}, false},
		{"+024-01-01", Date{}, false},
		{"", Date{}, false},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidDate) {
			t.Errorf("ParseDate(%q) error does not wrap ErrInvalidDate", tc.in)
		}
	}
}

func TestDateJSON(t *testing.T) {
	d := NewDate(2024, time.March, 5)
	b, err := d.MarshalJSON()
	if err != nil || string(b) != `"2024-03-05T00:00:00"` {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
	if b, _ := (Date{}).MarshalJSON(); string(b) != "null" {
		t.Fatalf("zero date marshals as %s, want null", b)
	}
	var back Date
	if err := back.UnmarshalJSON([]byte(`"2024-03-05"`)); err != nil || back != d {
		t.Fatalf("UnmarshalJSON = %v, %v", back, err)
	}
	if err := back.UnmarshalJSON([]byte(`null`)); err != nil || !back.IsZero() {
		t.Fatalf("null = %v, %v", back, err)
	}
	if err := back.UnmarshalJSON([]byte(`20240305`)); err == nil {
		t.Fatal("a number was accepted as a date")
	}
}
