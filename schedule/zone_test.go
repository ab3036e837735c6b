package schedule

import (
	"errors"
	"testing"
	"time"
)

func TestLoadZone(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means an error
	}{
		{name: "canonical", in: "Europe/Amsterdam", want: "Europe/Amsterdam"},
		{name: "lower case", in: "europe/amsterdam", want: "Europe/Amsterdam"},
		{name: "upper case with space", in: " EUROPE/AMSTERDAM ", want: "Europe/Amsterdam"},
		{name: "city only", in: "amsterdam", want: "Europe/Amsterdam"},
		{name: "city with space", in: "new york", want: "America/New_York"},
		{name: "city with underscore", in: "New_York", want: "America/New_York"},
		{name: "curated full name any case", in: "PACIFIC/AUCKLAND", want: "Pacific/Auckland"},
		{name: "utc", in: "utc", want: "UTC"},
		{name: "other IANA name", in: "Asia/Tokyo", want: "Asia/Tokyo"},
		{name: "other IANA name lower case", in: "europe/zurich", want: "Europe/Zurich"},
		{name: "nested IANA name lower case", in: "america/argentina/buenos_aires", want: "America/Argentina/Buenos_Aires"},
		{name: "empty", in: "", want: ""},
		{name: "local", in: "Local", want: ""},
		{name: "unknown", in: "Mars/Olympus_Mons", want: ""},
		{name: "path escape", in: "../../etc/passwd", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := LoadZone(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrUnknownZone) {
					t.Fatalf("LoadZone(%q) = %v, %v; want ErrUnknownZone", tt.in, loc, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadZone(%q): %v", tt.in, err)
			}
			if loc.String() != tt.want {
				t.Fatalf("LoadZone(%q) = %s, want %s", tt.in, loc, tt.want)
			}
		})
	}
}

func TestZonesAllLoad(t *testing.T) {
	for _, z := range Zones() {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("curated zone %s: %v", z, err)
		}
	}
	zs := Zones()
	zs[0] = "changed"
	if Zones()[0] == "changed" {
		t.Fatal("Zones returns the package's own slice")
	}
}
