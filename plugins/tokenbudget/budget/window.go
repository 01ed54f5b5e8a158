package budget

import (
	"strconv"
	"time"
)

// Period is the length of a fixed window. Windows are aligned to UTC: minutes and hours on the Unix
// epoch, days at 00:00 UTC, months on the first day of the calendar month.
type Period uint8

// The window periods a budget can use.
const (
	Minute Period = iota + 1
	Hour
	Day
	Month
)

// ParsePeriod maps "minute", "hour", "day", "month" to a Period.
func ParsePeriod(s string) (Period, bool) {
	switch s {
	case "minute":
		return Minute, true
	case "hour":
		return Hour, true
	case "day":
		return Day, true
	case "month":
		return Month, true
	}
	return 0, false
}

// String returns the config name of p.
func (p Period) String() string {
	switch p {
	case Minute:
		return "minute"
	case Hour:
		return "hour"
	case Day:
		return "day"
	case Month:
		return "month"
	case 0:
		return "none"
	}
	return "period(" + strconv.Itoa(int(p)) + ")"
}

// Window returns the id of the window that contains now (the number of whole periods since the epoch; for
// months, year*12+month-1) and the Unix time (seconds) at which that window ends.
func (p Period) Window(now time.Time) (id, end int64) {
	s := now.Unix()
	switch p {
	case Minute:
		id = floorDiv(s, 60)
		return id, (id + 1) * 60
	case Hour:
		id = floorDiv(s, 3600)
		return id, (id + 1) * 3600
	case Day:
		id = floorDiv(s, 86400)
		return id, (id + 1) * 86400
	case Month:
		u := now.UTC()
		id = int64(u.Year())*12 + int64(u.Month()) - 1
		next := time.Date(u.Year(), u.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		return id, next.Unix()
	}
	return 0, s
}

// Seconds is the nominal length of p (a month counts 31 days); it bounds the TTL of cluster keys.
func (p Period) Seconds() int64 {
	switch p {
	case Minute:
		return 60
	case Hour:
		return 3600
	case Day:
		return 86400
	case Month:
		return 31 * 86400
	}
	return 0
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// FormatReset formats a wait the way OpenAI's x-ratelimit-reset-tokens header does ("1s", "6m0s",
// "1h2m3s"), rounded up to whole seconds; zero or negative waits give "0s".
func FormatReset(seconds int64) string {
	if seconds <= 0 {
		return "0s"
	}
	return (time.Duration(seconds) * time.Second).String()
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
