package llm

import (
	"regexp"
	"strings"
	"unicode"
)

// The vocabulary aims at labels and clinical terms, not at the feelings a
// reflection names: "bang", "somber", "angst", "verlatingsangst", "paniek",
// "depressief", "depressed", "overwhelmed", "trauma" and the like pass.
// Single words are looked up per word (fast); phrases run as regular
// expressions only when a word they need is present.
var (
	diagnosisWords = wordSet(`gediagnosticeerd borderline bipolar bipolair bipolaire adhd ptss ptsd
		ocd dsm autism autisme autistisch autistische autistic psychose psychoses psychosis psychotic
		psychotisch psychotische getraumatiseerd traumatized traumatised symptoom symptomen symptom
		symptoms disorder disorders depressive`)
	diagnosisPrefixes = []string{"diagnos", "schizo", "narcis", "patholog"}
	diagnosisSuffixes = []string{"stoornis", "stoornissen"}

	medicationWords = wordSet(`medicijn medicijnen medicatie medicaties medication medications
		medicine medicines medicated geneesmiddel geneesmiddelen antidepressiva psychofarmaca pil
		pillen slaappil slaappillen pill pills tablet tabletten tablets dosis dose doses dosage
		dosering doseringen voorgeschreven ssri ssris snri snris lithium prozac xanax ritalin
		methylfenidaat methylphenidate citalopram escitalopram oxazepam diazepam lorazepam
		temazepam seroquel kalmeringsmiddel kalmeringsmiddelen sedative sedatives tranquilizer
		tranquilizers tranquiliser tranquilisers`)
	medicationPrefixes = []string{"antidepressant", "prescri", "voorschrijv", "benzodiazepi", "sertralin", "paroxetin", "fluoxetin", "quetiapin"}

	// Depression as a condition, not as a mood.
	depressionPhrases = phrases{
		needles: []string{"depressi"},
		re:      regexp.MustCompile(`\b(?:(?:een|je|jouw|aan|met|klinische|zware|chronische|postnatale)\s+depressie|depressie\s+(?:hebt|heeft|hebben)|depressieve\s+(?:episode|stoornis|klachten)|manisch[\s-]+depressief|manic[\s-]+depressi\w*|(?:have|has|having|had|with|from|clinical|major|chronic|postnatal|postpartum)\s+(?:a\s+)?depression|clinically\s+depressed)\b`),
	}
)

// vocabulary returns RuleDiagnosis or RuleMedication when norm uses such
// vocabulary, or "".
func vocabulary(norm string) string {
	rule := ""
	eachWord(norm, func(w string) bool {
		switch {
		case diagnosisWords[w] || hasAffix(w, diagnosisPrefixes, strings.HasPrefix) || hasAffix(w, diagnosisSuffixes, strings.HasSuffix):
			rule = RuleDiagnosis
		case medicationWords[w] || hasAffix(w, medicationPrefixes, strings.HasPrefix):
			rule = RuleMedication
		}
		return rule == ""
	})
	if rule == "" && depressionPhrases.match(norm) {
		rule = RuleDiagnosis
	}
	return rule
}

func hasAffix(w string, affixes []string, has func(string, string) bool) bool {
	for _, a := range affixes {
		if has(w, a) {
			return true
		}
	}
	return false
}

// eachWord calls f with every word of s (letters and digits, with inner
// apostrophes as in "it's") until f returns false.
func eachWord(s string, f func(string) bool) {
	start := -1
	for i, r := range s {
		in := unicode.IsLetter(r) || unicode.IsDigit(r) || (r == '\'' && start >= 0)
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			if !f(strings.TrimRight(s[start:i], "'")) {
				return
			}
			start = -1
		}
	}
	if start >= 0 {
		f(strings.TrimRight(s[start:], "'"))
	}
}

// phrases is a regular expression that only runs when s contains one of
// its needles, each a substring every match contains.
type phrases struct {
	needles []string
	re      *regexp.Regexp
}

func (p phrases) present(s string) bool {
	for _, n := range p.needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

func (p phrases) match(s string) bool { return p.present(s) && p.re.MatchString(s) }

type phraseList []phrases

func (l phraseList) match(s string) bool {
	for _, p := range l {
		if p.match(s) {
			return true
		}
	}
	return false
}

// humanClaims are ways a reply could claim to be a person, to be a
// therapist, or to have lived through something.
var humanClaims = phraseList{
	{needles: []string{"ik ben"}, re: regexp.MustCompile(`\bik\s+ben\s+(?:(?:(?:ook|maar|gewoon|zelf|echt|wel)\s+)*(?:een\s+)?(?:mens|persoon|echt\s+persoon)|geen\s+(?:bot|robot|computer|ai|chatbot|programma|machine)|(?:je|jouw|een)\s+(?:therapeut|psycholoog|hulpverlener|coach))\b`)},
	{needles: []string{"als mens"}, re: regexp.MustCompile(`\b(?:(?:ik|mij|me)\s+als\s+mens|als\s+mens\s+(?:zijnde\s+)?(?:weet|ken|begrijp|voel|snap)\s+ik)\b`)},
	{needles: []string{"meegemaakt", "gevoeld", "doorgemaakt"}, re: regexp.MustCompile(`\bik\s+(?:heb|had)\s+(?:dit|dat|het|zoiets|hetzelfde)\s+(?:zelf\s+)?(?:ook\s+)?(?:meegemaakt|gevoeld|doorgemaakt)\b`)},
	{needles: []string{"ik weet"}, re: regexp.MustCompile(`\bik\s+weet\s+(?:uit\s+(?:eigen\s+)?ervaring|zelf\s+hoe)\b`)},
	{needles: []string{"mijn eigen", "my own"}, re: regexp.MustCompile(`\bin\s+(?:mijn\s+eigen\s+(?:leven|relatie|relaties|jeugd)|my\s+own\s+(?:life|relationships?|childhood))\b`)},
	{needles: []string{"toen ik", "when i"}, re: regexp.MustCompile(`\b(?:toen\s+ik\s+(?:zelf\s+)?(?:klein|kind|jong|jonger)\s+was|when\s+i\s+was\s+(?:a\s+(?:child|kid)|little|young|younger))\b`)},
	{needles: []string{"als je ", "als jouw "}, re: regexp.MustCompile(`\bals\s+(?:je|jouw)\s+(?:therapeut|psycholoog|hulpverlener|coach)\b`)},
	{needles: []string{"i'm", "i am"}, re: regexp.MustCompile(`\bi(?:'m|\s+am)\s+(?:(?:(?:also|just|only|really|still)\s+)*(?:a\s+)?(?:real\s+)?(?:human|person)|not\s+(?:a\s+|an\s+)?(?:bot|robot|ai|machine|computer|program|chatbot)|(?:your|a)\s+(?:therapist|psychologist|counsell?or|coach))\b`)},
	{needles: []string{"myself", "speaking as", "fellow human", "as your"}, re: regexp.MustCompile(`\b(?:as\s+a\s+(?:person|human|human\s+being)\s+myself|speaking\s+as\s+a\s+(?:person|human|therapist|counsell?or|coach)|as\s+a\s+fellow\s+human|as\s+your\s+(?:therapist|psychologist|counsell?or|coach))\b`)},
	{needles: []string{"i've", "i have", "i know"}, re: regexp.MustCompile(`\bi(?:(?:'ve|\s+have)\s+(?:been\s+there|felt\s+(?:this|that|the\s+same)|gone\s+through\s+(?:this|that|the\s+same)|experienced\s+(?:this|that|the\s+same))|\s+know\s+from\s+(?:my\s+own\s+)?experience)\b`)},
}
