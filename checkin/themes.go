package checkin

import (
	"time"
)

// Theme is one of the ten things to become aware of from exercise 3
// (noticing old patterns). The ids are the option ids of the theme step of
// dialogs/scripts/patterns.yaml.
type Theme struct {
	ID   string
	text map[string]string // a phrase that completes "Today's theme: ..."
}

// Text returns the theme in lang (Dutch when lang is not English).
func (th Theme) Text(lang string) string { return th.text[langOf(lang)] }

var themes = [...]Theme{
	{"safe_closeness", map[string]string{
		"nl": "je veilig of juist onveilig voelen als je nabijheid zoekt",
		"en": "feeling safe, or unsafe, when you seek closeness"}},
	{"fear_trigger", map[string]string{
		"nl": "het moment waarop je angst wordt geraakt",
		"en": "the moment your fear is set off"}},
	{"urge_withdraw", map[string]string{
		"nl": "de neiging om je terug te trekken, bijvoorbeeld als de ander iets van je vraagt",
		"en": "the urge to withdraw, for instance when the other asks something of you"}},
	{"longing_open_heart", map[string]string{
		"nl": "het verlangen om met een open hart ontvangen te worden",
		"en": "the longing to be received with an open heart"}},
	{"own_absence", map[string]string{
		"nl": "je eigen emotionele afwezigheid: er wel zijn, maar niet echt",
		"en": "your own emotional absence: being there, but not really"}},
	{"partner_absence", map[string]string{
		"nl": "de emotionele afwezigheid van je partner",
		"en": "your partner's emotional absence"}},
	{"adapting", map[string]string{
		"nl": "je te veel aanpassen aan de ander",
		"en": "adapting too much to the other"}},
	{"holding_back", map[string]string{
		"nl": "iets niet durven delen of vragen",
		"en": "holding back from sharing or asking something"}},
	{"giving_more", map[string]string{
		"nl": "meer geven dan je ontvangt",
		"en": "giving more than you receive"}},
	{"earning_love", map[string]string{
		"nl": "te hard je best doen om de liefde van de ander te verdienen",
		"en": "trying too hard to earn the other's love"}},
}

// Themes returns the ten themes in the order of exercise 3.
func Themes() []Theme { return append([]Theme(nil), themes[:]...) }

// ThemeFor returns the theme of a person's local day ("2006-01-02"). It moves
// on by one theme each day, so every person meets all ten in ten days, and
// people start at different places in the cycle. A day that does not parse
// gets the person's first theme.
func ThemeFor(personID int64, localDay string) Theme {
	var days int64
	if d, err := time.Parse(time.DateOnly, localDay); err == nil {
		days = d.Unix() / 86400
	}
	n := int64(len(themes))
	return themes[((days+personID)%n+n)%n]
}
