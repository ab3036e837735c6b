package prompts

import "testing"

func TestMask(t *testing.T) {
	tests := []struct {
		name string
		lang string
		in   string
		want string
	}{
		{name: "dutch mobile dashed", lang: "nl", in: "bel me op 06-12345678.", want: "bel me op [telefoonnummer]."},
		{name: "dutch mobile spaced pairs", lang: "nl", in: "06 12 34 56 78 is mijn nummer", want: "[telefoonnummer] is mijn nummer"},
		{name: "dutch mobile plain", lang: "nl", in: "nummer 0612345678", want: "nummer [telefoonnummer]"},
		{name: "plus31 mobile", lang: "nl", in: "app +31 6 1234 5678 maar", want: "app [telefoonnummer] maar"},
		{name: "plus31 with (0)", lang: "nl", in: "kantoor +31 (0)20 123 4567", want: "kantoor [telefoonnummer]"},
		{name: "0031 prefix", lang: "nl", in: "0031 6 12345678", want: "[telefoonnummer]"},
		{name: "0800 dashed", lang: "nl", in: "ik belde 0800-0113 gisteren", want: "ik belde [telefoonnummer] gisteren"},
		{name: "0800 spaced", lang: "nl", in: "0800 2000", want: "[telefoonnummer]"},
		{name: "area code with parentheses", lang: "nl", in: "(020) 123 45 67", want: "[telefoonnummer]"},
		{name: "landline dashed", lang: "nl", in: "010-1234567", want: "[telefoonnummer]"},
		{name: "international uk", lang: "en", in: "call +44 20 7946 0958 tonight", want: "call [phone number] tonight"},
		{name: "international dotted", lang: "en", in: "+32.470.12.34.56", want: "[phone number]"},
		{name: "international us", lang: "en", in: "+1 (555) 123-4567", want: "[phone number]"},
		{name: "email nl", lang: "nl", in: "mail sanne.de.vries+relatie@example.co.uk graag", want: "mail [e-mail] graag"},
		{name: "email en", lang: "en", in: "mail me: Sam_J@mail.example.com.", want: "mail me: [email]."},
		{name: "https url", lang: "nl", in: "zie https://example.com/a?b=c, echt", want: "zie [link], echt"},
		{name: "www url", lang: "en", in: "look at www.example.org.", want: "look at [link]."},
		{name: "bare domain with path", lang: "nl", in: "op 113.nl/chat las ik", want: "op [link] las ik"},
		{name: "url in parentheses", lang: "en", in: "(https://t.me/someone)", want: "([link])"},
		{name: "unknown language masks in dutch", lang: "de", in: "06-12345678", want: "[telefoonnummer]"},
		{name: "region tag", lang: "en-GB", in: "06-12345678", want: "[phone number]"},
		// Things that are not contact details stay as they are.
		{name: "intensity", lang: "nl", in: "van een 8 naar een 5, 10/10 erg", want: "van een 8 naar een 5, 10/10 erg"},
		{name: "year and time", lang: "nl", in: "sinds 2019, om 10.30 uur", want: "sinds 2019, om 10.30 uur"},
		{name: "date with leading zero", lang: "nl", in: "op 03-12-2024 ging het mis", want: "op 03-12-2024 ging het mis"},
		{name: "short number", lang: "nl", in: "ik heb 113 gebeld", want: "ik heb 113 gebeld"},
		{name: "sentence without space", lang: "en", in: "I was sad.Then angry.", want: "I was sad.Then angry."},
		{name: "abbreviation", lang: "nl", in: "o.a. mijn moeder, bijv. thuis", want: "o.a. mijn moeder, bijv. thuis"},
		{name: "at sign alone", lang: "en", in: "meet @ 5", want: "meet @ 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mask(tt.lang, tt.in); got != tt.want {
				t.Errorf("Mask(%q, %q) = %q, want %q", tt.lang, tt.in, got, tt.want)
			}
		})
	}
}

func FuzzMask(f *testing.F) {
	for _, s := range []string{"06-12345678", "mail a@b.nl", "https://x.nl", "+31 (0)6 1", "0800-0113."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Mask("nl", s)
		if twice := Mask("nl", once); twice != once {
			t.Errorf("Mask is not idempotent: %q -> %q -> %q", s, once, twice)
		}
	})
}
