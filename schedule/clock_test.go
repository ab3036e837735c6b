package schedule

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseClock(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		hour, min int
		wantErr   string
	}{
		{name: "colon", in: "20:30", hour: 20, min: 30},
		{name: "dot", in: "20.30", hour: 20, min: 30},
		{name: "four digits", in: "2030", hour: 20, min: 30},
		{name: "three digits", in: "830", hour: 8, min: 30},
		{name: "one digit hour", in: "8:05", hour: 8, min: 5},
		{name: "leading zero", in: "08:05", hour: 8, min: 5},
		{name: "dutch u", in: "20u30", hour: 20, min: 30},
		{name: "dutch U upper case", in: "20U30", hour: 20, min: 30},
		{name: "h", in: "20h30", hour: 20, min: 30},
		{name: "hour only", in: "20", hour: 20},
		{name: "hour with u", in: "8u", hour: 8},
		{name: "hour with uur", in: "20 uur", hour: 20},
		{name: "colon with uur", in: "20:30 uur", hour: 20, min: 30},
		{name: "spaces", in: "  20 : 30 ", hour: 20, min: 30},
		{name: "midnight", in: "0:00", hour: 0, min: 0},
		{name: "last minute", in: "23:59", hour: 23, min: 59},
		{name: "pm", in: "8pm", hour: 20},
		{name: "pm with minutes", in: "8:30 PM", hour: 20, min: 30},
		{name: "am", in: "7.15am", hour: 7, min: 15},
		{name: "noon", in: "12pm", hour: 12},
		{name: "midnight am", in: "12 a.m.", hour: 0},
		{name: "empty", in: "  ", wantErr: "empty"},
		{name: "hour 24", in: "24:00", wantErr: "hour out of range 0-23"},
		{name: "minutes 60", in: "20:60", wantErr: "minutes out of range"},
		{name: "one minute digit", in: "20:5", wantErr: "two digits"},
		{name: "three minute digits", in: "20:300", wantErr: "two digits"},
		{name: "seconds", in: "20:30:00", wantErr: "two digits"},
		{name: "no hour", in: ":30", wantErr: "no hour"},
		{name: "five digits", in: "20300", wantErr: "not a time of day"},
		{name: "three hour digits", in: "200:30", wantErr: "more than two digits"},
		{name: "words", in: "vanavond", wantErr: "not a time of day"},
		{name: "negative", in: "-1:30", wantErr: "not a time of day"},
		{name: "13pm", in: "13pm", wantErr: "1-12"},
		{name: "0am", in: "0am", wantErr: "1-12"},
		{name: "too long", in: "twintig uur dertig graag", wantErr: "too long"},
		{name: "non-ASCII digits", in: "２０３０", wantErr: "not a time of day"},
		{name: "non-ASCII digits with colon", in: "２０:３０", wantErr: "two digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, m, err := ParseClock(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseClock(%q) = %d:%02d, %v; want error containing %q", tt.in, h, m, err, tt.wantErr)
				}
				if !errors.Is(err, ErrBadClock) {
					t.Fatalf("error %v does not match ErrBadClock", err)
				}
				if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
					t.Fatalf("error repeats the input: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClock(%q): %v", tt.in, err)
			}
			if h != tt.hour || m != tt.min {
				t.Fatalf("ParseClock(%q) = %d:%02d, want %d:%02d", tt.in, h, m, tt.hour, tt.min)
			}
		})
	}
}

func FuzzParseClock(f *testing.F) {
	for _, s := range []string{"20:30", "20.30", "2030", "8:05", "20u30", "20", "8pm", "12 a.m.", "20:30 uur", "", ":", "u", "99:99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, m, err := ParseClock(s)
		if err != nil {
			if !errors.Is(err, ErrBadClock) {
				t.Fatalf("error %v does not match ErrBadClock", err)
			}
			if h != 0 || m != 0 {
				t.Fatalf("error with a result %d:%d", h, m)
			}
			return
		}
		if h < 0 || h > 23 || m < 0 || m > 59 {
			t.Fatalf("ParseClock(%q) = %d:%d, out of range", s, h, m)
		}
		// The canonical form reads back to the same time.
		h2, m2, err := ParseClock(fmt.Sprintf("%02d:%02d", h, m))
		if err != nil || h2 != h || m2 != m {
			t.Fatalf("canonical form of %d:%02d reads back as %d:%02d, %v", h, m, h2, m2, err)
		}
	})
}
