package llm

import "strings"

// Function words of each language. Words both languages use ("in", "is",
// "was", "of", "over", "had", "me", "we", "want", "even", "let", "been",
// "kind", "men") are in neither list, so they count for no side.
var (
	dutchWords = wordSet(`de het een en je jij jou jouw jezelf ik niet dat wat van op te met voor
		zijn er maar om ook als dan nog bij naar kan wel zo hoe mag nu die dit deze wordt worden
		hebt heb heeft bent ben voelt voel zich zelf niets iets veel geen waar wanneer omdat terwijl
		hier daar toen dus al mee aan uit door tegen onder tussen zou zal moet wil wilt kunt kunnen
		mogen lijkt misschien echt helemaal soms altijd nooit ander andere hij zij ze mijn ons onze
		hun wie welke waarom gevoel gevoelens heel erg eigen elkaar alleen samen weer eens daarin
		daarbij erin ermee hebben gaat gaan komt doet doen zegt blijft lijken jullie u nou zoals
		hoewel zonder binnen buiten dichtbij`)
	englishWords = wordSet(`the a an and you your yours yourself i it its it's that that's what not
		to with for are be but this these those there can how so just when where because while here
		then about from by into would will should must could might seems seem maybe really always
		never other they them their he she his her him my feel feels something nothing do does don't
		doesn't at on if or like much very some any which who were has being too also only still than
		our us can't isn't you're you've i'm what's there's yet own each both such themselves through
		without inside close right now`)
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// minWordsForLanguage is the shortest reply the language check judges; a
// few words are too few to tell.
const minWordsForLanguage = 4

// languageOK reports whether lower-cased text looks like lang: it must have
// more function words of lang than of the other language, and when it is
// longer than a sentence, at least one word in five of lang's. Languages
// other than nl and en are not checked.
func languageOK(norm, lang string) bool {
	var target, other map[string]bool
	switch normLang(lang) {
	case "nl":
		target, other = dutchWords, englishWords
	case "en":
		target, other = englishWords, dutchWords
	default:
		return true
	}
	words, n, o := 0, 0, 0
	eachWord(norm, func(w string) bool {
		words++
		switch {
		case target[w]:
			n++
		case other[w]:
			o++
		}
		return true
	})
	if words < minWordsForLanguage {
		return true
	}
	if o > n {
		return false
	}
	return words < 8 || n*5 >= words
}

// normLang reduces "nl-NL", "NL" or "en_GB" to "nl" or "en".
func normLang(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}
