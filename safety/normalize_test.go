package safety

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"lower case", "Ik Wil DOOD", "ik wil dood"},
		{"curly apostrophe", "I can’t take this", "i can't take this"},
		{"all quotes", "“a” ‘b’ ‚c„ ´d`", `"a" 'b' 'c" 'd'`},
		{"accents", "Suïcidaal, beëindigen, café", "suicidaal, beeindigen, cafe"},
		{"compatibility forms", "ﬁne Ｆｕｌｌ", "fine full"},
		{"zero width", "zelf\u200bmoord", "zelfmoord"},
		{"soft hyphen and bom", "zelf\u00admoord\ufeff", "zelfmoord"},
		{"control characters", "ik\x07 wil\x00dood", "ik wildood"},
		{"whitespace", "  ik \t wil\n\n dood  ", "ik wil dood"},
		{"stretched Dutch double vowel", "doooood", "dood"},
		{"stretched single vowel", "nieeet", "niet"},
		{"stretched English", "I want to diiiie", "i want to die"},
		{"stretched unknown word keeps two", "cooool", "cool"},
		{"double vowel untouched", "leeg maar zelfmoord", "leeg maar zelfmoord"},
		{"three letters become known word", "heeeel leeeeg", "heel leeg"},
		{"leet", "ik wil d00d", "ik wil dood"},
		{"leet leaves numbers", "bel 113 of 0800-0113", "bel 113 of 0800-0113"},
		{"zelfmoort", "zelfmoort", "zelfmoord"},
		{"zelf moord", "Zelf moord", "zelfmoord"},
		{"zelfmoord gedachtes", "zelfmoord gedachtes", "zelfmoordgedachten"},
		{"suicde", "suicde", "suicide"},
		{"sewer slide", "sewer slide", "suicide"},
		{"kys", "kys", "kill yourself"},
		{"kms", "gonna kms", "going to kill myself"},
		{"unalive", "unalive myself", "kill myself"},
		{"wil nie meer", "ik wil nie meer", "ik wil niet meer"},
		{"clitic", "’k wil het niet", "ik wil het niet"},
		{"k alone", "k wl dood", "ik wil dood"},
		{"punctuation kept", "ik wil dood!!!", "ik wil dood!!!"},
		{"selfharm", "selfharm", "self-harm"},
		{"chat English", "idk, i cant", "i don't know, i can't"},
		{"spelled out", "i want to d i e", "i want to die"},
		{"spelled out Dutch", "ik wil d o o d", "ik wil dood"},
		{"two single letters stay", "a b test", "a b test"},
		{"emoji kept", "ik ga dood van het lachen 😂", "ik ga dood van het lachen 😂"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Normalize(tt.in)
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Normalize(got); again != got {
				t.Errorf("not idempotent: Normalize(%q) = %q", got, again)
			}
		})
	}
}

// TestNormalizeMapFixedPoints checks that every spelling the maps produce
// stays as it is, so Normalize is idempotent.
func TestNormalizeMapFixedPoints(t *testing.T) {
	for k, v := range wordMap {
		if got := Normalize(v); got != v {
			t.Errorf("wordMap[%q] = %q, which normalises to %q", k, v, got)
		}
	}
	for k, v := range phraseMap {
		if got := Normalize(v); got != v {
			t.Errorf("phraseMap[%q] = %q, which normalises to %q", k, v, got)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "Ik wil DOOOOD", "zelf\u200bmoord", "’k wil nie meer", "ﬁ Ｆ", "d00d 1k", "\xff\xfe", "a  b\t\nc", "İstanbul", "ǅ ß ẞ", "\u0301\u0301e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if !utf8.ValidString(got) && utf8.ValidString(s) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, got)
		}
		if strings.Contains(got, "  ") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Fatalf("Normalize(%q) = %q has stray spaces", s, got)
		}
		if strings.ContainsRune(got, 0) {
			t.Fatalf("Normalize(%q) = %q holds NUL, which the classifier reserves for masks", s, got)
		}
		if again := Normalize(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
