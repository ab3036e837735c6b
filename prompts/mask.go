package prompts

import (
	"regexp"
	"strings"
)

// placeholders holds the words that replace masked contact details, per
// language. They are what the model sees, so they are in the person's
// language.
var placeholders = map[string][3]string{
	"nl": {"[e-mail]", "[telefoonnummer]", "[link]"},
	"en": {"[email]", "[phone number]", "[link]"},
}

var (
	emailRE = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	// urlRE matches links with a scheme or www., and bare domains under
	// common top-level domains ("113.nl", "example.com/path").
	urlRE = regexp.MustCompile(`(?i)\b(?:https?://|ftp://|www\.)[^\s<>"]+|\b(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:nl|be|com|org|net|eu|io|info|de|uk|fr|app|me|co|ai|gov|edu|online|site|link|ly)\b(?:/[^\s<>"]*)?`)
	// phoneCandRE finds runs of digits and the separators people type in
	// phone numbers; maskPhones then decides by shape and digit count.
	phoneCandRE = regexp.MustCompile(`(?:\+|\(\s*0|\b0)[0-9 \t().\-/]*[0-9]`)
	dateRE      = regexp.MustCompile(`^\d{1,2}[\-/.]\d{1,2}[\-/.]\d{2,4}$`)
)

// trailingPunct is what a sentence may put right after a link; it is kept
// outside the placeholder.
const trailingPunct = ".,;:!?)'\""

// Mask replaces e-mail addresses, phone numbers and links in s by
// placeholders in lang ("[e-mail]", "[telefoonnummer]", "[link]" in Dutch;
// "[email]", "[phone number]", "[link]" in English). An unknown lang masks
// with the Dutch words, Dutch being the default language.
//
// Phone numbers are recognised in Dutch forms (06-12345678, 06 12 34 56 78,
// +31 6 1234 5678, +31 (0)20 123 4567, 0031..., 0800-0113, 020-1234567) and
// international forms (+44 20 7946 0958, 0044 ...), spaced, dotted or dashed,
// when they have at least eight digits. Dates such as 03-12-2024 are left
// alone.
func Mask(lang, s string) string {
	ph, ok := placeholders[normLang(lang)]
	if !ok {
		ph = placeholders["nl"]
	}
	s = emailRE.ReplaceAllString(s, ph[0])
	s = urlRE.ReplaceAllStringFunc(s, func(m string) string {
		trimmed := strings.TrimRight(m, trailingPunct)
		return ph[2] + m[len(trimmed):]
	})
	return maskPhones(s, ph[1])
}

func maskPhones(s, placeholder string) string {
	return phoneCandRE.ReplaceAllStringFunc(s, func(m string) string {
		core := strings.TrimRight(m, " \t.-/(")
		digits := 0
		for _, r := range core {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 8 || dateRE.MatchString(core) {
			return m
		}
		return placeholder + m[len(core):]
	})
}

// normLang reduces "nl-NL", "NL" or "en_GB" to "nl" or "en".
func normLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}
