package flexhrm

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidPersonnummer is wrapped by every ValidatePersonnummer failure.
// The message says what is wrong, never the number.
var ErrInvalidPersonnummer = errors.New("not a valid personnummer or samordningsnummer")

// ValidatePersonnummer checks a Swedish personnummer or samordningsnummer the
// way the model does: 10 or 12 digits with an optional "-" or "+" before the
// last four, a real date (or, for a samordningsnummer, day + 60), and the Luhn
// check digit. It is exported so services refuse a bad national ID before
// asking Flex HRM.
func ValidatePersonnummer(s string) error {
	var d []byte
	switch len(s) {
	case 10, 12:
		d = []byte(s)
	case 11, 13:
		sep := s[len(s)-5]
		if sep != '-' && sep != '+' {
			return fmt.Errorf("%w: separator must be - or +", ErrInvalidPersonnummer)
		}
		d = append([]byte(s[:len(s)-5]), s[len(s)-4:]...)
	default:
		return fmt.Errorf("%w: want 10 or 12 digits", ErrInvalidPersonnummer)
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return fmt.Errorf("%w: only digits and one - or + are allowed", ErrInvalidPersonnummer)
		}
	}
	month := int(d[len(d)-8]-'0')*10 + int(d[len(d)-7]-'0')
	day := int(d[len(d)-6]-'0')*10 + int(d[len(d)-5]-'0')
	if day > 60 {
		day -= 60 // samordningsnummer
	}
	var years []int
	if len(d) == 12 {
		years = []int{int(d[0]-'0')*1000 + int(d[1]-'0')*100 + int(d[2]-'0')*10 + int(d[3]-'0')}
	} else {
		yy := int(d[0]-'0')*10 + int(d[1]-'0')
		// The century is not written: the date must be real in one of the
		// centuries a living person's number can have (it matters for 29 February).
		years = []int{1800 + yy, 1900 + yy, 2000 + yy}
	}
	realDate := false
	for _, y := range years {
		if y >= 1 && (Date{Year: y, Month: time.Month(month), Day: day}).valid() {
			realDate = true
			break
		}
	}
	if !realDate {
		return fmt.Errorf("%w: not a real date", ErrInvalidPersonnummer)
	}
	if !luhnValid(d[len(d)-10:]) {
		return fmt.Errorf("%w: check digit does not match", ErrInvalidPersonnummer)
	}
	return nil
}

// luhnValid checks the Luhn digit of the 10 digits YYMMDDNNNC.
func luhnValid(d []byte) bool {
	sum := 0
	for i, c := range d {
		n := int(c - '0')
		if i%2 == 0 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}
