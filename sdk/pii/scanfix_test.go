package pii

import (
	"fmt"
	"testing"
)

// TestIPv6AndPhoneBoundaries: an IPv6 address is not read from the tail of an invalid one (after a ':'), a
// sentence-ending '.' does not cancel one, and a number before a street name is a house number, not a phone
// number. Each case failed before (presidio recogniser negatives and presidio-research addresses).
func TestIPv6AndPhoneBoundaries(t *testing.T) {
	s := New(All(), nil)
	cases := []struct {
		text string
		want []string
	}{
		{"12345:db8::1", nil},
		{"text2001:db8::1", nil},
		{"2001::db8::1", nil},
		{"2001::25de::cade", nil},
		{":::", nil},
		{`f"arn:aws:s3:::{bucket_name}"`, nil},
		{"ping 2001:db8::1.", []string{"IP_ADDRESS=2001:db8::1"}},
		{"the host is ::1 here", []string{"IP_ADDRESS=::1"}},
		{"v4 tail ::ffff:192.0.2.1 ok", []string{"IP_ADDRESS=::ffff:192.0.2.1"}},
		{"I'd like to call a taxi to 14 3684 Court Street\n Suite 710", nil},
		{"Our offices are located at 6556 106 Rue Ettatawer Apt. 409", nil},
		{"morningstar inc. office is at 58 2347 lauzon parkway", nil},
		{"call me at 14 3684 2211 tomorrow", []string{"PHONE=14 3684 2211"}},
		{"phone: 2657 1180, or visit 12 Baker Street", []string{"PHONE=2657 1180"}},
	}
	for _, c := range cases {
		var got []string
		for _, m := range s.ScanString(c.text, nil) {
			got = append(got, fmt.Sprintf("%s=%s", m.Name(), c.text[m.Start:m.End]))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%q:\n got %q\nwant %q", c.text, got, c.want)
		}
	}
}
