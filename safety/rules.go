package safety

import (
	"fmt"
	"strings"
)

// ruleSpec is one named rule. Patterns are RE2 regular expressions over
// normalised text (see Normalize), written with \b word boundaries and with
// {name} markers from templates; gaps never cross . ! or ?, so a rule stays
// inside one sentence.
type ruleSpec struct {
	name     string
	level    Level
	category string
	pattern  string
	// unless, when set, stops the rule for a match whose sentence also
	// matches it (used for childhood memories: "my dad used to hit me").
	unless string
}

// maskSpec names a span that is blanked out before the rules run: figures
// of speech, accidents, idioms and clear negations.
type maskSpec struct {
	name    string
	pattern string
}

// templates are the shared fragments rules refer to as {name}. A template
// may use other templates.
var templates = map[string]string{
	// One word, and a gap of up to three words, inside one sentence.
	"w": `[^\s.!?;\x00]+`,
	// Clause end: end of text, or punctuation or an emoji next.
	"end": `\s*(?:[^\p{L}\p{N}\s\x00]|$)`,
	// Dutch fillers that may sit between a verb and its object ("ik wil
	// gewoon echt dood"). Never niet, nooit or geen.
	"adv": `(?:(?:echt|gewoon|gewoonweg|zo|graag|liever|het liefst|liefst|eigenlijk|soms|nu|alleen|maar|dan|ook|wel|toch|even|heel|erg|nog|al|bijna|vaak|steeds|weer|opnieuw|morgen|vandaag|vanavond|vannacht|ooit|stiekem|serieus|oprecht|misschien|dus|nou|helemaal|zelf|allemaal|best|eens|heus|werkelijk|letterlijk|zeker|expres|bewust|gwn|echt waar)\s+){0,4}`,
	// English fillers, likewise never not or never.
	"aen":    `(?:(?:just|really|honestly|seriously|actually|sometimes|kinda|kind of|sort of|so|truly|literally|genuinely|all|only|simply|still|often|always|now|fucking|fking|fcking|freaking|badly|very|too|also|even|maybe|almost|already|constantly|tonight|today|lowkey|definitely|probably|like|legit|sincerely|deeply|desperately|somehow|secretly|quietly|again|finally|basically|completely|totally|utterly|absolutely|extremely|super|pretty|quite|rather|genuinely)\s+){0,4}`,
	"zelf":   `(?:mezelf|mijzelf)`,
	"me":     `(?:me|mij)`,
	"cant":   `(?:can't|cannot|can not|cant)`,
	"famnl":  `(?:man|vrouw|vriend|vriendin|partner|ex|ex-partner|echtgenoot|echtgenote|verloofde|vent|vader|moeder|pa|ma|papa|mama|stiefvader|stiefmoeder|broer|zus|zoon|dochter|schoonvader|schoonmoeder|oom|tante|opa|oma|huisgenoot)`,
	"partnl": `(?:man|vrouw|vriend|vriendin|partner|ex|ex-partner|echtgenoot|echtgenote|verloofde|vent)`,
	"hij":    `(?:hij|ze|zij|mijn {famnl})`,
	"famen":  `(?:partner|husband|wife|boyfriend|girlfriend|bf|gf|ex|fiance|fiancee|dad|father|mum|mom|mother|stepdad|stepfather|stepmum|stepmom|stepmother|brother|sister|son|daughter|uncle|aunt|grandfather|grandpa|roommate|flatmate)`,
	"parten": `(?:partner|husband|wife|boyfriend|girlfriend|bf|gf|ex|fiance|fiancee)`,
	"he":     `(?:he|she|they|my {famen}|hij|ze|zij|mijn {famnl})`,
	"pills":  `(?:pillen|medicijnen|tabletten|slaappillen|medicatie|paracetamol|oxazepam|antidepressiva|pills|meds|medication|medicine|tablets|sleeping pills|painkillers|tylenol|paracetamols)`,
	// Childhood and long-ago markers: violence then is not danger now.
	"child": `\b(?:vroeger|als kind|als klein (?:meisje|jongetje|kind)|als tiener|toen ik (?:klein|jong|kind|een kind|tiener|nog thuis woonde|\d+)|in mijn jeugd|jaren geleden|used to|as a (?:kid|child|little girl|little boy|teenager|teen)|when i was (?:little|young|small|a kid|a child|a teenager|a teen|\d+)|growing up|in my childhood|years ago|back then)\b`,
}

// expandTemplate replaces every {name} in p by its template, recursively.
// A brace followed by a digit is a regexp repetition and is left alone.
func expandTemplate(p string) (string, error) {
	for depth := 0; strings.Contains(p, "{"); depth++ {
		if depth > 8 {
			return "", fmt.Errorf("templates nest too deep in %q", p)
		}
		var b strings.Builder
		changed := false
		for i := 0; i < len(p); i++ {
			if p[i] == '{' && i+1 < len(p) && p[i+1] >= 'a' && p[i+1] <= 'z' {
				j := strings.IndexByte(p[i:], '}')
				if j < 0 {
					return "", fmt.Errorf("unclosed template in %q", p)
				}
				name := p[i+1 : i+j]
				t, ok := templates[name]
				if !ok {
					return "", fmt.Errorf("unknown template {%s}", name)
				}
				b.WriteString(t)
				i += j
				changed = true
				continue
			}
			b.WriteByte(p[i])
		}
		p = b.String()
		if !changed {
			break
		}
	}
	return p, nil
}

// Negations. A message that only denies ("ik heb nooit aan zelfmoord
// gedacht", "I'm not suicidal", "I would never hurt myself") does not raise
// an alarm: the denied phrase is masked, and anything else in the message
// is still checked ("I'm not suicidal but I can't take this anymore" is
// Elevated). Only narrow, adjacent denials are masked; wording such as "I
// don't want to kill myself" or "ik wil niet dood" still counts as a
// signal, because ambivalent statements are common in real crises and a
// missed acute message costs more than a false alarm. The labelled set
// holds examples of both.
var maskSpecs = []maskSpec{
	// Figures of speech.
	{"figure.dood_van", `\bdood van (?:het |de |mijn |m'n )?(?:lachen|honger|dorst|verveling|schaamte|zenuwen|kou|hitte|warmte|nieuwsgierigheid|spanning|stress|schrik|moeheid|vermoeidheid|slaap|jaloezie|heimwee)\b`},
	{"figure.lachen", `\b(?:kapot|stuk|dood|krom|slap|plat) (?:van het |van )?(?:lachen|gelachen)\b`},
	{"figure.die_of", `\b(?:die|dying|died|dead) (?:of|from|with) (?:embarrassment|shame|boredom|laughter|laughing|cringe|curiosity|happiness|excitement|jealousy|heat|cold|hunger|thirst)\b`},
	{"figure.dying_to", `\bdying to (?:know|see|try|meet|go|hear|tell|get|eat|read|watch|have)\b`},
	{"figure.killing_myself_at", `\bkilling myself (?:trying|to|for|at work|at the gym|working|studying|laughing|with work)\b`},
	{"figure.could_kill_myself_for", `\bcould (?:just )?(?:kill|hit|slap) myself(?: for\b)?`},
	{"figure.killed_myself_laughing", `\bkill(?:ed|ing)? myself (?:laughing|with laughter)\b`},
	{"figure.die_alone", `\b(?:die|dying|sterven|doodgaan) (?:alone|alleen|single|without (?:love|anyone)|zonder (?:liefde|iemand))\b`},
	{"figure.doodgraag", `\bdood ?graag\b`},
	{"figure.so_sad_i_wanted_to_die", `\b(?:movie|film|show|episode|book|song|game|match|exam|test|meeting|party|date|joke|meme|video|serie|boek|examen|toets|vergadering|feest|grap|filmpje|wedstrijd)\b[^.!?\x00]{0,30}\b(?:wanted to die|want to die|could die|dood wilde|wilde ik dood|wou ik dood|dood wou)\b`},
	{"figure.shoot_foot", `\bshoot(?:ing)? myself in the foot\b`},
	{"figure.drown_in", `\bdrown(?:ing)? myself in (?:work|coffee|tea|chocolate|books|music|netflix|tv|series|ice cream|projects|tasks|distractions|studies|study|homework)\b`},
	{"figure.mezelf_slaan", `\b(?:kan|kon) (?:{zelf}|me) (?:wel )?(?:slaan|schoppen|voor (?:mijn|m'n|de) (?:kop|hoofd) slaan)\b`},
	{"figure.erdoorheen", `\b(?:{zelf}|me) (?:er ?doorheen|erdoor|door deze (?:dag|week|tijd)) (?:slaan|sla|sloeg|geslagen)\b`},
	{"figure.voor_de_kop", `\b(?:sla|sloeg|slaan|geslagen) (?:{zelf}|me) (?:nog |wel )?voor (?:mijn|m'n|de) (?:kop|hoofd|kanis|harses)\b`},
	{"figure.hurt_myself_by", `\b(?:hurt|hurting|hurts) myself by (?:checking|waiting|thinking|staying|looking|reading|texting|hoping|going back|comparing|overthinking|scrolling|stalking)\b`},
	{"figure.pijn_door", `\bpijn (?:doe |doen |deed |gedaan )?door (?:steeds|altijd|telkens|hem|haar|naar|zijn|bij|te (?:denken|blijven|wachten|kijken|appen|piekeren|hopen|vergelijken|checken|scrollen))\b`},
	// Idioms around violence words.
	{"idiom.slaat_over", `\b(?:slaat|sloeg) {me} (?:ook |steeds |altijd )?over\b`},
	{"idiom.duwt_weg", `\b(?:duwt|duwde|duwen) {me} (?:weg|af|van zich af)\b`},
	{"idiom.hit_up", `\bhit(?:s|ting)? me up\b`},
	{"idiom.push_away", `\bpush(?:ed|es|ing)? me (?:away|to|into|out of|aside|harder|forward)\b`},
	{"idiom.beat_at", `\bbeat(?:s)? me (?:at|in|to)\b`},
	{"idiom.grabbed_me_a", `\bgrab(?:bed|s)? me (?:a|an|some|lunch|coffee|food|dinner|a drink)\b`},
	{"idiom.zitten_om", `\bniet (?:meer )?zitten (?:om|dat|met)\b`},
	{"idiom.wakker_van", `\bwakker van (?:de|het|mijn|m'n|een) (?:wekker|geluid|lawaai|baby|kind|kinderen|hond|kat|buren|telefoon)\b`},
	{"idiom.leven_zonder", `\b(?:leven|bestaan|wonen) (?:zonder|met|naast|samen met|bij) (?:hem|haar|jou|hen|hun|mijn (?:{partnl}|ouders|familie|moeder|vader|schoonfamilie))\b`},
	{"idiom.live_without", `\b(?:live|living) (?:without|with|together with|near) (?:him|her|you|them|my {famen}|my parents)\b`},
	// Accidents.
	{"accident.by_accident", `\b(?:cut|cutting|burned|burnt|hurt|sneed|gesneden|snij|verbrand|verbrandde|brandde|pijn gedaan|bezeerd)\b[^.!?\x00]{0,40}\b(?:per ongeluk|by accident|accidentally)\b`},
	{"accident.by_accident_before", `\b(?:per ongeluk|by accident|accidentally)\b[^.!?\x00]{0,40}\b(?:cut|burned|burnt|hurt|sneed|gesneden|snij|verbrand|verbrandde|brandde|pijn gedaan|bezeerd)\b`},
	{"accident.context", `\b(?:cut|cutting|burned|burnt|burn|hurt|sneed|gesneden|verbrand|verbrandde|brandde|pijn gedaan|bezeerd)\b[^.!?\x00]{0,40}\b(?:koken|scheren|keuken|groente|uien|oven|pan|strijkijzer|papier|blikje|tuin|tuinieren|klussen|sporten|sport|voetbal|fitness|hardlopen|cooking|shaving|kitchen|chopping|onions|stove|iron|paper|tin can|garden|gardening|gym|football|soccer|running|hiking|skiing|workout|diy)\b`},
	{"accident.context_before", `\b(?:bij|tijdens) (?:het )?(?:koken|scheren|sporten|voetbal|fitness|tuinieren|klussen|hardlopen)\b[^.!?\x00]{0,30}\b(?:gesneden|verbrand|pijn gedaan|bezeerd)\b`},
	// Clear negations (see the comment above).
	{"neg.not_suicidal", `\b(?:niet|not|no longer|niet langer|niet meer)\b (?:really |echt |at all |meer |zo )?suicid(?:aal|ale|al)\b`},
	{"neg.never_been_suicidal", `\b(?:nooit suicidaal geweest|never been suicidal)\b`},
	{"neg.no_thoughts_nl", `\bgeen (?:zelfmoordgedachten|zelfmoordplannen|suicidale (?:gedachten|gevoelens|neigingen)|gedachten (?:aan|over) (?:zelfmoord|de dood|doodgaan))\b`},
	{"neg.no_thoughts_en", `\bno (?:suicidal (?:thoughts|feelings|plans|ideation)|thoughts (?:of|about) (?:suicide|killing myself|self-harm|dying))\b`},
	{"neg.nooit_aan_zelfmoord", `\b(?:nooit|niet|nog nooit) (?:meer )?(?:aan|over) (?:zelfmoord|zelfdoding) (?:gedacht|nagedacht|denk|gedachten)\b`},
	{"neg.denk_niet_aan", `\b(?:denk|dacht|denken) (?:{w} )?(?:niet|nooit|nooit meer|niet meer) (?:aan|over) (?:zelfmoord|zelfdoding|doodgaan|sterven|de dood)\b`},
	{"neg.never_thought_en", `\b(?:never|not|don't|do not|haven't|have not|no longer|didn't)\b (?:{w} ){0,2}(?:thought|think|thinking|considered|consider|considering) (?:about |of )?(?:suicide|killing myself|ending my life|taking my (?:own )?life)\b`},
	{"neg.would_never_en", `\b(?:never|not going to|not gonna|won't|will not|wouldn't|would not)\b (?:{w} )?(?:kill|hurt|harm|cut) myself\b`},
	{"neg.dont_self_harm", `\b(?:don't|do not|never) self-harm\b`},
}

// ruleSpecs is the rule set. Order inside a level and category is the order
// of evaluation; Classify returns the first match of the most urgent level.
var ruleSpecs = []ruleSpec{
	// ---- Suicide, Dutch ----
	{"suicide.nl.wil_dood", Acute, CategorySuicide, `\b(?:wil|wilde|wou|willen|zou willen|wil ik|wou ik|want to|wanna)\s+{adv}(?:dood|doodgaan|dood gaan|sterven|overlijden|zelfmoord|zelfdoding)\b`, ""},
	{"suicide.nl.was_ik_maar_dood", Acute, CategorySuicide, `\b(?:was|ware) ik (?:{adv})?(?:maar|liever) (?:{adv})?(?:dood|nooit geboren|er niet meer|er niet|overleden)\b`, ""},
	{"suicide.nl.wou_dat_ik_dood", Acute, CategorySuicide, `\b(?:wou|wilde|wens|hoop|zou willen|hoopte|bid)\b[^.!?\x00]{0,20}\bdat ik\b[^.!?\x00]{0,20}\b(?:dood (?:was|ging|ga|zou|ben)|doodga|doodging|dood ga|er niet meer (?:was|ben|zou)|nooit geboren|niet meer (?:besta|bestond|leef|leefde|wakker)|niet wakker|zou sterven|sterf|stierf)`, ""},
	{"suicide.nl.liever_dood", Acute, CategorySuicide, `\bliever dood\b`, ""},
	{"suicide.nl.niet_meer_leven", Acute, CategorySuicide, `\bniet (?:meer|langer) (?:(?:willen|wil|hoeven|te|verder) )?(?:leven|doorleven|bestaan|verder leven)\b`, ""},
	{"suicide.nl.wil_niet_meer", Acute, CategorySuicide, `\bwil {adv}niet (?:meer|langer)(?: (?:verder|door|leven|bestaan|hier zijn|op deze wereld zijn))?{end}`, ""},
	{"suicide.nl.er_niet_meer_zijn", Acute, CategorySuicide, `\b(?:wil|wou|zou willen|hoef)\s+{adv}er\s+{adv}niet (?:meer|langer) (?:zijn|wezen){end}`, ""},
	{"suicide.nl.niet_meer_wakker", Acute, CategorySuicide, `\b(?:nooit|niet) meer (?:wakker|ontwaken|te ontwaken)\b`, ""},
	{"suicide.nl.hoop_niet_wakker", Acute, CategorySuicide, `\b(?:hoop|wil|wou|wens|zou willen|bid)\b[^.!?\x00]{0,30}\bniet (?:meer )?wakker (?:word|worden|wordt|te worden)\b`, ""},
	{"suicide.nl.slapen_voorgoed", Acute, CategorySuicide, `\b(?:voorgoed|voor altijd|eeuwig) (?:verdwijnen|slapen|gaan slapen|in slaap)\b`, ""},
	{"suicide.nl.beter_af_zonder_mij", Acute, CategorySuicide, `\bbeter (?:af )?(?:is |zijn |zou zijn |zouden zijn |zijn ze |is hij |is ze |was |waren )?zonder (?:mij|me)\b`, ""},
	{"suicide.nl.beter_als_ik_er_niet_ben", Acute, CategorySuicide, `\b(?:beter|fijner|makkelijker|gelukkiger|rustiger|opgeluchter)\b[^.!?\x00]{0,25}\b(?:als|wanneer|zonder dat) ik (?:er )?(?:niet meer|niet|nooit meer) (?:ben|was|besta|leef|zou zijn)\b`, ""},
	{"suicide.nl.niemand_zou_me_missen", Acute, CategorySuicide, `\bniemand (?:zou|zal|gaat) {me} {adv}missen\b`, ""},
	{"suicide.nl.niemand_merkt_als_ik_weg", Acute, CategorySuicide, `\bniemand\b[^.!?\x00]{0,25}\b(?:merken|missen|opvallen|merkt|mist)\b[^.!?\x00]{0,15}\bals ik (?:er )?(?:niet meer|dood|weg)\b`, ""},
	{"suicide.nl.geen_zin_in_leven", Acute, CategorySuicide, `\bgeen (?:zin|reden|nut) (?:meer )?(?:in (?:het|mijn) leven|om (?:nog )?(?:te leven|verder te (?:leven|gaan)|door te (?:gaan|leven)|te bestaan))\b`, ""},
	{"suicide.nl.leven_zinloos", Acute, CategorySuicide, `\b(?:het|mijn) leven (?:heeft|is) (?:voor {me} )?{adv}(?:geen zin|zinloos|niks waard|niets waard|geen nut)\b`, ""},
	{"suicide.nl.waarom_nog_leven", Acute, CategorySuicide, `\b(?:waarom|waarvoor) (?:zou ik|moet ik) {adv}(?:leven|verder leven|doorleven|blijven leven|bestaan)\b`, ""},
	{"suicide.nl.zin_van_leven", Acute, CategorySuicide, `\bwat (?:heeft|is) (?:het|mijn|dit) (?:leven|bestaan) (?:nog )?(?:voor )?(?:zin|nut)\b`, ""},
	{"suicide.nl.niets_om_voor_te_leven", Acute, CategorySuicide, `\b(?:niets|niks) (?:meer )?om (?:nog )?voor te leven\b`, ""},
	{"suicide.nl.klaar_met_leven", Acute, CategorySuicide, `\b(?:klaar met (?:het |mijn )?(?:leven|bestaan)|levensmoe|moe van het leven|het leven (?:moe|zat))\b`, ""},
	{"suicide.nl.er_een_eind_aan_maken", Acute, CategorySuicide, `\ber {adv}(?:een )?(?:eind|einde) aan (?:{w} ){0,2}(?:maken|maak|maakt|gemaakt)\b`, ""},
	{"suicide.nl.eind_aan_leven", Acute, CategorySuicide, `\b(?:eind|einde) (?:maken |te maken )?aan (?:mijn|m'n|het|dit|alles|het hele) ?(?:leven|bestaan)?\b`, ""},
	{"suicide.nl.aan_alles_een_eind", Acute, CategorySuicide, `\baan (?:alles|mijn leven|het allemaal) (?:een )?(?:eind|einde) (?:{w} )?(?:maken|maak)\b`, ""},
	{"suicide.nl.leven_beeindigen", Acute, CategorySuicide, `\b(?:mijn|m'n) (?:eigen )?leven (?:{adv})?(?:beeindigen|nemen|te beeindigen|te nemen|beeindig)\b`, ""},
	{"suicide.nl.zelfmoord_plegen", Acute, CategorySuicide, `\b(?:zelfmoord|zelfdoding) (?:{w} ){0,3}(?:te )?(?:plegen|pleeg|doen|plannen|overwegen|overweeg)\b`, ""},
	{"suicide.nl.pleeg_zelfmoord", Acute, CategorySuicide, `\b(?:pleeg|plegen|ga|gaan|zal)\s+{adv}(?:zelfmoord|zelfdoding)\b`, ""},
	{"suicide.nl.denk_aan_zelfmoord", Acute, CategorySuicide, `\b(?:denk|denken|dacht|gedacht|nadenken|na te denken|overweeg|overwegen|overwoog|fantaseer|fantaseren|pieker|piekeren|obsessie|gedachten|bezig)\b[^.!?\x00]{0,25}\b(?:aan|over|met) (?:zelfmoord|zelfdoding|suicide|doodgaan|dood gaan|sterven|er een (?:eind|einde) aan (?:te )?maken|{zelf} (?:van kant|dood|te doden|iets aan te doen|op te hangen))\b`, ""},
	{"suicide.nl.zelfmoordgedachten", Acute, CategorySuicide, `\b(?:zelfmoord ?(?:gedachten|gedachtes|gedachte|plannen|plan)|doodsgedachten|doodswens)\b`, ""},
	{"suicide.nl.zelfmoordpoging", Acute, CategorySuicide, `\b(?:ik|me)\b[^.!?\x00]{0,25}\bzelfmoordpoging|\bmijn (?:eerste |tweede |derde |laatste |vorige )?zelfmoordpoging`, ""},
	{"suicide.nl.suicidaal", Acute, CategorySuicide, `\b(?:ik|i'm|i am|i|me)\b (?:{w} ){0,3}suicid(?:aal|ale|al)\b`, ""},
	{"suicide.nl.suicidale_gedachten", Acute, CategorySuicide, `\bsuicid(?:ale|al) (?:gedachten|gevoelens|neigingen|plannen|thoughts|feelings|ideation|urges|plans)\b`, ""},
	{"suicide.nl.mezelf_doden", Acute, CategorySuicide, `\b{zelf} (?:{adv})?(?:van kant (?:te )?maken|van kant maak|dood (?:te )?maken|doodmaken|(?:te )?doden|dood|ombrengen|om te brengen|om het leven (?:te )?brengen|van het leven (?:te )?(?:beroven|beroof)|op (?:te )?hangen|ophangen|iets (?:aan (?:te )?doen|aandoen|aandoe|aan doe))\b`, ""},
	{"suicide.nl.ik_me_iets_aandoen", Acute, CategorySuicide, `\bik\b[^.!?\x00]{0,25}\b{me} (?:van kant|ophangen|op te hangen|iets (?:aan (?:te )?doen|aandoen|aandoe)|dood (?:te )?maken)\b`, `\b(?:hij|ze|zij|jij|je|iemand|mijn {famnl})\b (?:{w} )?{me} (?:van kant|iets|dood)`},
	{"suicide.nl.zichzelf_iets_aandoen", Acute, CategorySuicide, `\bzichzelf (?:iets )?(?:aandoet|aan doet|aandoen|van kant (?:maakt|maken|te maken)|doodt|doden|te doden|ophangt|ophangen|om het leven (?:brengt|brengen))\b`, ""},
	{"suicide.nl.springen", Acute, CategorySuicide, `\b(?:spring|springen|te springen|gooi|gooien|werp|werpen|stap|stappen)\b[^.!?\x00]{0,30}\b(?:voor (?:de|een) (?:trein|metro|tram|auto|vrachtwagen|bus)|van (?:de|een|het) (?:brug|dak|flat|balkon|toren|gebouw|rots|klif)|van (?:driehoog|vierhoog|hoog))\b`, ""},
	{"suicide.nl.op_de_brug_springen", Acute, CategorySuicide, `\b(?:brug|dak|flat|balkon|spoor|rails|perron|klif)\b[^.!?\x00]{0,30}\b(?:springen|spring|te springen|af te springen)\b`, ""},
	{"suicide.nl.voor_de_trein", Acute, CategorySuicide, `\bvoor (?:de|een) trein\b[^.!?\x00]{0,15}\b(?:springen|spring|gaan liggen|staan|gooien)\b`, ""},
	{"suicide.nl.polsen", Acute, CategorySuicide, `\b(?:mijn|m'n) polsen? (?:door ?snijden|opensnijden|open snijden|snijden)\b|\bpolsen (?:doorsnijden|door te snijden|doorgesneden)\b`, ""},
	{"suicide.nl.pillen_sparen", Acute, CategorySuicide, `\b(?:spaar|sparen|gespaard|spaarde|verzamel|verzamelen|verzameld|bewaar|bewaren|hamster|hamsteren|opsparen|opgespaard)\b[^.!?\x00]{0,20}\b{pills}\b|\b{pills} (?:aan het )?(?:sparen|verzamelen|opsparen|hamsteren|gespaard|opgespaard|verzameld)\b`, ""},
	{"suicide.nl.alle_pillen_innemen", Acute, CategorySuicide, `\b(?:alle|al mijn|al m'n|een hele strip|een hele doos|een doos|een pot|een potje|heel veel|een handvol|een hoop|een berg)\b[^.!?\x00]{0,15}\b{pills}\b[^.!?\x00]{0,25}\b(?:innemen|in te nemen|slikken|te slikken|nemen|te nemen|neem|slik|genomen|geslikt|ingenomen)\b`, ""},
	{"suicide.nl.overdosis", Acute, CategorySuicide, `\b(?:ik|me|{zelf})\b[^.!?\x00]{0,30}\boverdosis\b`, ""},
	{"suicide.nl.afscheidsbrief", Acute, CategorySuicide, `\bafscheidsbrie(?:f|ven)\b`, ""},
	{"suicide.nl.afscheid_van_iedereen", Acute, CategorySuicide, `\bafscheid (?:nemen|genomen|neem|te nemen) van (?:iedereen|alles|het leven|de wereld|mijn (?:kinderen|familie|vrienden))\b`, ""},
	{"suicide.nl.laatste_bericht", Acute, CategorySuicide, `\bdit (?:is|wordt|zal) (?:{w} ){0,2}(?:mijn )?laatste bericht\b`, `\b(?:voor|van) (?:vandaag|vanavond|vannacht|deze week|nu|dit gesprek)\b|\b(?:ga|gaan) (?:slapen|naar bed|pauzeren)\b`},
	{"suicide.nl.er_morgen_niet_meer", Acute, CategorySuicide, `\bik ben er (?:morgen|straks|vannacht|binnenkort|snel|over een week) niet meer\b|\bvoor als ik er niet meer ben\b`, ""},
	{"suicide.nl.dreigt_met_zelfmoord", Acute, CategorySuicide, `\b(?:dreigt|dreigde|gedreigd|dreigen)\b (?:{w} ){0,2}(?:met )?(?:zelfmoord|zelfdoding|zichzelf (?:iets aan te doen|van kant te maken|te doden|op te hangen))\b`, ""},
	{"suicide.nl.bij_het_spoor", Acute, CategorySuicide, `\b(?:sta|zit|ben|loop|lig|stond)\b (?:{adv})?(?:bij|op|naast|aan|langs) (?:het|de|een) (?:spoor|rails|spoorbaan|spoorlijn|dak|rand van (?:het|de) (?:dak|brug|flat))\b`, ""},
	{"suicide.nl.pillen_klaar", Acute, CategorySuicide, `\b{pills} (?:{adv})?(?:klaar ?liggen|klaargelegd|klaar gelegd|klaar ?staan|klaargezet|klaar gezet|liggen klaar|staan klaar)\b`, ""},
	{"suicide.nl.neem_al_mijn_pillen", Acute, CategorySuicide, `\b(?:neem|slik|nemen|slikken|nam|slikte)\b[^.!?\x00]{0,20}\b(?:alle|al mijn|al m'n|een hele strip|een hele doos|een doos|een pot|een potje|heel veel|een handvol)\b[^.!?\x00]{0,10}{pills}\b`, ""},
	{"suicide.nl.enige_uitweg", Acute, CategorySuicide, `\b(?:zelfmoord|de dood|doodgaan|dood gaan|sterven)\b (?:is|lijkt|voelt als) (?:{w} ){0,2}(?:de|mijn) enige (?:uitweg|optie|oplossing)\b|\b(?:de|mijn) enige (?:uitweg|optie|oplossing) is (?:{w} ){0,2}(?:zelfmoord|de dood|doodgaan|dood gaan|sterven|er een (?:eind|einde) aan maken)\b`, ""},
	{"suicide.nl.dit_is_afscheid", Acute, CategorySuicide, `\bdit is (?:mijn |het )?(?:definitieve |laatste )?afscheid\b`, ""},
	{"suicide.nl.hoe_ik_het_zou_doen", Acute, CategorySuicide, `\b(?:dood|zelfmoord|pillen|einde|eind|sterven|doodgaan|leven)\b[^.!?\x00]{0,40}\bhoe ik (?:het|mezelf) (?:{adv})?(?:moet|zou|ga|kan|wil) (?:doen|doden|ophangen)\b|\bhoe ik (?:het|mezelf) (?:{adv})?(?:moet|zou|ga|kan|wil) (?:doen|doden)\b[^.!?\x00]{0,30}\b(?:pillen|dood|zelfmoord|sterven|springen)\b|\b(?:hoeveel|welke) {pills}\b[^.!?\x00]{0,30}\b(?:dodelijk|nodig om|genoeg om|om dood te gaan|om te sterven)|\b(?:dodelijke dosis|pijnloos (?:dood|sterven|doodgaan)|pijnloze (?:dood|manier))\b`, ""},
	{"suicide.nl.als_hij_me_verlaat", Acute, CategorySuicide, `\bals (?:hij|ze|zij) (?:{me} )?(?:verlaat|weggaat|dumpt|het uitmaakt)\b[^.!?\x00]{0,30}\b(?:maak ik er een (?:eind|einde) aan|wil ik (?:dood|niet meer leven)|ga ik dood|overleef ik het niet|doe ik mezelf iets aan|pleeg ik zelfmoord)`, ""},
	{"suicide.nl.maak_er_een_eind_aan", Acute, CategorySuicide, `\b(?:maak|maakt|ga|gaan)\b (?:ik |je )?(?:{adv})?er (?:{adv})?(?:een )?(?:eind|einde) aan\b`, ""},
	{"suicide.nl.leven_niet_de_moeite", Acute, CategorySuicide, `\bleven is (?:{adv})?niet (?:meer )?(?:de moeite )?waard\b`, ""},
	// ---- Suicide, English ----
	{"suicide.en.kill_myself", Acute, CategorySuicide, `\b(?:kill|killing|killed|kills|hang|hanging|hanged|shoot|shooting|drown|drowning|poison|poisoning|off|offing|suffocate|suffocating|gas|electrocute|stab|stabbing)\s+{aen}myself\b`, ""},
	{"suicide.en.kys_self", Acute, CategorySuicide, `\b(?:i|i'm|i'll|gonna|going to|want to|should|might|will|ik|ga|wil)\b (?:{w} ){0,2}kill yourself\b`, ""},
	{"suicide.en.want_to_die", Acute, CategorySuicide, `\b(?:want|wanted|wanna|ready|deserve|need|planning|plan|decided|wish i could|would like|'d like|i'd like)\s+(?:to\s+)?{aen}(?:die|be dead|not (?:be alive|exist|be here anymore)|stop (?:existing|living)|disappear forever|cease to exist)\b`, ""},
	{"suicide.en.going_to_end_it", Acute, CategorySuicide, `\b(?:want|wanted|wanna|going|gonna|ready|planning|plan|decided|try|tried|trying|think about|thinking about|thinking of)\s+(?:to\s+)?{aen}(?:end it all|end my (?:own )?life|end everything|end it for good|end it tonight|kill myself|take my (?:own )?life)\b`, ""},
	{"suicide.en.wish_i_was_dead", Acute, CategorySuicide, `\b(?:wish|wished|hope|hoping|pray|praying)\s+(?:that )?i(?:'d|'m|'ve)?\b (?:{w} ){0,3}(?:dead|die|died|(?:never|not) (?:been )?born|didn't exist|did not exist|wasn't alive|was not alive|wasn't born|stop existing|cease to exist)\b`, ""},
	{"suicide.en.hope_not_wake_up", Acute, CategorySuicide, `\b(?:wish|hope|pray|praying|hoping|want)\b[^.!?\x00]{0,20}\b(?:don't|do not|won't|never|not|wouldn't) (?:ever )?wake up\b`, ""},
	{"suicide.en.sleep_never_wake", Acute, CategorySuicide, `\b(?:go to sleep|fall asleep|sleep|sleeping) and (?:never|not) wake up\b|\bnever wake up again\b`, ""},
	{"suicide.en.dont_want_to_wake", Acute, CategorySuicide, `\b(?:don't|do not) want to wake up(?: (?:tomorrow|again|anymore|any more|ever again|in the morning))?{end}`, ""},
	{"suicide.en.better_off_dead", Acute, CategorySuicide, `\bbetter off dead\b|\b(?:i'd|i would|i'd much) rather (?:be )?dead\b`, ""},
	{"suicide.en.better_off_without_me", Acute, CategorySuicide, `\bbetter (?:off )?without me\b`, ""},
	{"suicide.en.better_if_i_was_gone", Acute, CategorySuicide, `\b(?:everyone|everybody|they|the world|my family|people|all)\b[^.!?\x00]{0,25}\b(?:better|happier|easier|fine|relieved) (?:off )?(?:if|when) i(?:'m| am| was| were)? ?(?:gone|dead|died|disappeared|not (?:here|around|alive)|wasn't (?:here|around|alive)|weren't (?:here|around|alive)|never existed)\b`, ""},
	{"suicide.en.nobody_would_miss_me", Acute, CategorySuicide, `\b(?:no one|nobody|noone)\b (?:would|will|'d|'ll)? ?(?:even )?(?:miss|notice|care)\b[^.!?\x00]{0,25}\bif i (?:was |were |am |'m )?(?:gone|dead|died|disappeared|not here|killed myself)\b|\b(?:no one|nobody|noone) (?:would|will)(?: even)? miss me\b`, ""},
	{"suicide.en.dont_want_to_live", Acute, CategorySuicide, `\b(?:don't|do not|no longer) (?:want|wish) to (?:live|be alive|exist|be here)(?: anymore| any more| any longer)?{end}`, ""},
	{"suicide.en.no_reason_to_live", Acute, CategorySuicide, `\b(?:no|not any) (?:reason|point|purpose) (?:in |to |for )?(?:living|to live|to go on living|to keep living|in life|being alive|to be alive|of living|to stay alive)\b|\bnothing (?:left )?to live for\b`, ""},
	{"suicide.en.point_of_living", Acute, CategorySuicide, `\bwhat(?:'s| is) the point (?:of|in) (?:living|life|being alive|staying alive|going on)\b|\bwhy (?:should|would|do) i (?:even )?(?:bother )?(?:live|keep living|go on living|stay alive|be alive|exist)\b`, ""},
	{"suicide.en.done_with_life", Acute, CategorySuicide, `\b(?:done with|tired of|sick of|finished with) (?:life|living|being alive|this life|existing)\b`, ""},
	{"suicide.en.end_it_all", Acute, CategorySuicide, `\b(?:end|ending) (?:it all|my (?:own )?life|my suffering)\b|\b(?:take|taking|took) my (?:own )?life\b`, ""},
	{"suicide.en.thinking_about_suicide", Acute, CategorySuicide, `\b(?:commit|committing|attempt|attempting|consider|considering|contemplate|contemplating|planning|plan|thinking about|thinking of|think about|thought about|thought of|thoughts of|thoughts about|obsessed with|fantasi[sz]e about|fantasi[sz]ing about)\s+{aen}(?:suicide|zelfmoord|killing myself|ending (?:it|my life|it all)|taking my (?:own )?life|dying)\b`, ""},
	{"suicide.en.attempted", Acute, CategorySuicide, `\b(?:i|i've|i have|i had)\b (?:{w} ){0,2}(?:attempted suicide|tried to kill myself|tried suicide|tried to end (?:it|my life))\b|\bmy (?:first |second |last |previous |latest |recent )?suicide attempt\b`, ""},
	{"suicide.en.third_person", Acute, CategorySuicide, `\b(?:wants|want|is going|is gonna|threatens|threatened|talks about|talking about|plans|is planning|keeps saying)\b (?:to )?(?:kill (?:himself|herself|themselves)|end (?:his|her|their) (?:own )?life|commit suicide|suicide)\b`, ""},
	{"suicide.en.wrists", Acute, CategorySuicide, `\b(?:slit|slitting|cut|cutting|slash|slashing|open|opening)\b (?:my )?wrists?\b`, ""},
	{"suicide.en.pills_saving", Acute, CategorySuicide, `\b(?:saving|saved|stockpiling|stockpiled|hoarding|hoarded|collecting|collected|stashing|stashed|storing|saving up|stocking up on|been saving)\b[^.!?\x00]{0,20}\b{pills}\b`, ""},
	{"suicide.en.take_all_pills", Acute, CategorySuicide, `\b(?:take|swallow|taking|swallowing|took|swallowed|down|downing|downed)\b (?:all|every|the whole|a whole|a bunch of|a lot of|lots of|loads of|a handful of|a box of|a bottle of|the rest of|too many|enough)\b[^.!?\x00]{0,15}\b{pills}\b|\benough {pills} to\b`, ""},
	{"suicide.en.overdose", Acute, CategorySuicide, `\b(?:want to|going to|gonna|thinking (?:about|of)|plan to|planning to|could|might|will|should|decided to|ready to|wanna)\s+{aen}overdose\b|\boverdosing\b`, ""},
	{"suicide.en.jump", Acute, CategorySuicide, `\b(?:jump|jumping|throw myself|step|stepping|walk|walking)\b[^.!?\x00]{0,20}\b(?:off (?:a|the|this|that) (?:bridge|roof|building|balcony|cliff|ledge|tower)|in front of (?:a|the) (?:train|bus|car|truck|lorry|tram|subway))\b`, ""},
	{"suicide.en.on_the_bridge", Acute, CategorySuicide, `\b(?:bridge|roof|ledge|rooftop|tracks|platform|cliff)\b[^.!?\x00]{0,30}\b(?:jump|to jump)\b`, ""},
	{"suicide.en.goodbye_letter", Acute, CategorySuicide, `\b(?:goodbye|farewell|suicide) (?:letter|letters|note|notes)\b`, ""},
	{"suicide.en.last_message", Acute, CategorySuicide, `\bthis (?:is|will be) my (?:very )?last message\b(?: (?:for|of) (?:today|tonight|now|the day|this week))?|\bgoodbye (?:forever|cruel world)\b|\b(?:said|saying) my goodbyes\b`, ""},
	{"suicide.en.wont_be_here", Acute, CategorySuicide, `\bi won't be (?:here|around|alive) (?:tomorrow|much longer|for long|anymore|any more|by (?:tomorrow|morning|monday|the weekend))\b`, ""},
	{"suicide.en.noose_gun", Acute, CategorySuicide, `\bnoose\b|\b(?:gun|pistol) (?:to|against) my (?:head|temple)\b`, ""},

	{"suicide.en.method", Acute, CategorySuicide, `\b(?:how many|which) {pills}\b[^.!?\x00]{0,30}\b(?:take|it would take|to die|lethal|kill)\b|\b(?:lethal dose|painless (?:way to die|death|suicide)|how to (?:kill myself|end my life|hang myself))\b|\b(?:die|death|dying|suicide|pills|kill myself|end it)\b[^.!?\x00]{0,40}\bhow (?:i'd|i would|i'll|i will|i could|to) do it\b`, ""},
	{"suicide.en.if_he_leaves", Acute, CategorySuicide, `\bif (?:he|she|they) (?:leaves|left|dumps|breaks up)\b[^.!?\x00]{0,30}\b(?:i'll|i will|i'm going to|i'm gonna|i'd|i would) (?:{aen})?(?:end it|kill myself|die|end my life|not survive)\b`, ""},
	{"suicide.en.not_worth_living", Acute, CategorySuicide, `\b(?:life|my life) (?:is not|isn't|is no longer|ain't|is not really) (?:{aen})?worth (?:living|it anymore)\b|\bnot worth living\b`, ""},
	{"suicide.en.pills_ready", Acute, CategorySuicide, `\b{pills} (?:are )?(?:ready|laid out|lined up|counted out)\b`, ""},
	{"suicide.en.only_way_out", Acute, CategorySuicide, `\b(?:suicide|death|dying|killing myself)\b (?:is|feels like|seems like) (?:{w} ){0,2}(?:the|my) only (?:way out|option|answer|solution)\b|\b(?:the|my) only (?:way out|option|answer|solution) is (?:{w} ){0,2}(?:suicide|death|to die|dying|to kill myself|killing myself)\b`, ""},
	{"suicide.en.this_is_goodbye", Acute, CategorySuicide, `\bthis is (?:my )?(?:final |last )?goodbye\b`, ""},
	{"suicide.en.at_the_tracks", Acute, CategorySuicide, `\b(?:i'm|i am)\b (?:{aen})?(?:standing |sitting )?(?:on|at|by) (?:the|a) (?:tracks|railway|roof|rooftop|ledge|edge of the (?:roof|bridge))\b`, ""},
	// ---- Self-harm ----
	{"self_harm.nl.mezelf_snijden", Acute, CategorySelfHarm, `\b{zelf} (?:{w} ){0,2}(?:(?:te )?snijden|snij|snijd|sneed|gesneden|(?:te )?krassen|kras|kraste|gekrast|pijn (?:te )?doen|pijn doe|pijn deed|pijn gedaan|(?:te )?slaan|sla|sloeg|geslagen|(?:te )?branden|brand|brandde|gebrand|verbranden|verbrand|verbrandde|verwonden|verwond|verwondde|beschadigen|beschadig|beschadigd|beschadigde|open ?krabben|(?:te )?bijten)\b`, ""},
	{"self_harm.nl.snij_mezelf", Acute, CategorySelfHarm, `\b(?:snij|snijd|sneed|sla|sloeg|kras|kraste|brand|brandde|verbrand|verwond|verwondde|beschadig|beschadigde|bijt|beet)\s+{adv}{zelf}\b|\b(?:doe|deed|gedaan)\s+{adv}{zelf}\s+{adv}pijn\b|\b(?:krab|krabde|krabben)\s+{adv}{zelf}\s+(?:{w} )?(?:open|kapot|tot (?:het )?bloed)`, ""},
	{"self_harm.nl.zelfbeschadiging", Acute, CategorySelfHarm, `\b(?:zelfbeschadiging|automutilatie|zelfverwonding|zelfverwondend|zelfbeschadigend|zelfverminking)\b`, `{child}|\b(?:in the past|in het verleden|it's been years|not anymore|no longer|stopped|quit|clean for|niet meer|gestopt|al jaren niet)\b`},
	{"self_harm.nl.krassen", Acute, CategorySelfHarm, `\b(?:gaan|ga|weer|opnieuw|ben aan het|zit te|moet|wil|begonnen met|heb|had)\s+(?:{w} )?(?:krassen|kras|kraste|gekrast)\b|\bkras(?:te)? (?:in|op) (?:mijn|m'n) (?:arm|armen|been|benen|pols|polsen|huid|buik|dijen|dij)\b`, `\b(?:auto|fiets|telefoon|scherm|deur|vloer|tafel|lak|bril|plaat|cd)\b`},
	{"self_harm.nl.drang", Acute, CategorySelfHarm, `\b(?:drang|neiging|zin|behoefte) (?:om )?(?:te )?(?:krassen|snijden|{zelf} (?:pijn te doen|te snijden|te krassen|te beschadigen))\b`, ""},
	{"self_harm.nl.arm_opengesneden", Acute, CategorySelfHarm, `\b(?:mijn|m'n) (?:arm|armen|benen|been|dijen|pols|polsen|huid) (?:open ?gesneden|opengekrast|open gekrast|opengekrabd|kapot ?gesneden|kapotgekrast|gesneden|gekrast)\b`, ""},
	{"self_harm.nl.weer_gesneden", Acute, CategorySelfHarm, `\b(?:weer|opnieuw)\b (?:{adv})?(?:gesneden|gekrast|snijden|krassen|gaan snijden|gaan krassen|aan het snijden|aan het krassen)\b`, ""},
	{"self_harm.nl.snij_in_mijn_arm", Acute, CategorySelfHarm, `\b(?:snij|snijd|sneed|kras|kraste|krab)\b (?:{adv})?(?:in|op) (?:mijn|m'n) (?:arm|armen|been|benen|pols|polsen|huid|buik|dijen|dij|bovenbenen|lichaam|heupen)\b`, ""},
	{"self_harm.en.cut_my_arms", Acute, CategorySelfHarm, `\b(?:cut|cutting|burn|burning|scratch|scratching|carve|carving)\b (?:{aen})?(?:on |into )?my (?:arms?|legs?|thighs?|skin|stomach|body|hips?)\b`, ""},
	{"self_harm.head_against_wall", Acute, CategorySelfHarm, `\b(?:sla|bonk|beuk|bonken|slaan|bang|banging|hit|hitting|slam|slamming)\b (?:{w} )?(?:mijn|m'n|my) (?:hoofd|head) (?:tegen|op|against|on|into) (?:de|een|the|a) (?:muur|vloer|deur|wall|floor|door)\b[^.!?\x00]{0,20}\b(?:tot|totdat|pijn|bloed|until|till|hurts|bleed|bruise)`, ""},
	{"self_harm.punish_with_pain", Acute, CategorySelfHarm, `\b(?:{zelf}|myself)\b (?:{w} ){0,2}(?:straffen|straf|punish|punishing)\b (?:{w} )?(?:met|door|with|by) (?:pijn|te snijden|snijden|krassen|te krassen|slaan|pain|cutting|hurting|burning|hitting)\b`, ""},
	{"self_harm.en.cut_myself", Acute, CategorySelfHarm, `\b(?:cut|cutting|cuts|burn|burning|burned|burnt|burns|hurt|hurting|hurts|harm|harming|hit|hitting|punch|punching|scratch|scratching|scratched|starve|starving|starved|bite|biting|carve|carving|carved|injure|injuring|injured|mutilate|mutilating)\s+{aen}myself\b`, ""},
	{"self_harm.en.self_harm", Acute, CategorySelfHarm, `\bself-?harm(?:ing|ed|s)?\b|\bself(?: |-)?injur(?:y|ing|e|ies)\b`, `{child}|\b(?:in the past|in het verleden|it's been years|not anymore|no longer|stopped|quit|clean for|niet meer|gestopt|al jaren niet)\b`},
	{"self_harm.en.urge", Acute, CategorySelfHarm, `\burges? to (?:cut|hurt myself|harm myself|self-harm|burn myself)\b|\b(?:want|wanna|need|going|gonna|tempted|about) (?:to )?(?:{aen})?cut(?: (?:again|myself|my (?:arms?|legs?|wrists?|thighs?|skin)))?{end}`, ""},
	{"self_harm.relapse", Acute, CategorySelfHarm, `\b(?:again|relapsed?|started|back to|weer|opnieuw|terugval|begonnen)\b[^.!?\x00]{0,25}\b(?:self-?harm\w*|cutting|snijden|krassen|zelfbeschadiging)\b|\b(?:self-?harm\w*|cutting|zelfbeschadiging)\b[^.!?\x00]{0,20}\b(?:again|weer|opnieuw)\b`, ""},
	{"self_harm.en.cutting_arms", Acute, CategorySelfHarm, `\b(?:cutting|cut|scratching|burning) (?:again|my (?:arms?|legs?|thighs?|skin|stomach))\b`, ""},

	// ---- Violence at home ----
	{"violence.nl.hij_slaat_me", Acute, CategoryViolence, `\b{hij} (?:{adv})?(?:slaat|sloeg|schopt|schopte|stompt|stompte|wurgt|wurgde|mishandelt|mishandelde|bedreigt|bedreigde|verkracht|verkrachtte|trapt|trapte|misbruikt|misbruikte|knijpt|kneep|duwt|duwde|smijt|smeet|sleurt|sleurde|slaan|schoppen|trappen)\s+{adv}{me}\b`, `{child}`},
	{"violence.nl.slaat_hij_me", Acute, CategoryViolence, `\b(?:slaat|sloeg|schopt|schopte|wurgt|wurgde|mishandelt|mishandelde|bedreigt|bedreigde|verkracht|verkrachtte|trapt|trapte|duwt|duwde)\s+{hij}\s+{adv}{me}\b`, `{child}`},
	{"violence.nl.heeft_me_geslagen", Acute, CategoryViolence, `\b{hij}\b (?:heeft|had) (?:{adv})?{me}\b (?:{w} ){0,3}(?:geslagen|geschopt|gestompt|gewurgd|mishandeld|bedreigd|verkracht|getrapt|geduwd|aangevallen|opgesloten|gebeten|in elkaar geslagen|lichamelijk pijn gedaan|fysiek pijn gedaan|misbruikt|tegen de muur|dichtgeknepen|(?:bij (?:mijn|m'n|de) (?:keel|nek|haren|hals|strot) )(?:gegrepen|gepakt|vastgepakt|genomen))\b|\b(?:heeft|had) {hij} (?:{adv})?{me}\b (?:{w} ){0,3}(?:geslagen|geschopt|gewurgd|mishandeld|bedreigd|verkracht|getrapt|geduwd|aangevallen|opgesloten|in elkaar geslagen)\b`, `{child}`},
	{"violence.nl.ik_word_geslagen", Acute, CategoryViolence, `\bik (?:word|werd|ben)\b (?:{w} ){0,3}(?:geslagen|geschopt|mishandeld|bedreigd|verkracht|gewurgd|opgesloten|aangevallen|misbruikt|in elkaar geslagen)\b`, `{child}`},
	{"violence.nl.bang_dat_hij", Acute, CategoryViolence, `\bbang (?:dat|voor wat) {hij}\b (?:{w} ){0,4}(?:iets aandoet|iets aan (?:zal|gaat) doen|iets (?:zal|gaat) aandoen|wat aandoet|vermoordt|vermoorden|doodmaakt|dood maakt|slaat|gaat slaan|zal slaan|aanvalt|mishandelt|doet als)\b`, ""},
	{"violence.nl.bang_voor_partner", Acute, CategoryViolence, `\bbang voor (?:mijn|m'n) {partnl}\b`, `{child}`},
	{"violence.nl.dreigt", Acute, CategoryViolence, `\b{hij} (?:{adv})?(?:dreigt|dreigde|heeft gedreigd|had gedreigd|bedreigt|bedreigde)\b (?:{w} ){0,4}(?:te vermoorden|vermoorden|dood te maken|om te brengen|iets aan te doen|pijn te doen|te slaan|af te maken|kapot te maken|in elkaar te slaan|met (?:een )?(?:mes|pistool|wapen|geweld|de dood)|de kinderen)\b`, ""},
	{"violence.nl.dreigt_me", Acute, CategoryViolence, `\b{hij} (?:{adv})?(?:dreigt|dreigde|bedreigt|bedreigde) {me}{end}|\b(?:bedreigt|bedreigde) {me}\b`, ""},
	{"violence.nl.zegt_dat_hij_me_vermoordt", Acute, CategoryViolence, `\b{hij}\b[^.!?\x00]{0,30}\b{me} (?:vermoordt|vermoorden|dood ?maakt|doodmaken|dood maken|afmaakt|afmaken|iets aandoet|iets aan doet|in elkaar slaat|kapot ?maakt)\b`, ""},
	{"violence.nl.niet_veilig_thuis", Acute, CategoryViolence, `\b(?:niet veilig|onveilig)\b (?:{w} ){0,2}(?:thuis|in (?:mijn|m'n|ons|het) (?:eigen )?huis)\b|\b(?:durf|durfde) (?:{adv})?niet (?:meer )?(?:naar huis|thuis te komen|naar huis te gaan)\b`, ""},
	{"violence.nl.opgesloten", Acute, CategoryViolence, `\b{hij} (?:{w} ){0,2}(?:laat|liet) {me} niet (?:naar buiten|de deur uit|het huis uit)\b|\b{hij} (?:{w} ){0,2}(?:sluit|sloot) {me} op\b`, ""},
	{"violence.en.he_hits_me", Acute, CategoryViolence, `\b{he} (?:{aen})?(?:(?:has|had|'s|is|was|keeps|kept|started|has been|'s been|would|will|did) )?(?:{aen})?(?:hit|hits|hitting|beat|beats|beating|beaten|kicked|kicks|kicking|punched|punches|punching|slapped|slaps|slapping|choked|chokes|choking|strangled|strangles|strangling|shoved|shoves|raped|rapes|threatened|threatens|threatening|attacked|attacks|attacking|smacked|smacks|abused|abuses|abusing|assaulted|assaults|pushed|pushes|grabbed|grabs|bit|bites|burned|burns)\s+me\b`, `{child}`},
	{"violence.en.locked_me_in", Acute, CategoryViolence, `\b{he} (?:{aen})?(?:locked|locks|locking) me (?:in|up)\b|\b{he} (?:won't|will not|doesn't|does not|wouldn't) let me (?:leave the house|go out|out of the house|see my (?:friends|family))\b`, ""},
	{"violence.en.afraid_he_will", Acute, CategoryViolence, `\b(?:afraid|scared|terrified|frightened|fear)\b (?:{w} ){0,3}{he}(?:'ll| will| would| is going to|'s going to| is gonna|'s gonna| gonna| might| may| could|'d)? (?:{aen})?(?:kill|hit|beat|attack|harm|strangle|choke|rape|physically hurt) (?:me|us|the kids|my (?:kids|children|son|daughter|baby))\b`, ""},
	{"violence.en.afraid_of_partner", Acute, CategoryViolence, `\b(?:afraid|scared|terrified|frightened) of my {parten}\b`, `{child}`},
	{"violence.en.threatened_to_kill", Acute, CategoryViolence, `\bthreaten(?:ed|s|ing)?\b (?:{w} ){0,2}(?:to )?(?:kill|hurt|hit|beat|stab|shoot|strangle|burn|harm|rape) (?:me|us|the kids|my (?:kids|children|son|daughter|baby|family))\b|\bthreaten(?:ed|s|ing)? me with (?:a |his |her )?(?:knife|gun|weapon|violence|bat)\b`, ""},
	{"violence.en.said_he_would_kill_me", Acute, CategoryViolence, `\b(?:said|says|told me|swore|swears) (?:that )?(?:he|she|they)(?:'d|'ll| would| will| is going to| was going to| gonna) (?:{aen})?(?:kill|hurt|beat|hit) me\b|\b(?:he|she|my {parten})(?:'ll| will| would|'d| is going to|'s going to| is gonna| gonna) (?:{aen})?kill me(?: if i (?:leave|go|tell|try|call))?\b`, ""},
	{"violence.en.not_safe_at_home", Acute, CategoryViolence, `\b(?:not|don't feel|do not feel|never feel) (?:{w} )?safe (?:at home|in my (?:own )?(?:home|house))\b|\bunsafe (?:at home|in my (?:own )?(?:home|house))\b|\b(?:afraid|scared|terrified) to go home\b`, ""},

	// ---- Distress (Elevated) ----
	{"distress.nl.trek_het_niet", Elevated, CategoryDistress, `\btrek (?:het|dit|dat|alles) (?:{adv})?niet (?:meer|langer)\b`, ""},
	{"distress.nl.kan_het_niet_aan", Elevated, CategoryDistress, `\bkan (?:het|dit|dat|alles)? ?(?:{adv})?niet (?:meer|langer) aan\b`, ""},
	{"distress.nl.kan_niet_meer", Elevated, CategoryDistress, `\bkan (?:het |dit )?{adv}niet (?:meer|langer){end}`, ""},
	{"distress.nl.hou_het_niet_vol", Elevated, CategoryDistress, `\bhoud? (?:het|dit) (?:{adv})?niet (?:meer |langer )?vol\b`, ""},
	{"distress.nl.zie_het_niet_zitten", Elevated, CategoryDistress, `\bzie het (?:{adv})?(?:allemaal )?niet (?:meer )?zitten\b`, ""},
	{"distress.nl.geen_uitweg", Elevated, CategoryDistress, `\b(?:zie|is|heb) (?:{adv})?geen (?:uitweg|toekomst|licht|hoop|uitkomst)(?: meer)?\b`, ""},
	{"distress.nl.te_veel", Elevated, CategoryDistress, `\b(?:het|alles) (?:wordt|is) (?:{me} )?(?:{adv})?(?:allemaal )?(?:te veel|teveel)(?: voor {me})?{end}`, ""},
	{"distress.nl.ga_eraan_onderdoor", Elevated, CategoryDistress, `\bga (?:er|eraan|hieraan|hier) ?(?:aan )?(?:onderdoor|kapot)\b|\bga (?:{adv})?kapot{end}`, ""},
	{"distress.nl.wanhopig", Elevated, CategoryDistress, `\b(?:ben|voel me|voel mij) (?:{adv})?(?:wanhopig|hopeloos|radeloos|ten einde raad|kapot van binnen)\b`, ""},
	{"distress.nl.stort_in", Elevated, CategoryDistress, `\bik stort (?:{adv})?in\b|\bstort (?:{adv})?in elkaar\b|\bik val (?:{adv})?uit elkaar\b`, ""},
	{"distress.nl.last", Elevated, CategoryDistress, `\b(?:ben|voel me) (?:{adv})?(?:een )?(?:last|blok aan het been) voor (?:iedereen|mijn omgeving|mijn familie|mijn kinderen|mijn vrienden|jullie|de mensen|mijn partner|hem|haar)\b`, ""},
	{"distress.nl.verdwijnen", Elevated, CategoryDistress, `\bwil {adv}verdwijnen\b`, ""},
	{"distress.nl.paniekaanval", Elevated, CategoryDistress, `\b(?:heb|krijg|zit in|midden in) (?:{w} )?(?:een )?paniekaanval\b`, ""},
	{"distress.nl.stoppen_met_huilen", Elevated, CategoryDistress, `\bkan {adv}niet (?:meer )?(?:stoppen|ophouden) met huilen\b`, ""},
	{"distress.nl.zinloos", Elevated, CategoryDistress, `\balles is (?:{adv})?(?:zinloos|hopeloos)\b|\b(?:het|alles) heeft (?:{adv})?geen zin meer{end}`, ""},
	{"distress.nl.wil_dat_het_stopt", Elevated, CategoryDistress, `\bwil (?:{adv})?dat (?:het|alles|de pijn) (?:{adv})?(?:stopt|ophoudt|over is)\b`, ""},
	{"distress.nl.weet_niet_hoe_verder", Elevated, CategoryDistress, `\bweet (?:{adv})?niet (?:meer )?hoe ik (?:{adv})?(?:verder moet|door moet|dit overleef|dit moet overleven)\b`, ""},
	{"distress.nl.klaar_met_alles", Elevated, CategoryDistress, `\bklaar met alles\b`, ""},
	{"distress.nl.gaat_niet_meer", Elevated, CategoryDistress, `\bhet gaat (?:{adv})?niet meer{end}`, ""},
	{"distress.en.cant_take_it", Elevated, CategoryDistress, `\b{cant} (?:{aen})?(?:take|handle|bear|stand|do|cope with|deal with) (?:this|it|this shit|it all|any of this|this life|life|everything)? ?(?:{aen})?(?:anymore|any more|any longer|much longer)\b`, ""},
	{"distress.en.cant_go_on", Elevated, CategoryDistress, `\b{cant} (?:{aen})?(?:go on|keep going|cope|carry on|keep doing this|do this|take it|take this)(?: like this)?(?: anymore)?{end}`, ""},
	{"distress.en.breaking_point", Elevated, CategoryDistress, `\b(?:i'm|i am|i feel) (?:{aen})?(?:at (?:my )?breaking point|falling apart|breaking down|completely broken|so hopeless|hopeless|at the end of my rope|at the end of my tether|at my wits'? end|not okay|not ok)\b`, ""},
	{"distress.en.too_much", Elevated, CategoryDistress, `\beverything (?:is|feels) (?:{aen})?(?:too much|pointless|hopeless|meaningless)\b|\b(?:it's|it is|this is) (?:all )?(?:{aen})?too much(?: for me)?{end}`, ""},
	{"distress.en.no_way_out", Elevated, CategoryDistress, `\b(?:see|there's|there is|find) no way out\b|\bdon't see (?:a|any) way out\b|\bno (?:hope|future) (?:left|for me|anymore)\b`, ""},
	{"distress.en.burden", Elevated, CategoryDistress, `\b(?:i'm|i am|i feel like) (?:{aen})?(?:a burden|such a burden|nothing but a burden)\b`, ""},
	{"distress.en.disappear", Elevated, CategoryDistress, `\b(?:want|wanna|wish i could) (?:to )?(?:{aen})?disappear\b`, ""},
	{"distress.en.panic_attack", Elevated, CategoryDistress, `\b(?:having|have|had|in the middle of) (?:{w} )?(?:a )?panic attack\b`, ""},
	{"distress.en.cant_stop_crying", Elevated, CategoryDistress, `\b{cant} stop crying\b`, ""},
	{"distress.en.want_it_to_stop", Elevated, CategoryDistress, `\bwant (?:it|everything|it all|the pain|this) to (?:{aen})?(?:stop|end|be over)\b|\b(?:want to|i'll|i will|going to|gonna) end it{end}`, ""},
	{"distress.en.done_with_everything", Elevated, CategoryDistress, `\bdone with (?:everything|it all)\b|\bwhat(?:'s| is) the point (?:of|in) (?:anything|it all|trying|any of this)\b|\bi give up(?: on (?:everything|myself))?{end}|\bdon't want to live like this\b`, ""},

	// ---- Asking for a human (None, category set) ----
	{"human_request.nl.met_iemand_praten", None, CategoryHumanRequest, `\b(?:wil|kan|mag|zou|kun|kunnen|moet|graag|even)\b (?:{w} ){0,4}(?:met |tegen |naar )?(?:iemand|iemand echts|(?:een |de |mijn )(?:echt(?:e)? )?(?:mens|persoon|coach|hulpverlener|medewerker|therapeut|psycholoog))\b (?:{w} ){0,3}(?:praten|spreken|bellen|chatten|kletsen|contact|vertellen)\b`, ""},
	{"human_request.nl.mens_nodig", None, CategoryHumanRequest, `\b(?:heb|wil)\b (?:{w} ){0,2}(?:een (?:echt(?:e)? )?(?:mens|persoon)|een coach|iemand) (?:{w} ){0,2}nodig\b`, ""},
	{"human_request.nl.is_er_iemand", None, CategoryHumanRequest, `\bis er (?:{w} )?(?:iemand|een mens|een coach|een echt(?:e)? (?:mens|persoon))\b (?:{w} ){0,4}(?:praten|spreken|helpen|antwoorden|kan praten)\b`, ""},
	{"human_request.nl.verbind_me", None, CategoryHumanRequest, `\b(?:verbind|verwijs|breng|stuur) {me} (?:{w} ){0,2}(?:door )?(?:naar|met) (?:een )?(?:mens|coach|iemand|persoon|medewerker)\b`, ""},
	{"human_request.en.talk_to_someone", None, CategoryHumanRequest, `\b(?:want|need|would like|'d like|wanna|can i|could i|may i|let me|how do i|how can i|i'd love to|is it possible to|wish i could|please)\b (?:{w} ){0,3}(?:talk|speak|chat|get in touch) (?:to|with) (?:a |an |some )?(?:real |actual |live |human )?(?:person|human|human being|someone|somebody|coach|counsellor|counselor|therapist|people|staff)\b`, ""},
	{"human_request.en.is_there_a_person", None, CategoryHumanRequest, `\b(?:is there|are there) (?:a |an |any )?(?:real |actual )?(?:person|human|humans|people|coach|someone|somebody|anyone|anybody)\b (?:{w} ){0,4}(?:talk|speak|behind)\b`, ""},
	{"human_request.en.connect_me", None, CategoryHumanRequest, `\b(?:connect|put|transfer|refer) me (?:through )?(?:to|with) (?:a |an )?(?:real |actual )?(?:person|human|coach|someone|counsellor|counselor)\b|\bi (?:need|want) (?:a |an )?(?:real |actual )?(?:human|person|coach)\b`, ""},

	// ---- Is this a bot? (None, category set) ----
	{"bot_question.nl.ben_je_een_mens", None, CategoryBotQuestion, `\b(?:ben|bent) (?:je|jij|u)\b (?:(?:nou|eigenlijk|soms|wel|nu|echt|gewoon|dan|toch|misschien) )*(?:een |a |an )?(?:echt(?:e)? )?(?:mens|bot|robot|computer|ai|chatbot|machine|persoon|programma|computerprogramma|kunstmatige intelligentie|chatgpt|levend wezen|human|person)\b|\b(?:ben|bent) (?:je|jij|u) (?:wel )?echt{end}`, ""},
	{"bot_question.nl.praat_ik_met_een_robot", None, CategoryBotQuestion, `\b(?:praat|chat|spreek|app|schrijf) ik (?:{w} ){0,2}(?:met|tegen) (?:een |a )?(?:echt(?:e)? )?(?:robot|bot|mens|computer|ai|machine|chatbot|persoon|programma)\b`, ""},
	{"bot_question.nl.is_dit_een_bot", None, CategoryBotQuestion, `\bis (?:dit|dat|het) (?:{w} )?(?:een |a )?(?:echt(?:e)? )?(?:bot|robot|ai|chatbot|computer|programma|mens|automatisch|echt persoon)\b`, ""},
	{"bot_question.nl.zit_er_een_mens_achter", None, CategoryBotQuestion, `\bzit er (?:{w} )?(?:een )?(?:mens|iemand|persoon|echt(?:e)? (?:mens|persoon)) achter\b|\b(?:wie|wat) ben (?:je|jij)(?: (?:eigenlijk|nou|dan|precies|echt|nu))?{end}`, ""},
	{"bot_question.en.are_you_a_bot", None, CategoryBotQuestion, `\bare (?:you|u) (?:{w} )?(?:a |an )?(?:real |actual |live )?(?:bot|robot|human|person|ai|machine|computer|chatbot|program|chatgpt|gpt|human being|real|therapist|counsellor|counselor|psychologist)\b`, ""},
	{"bot_question.en.am_i_talking_to_a_bot", None, CategoryBotQuestion, `\bam i (?:{w} )?(?:talking|speaking|chatting|texting|writing) (?:to|with) (?:a |an )?(?:real |actual )?(?:bot|robot|human|person|machine|ai|computer|chatbot|program|someone real)\b|\bwho am i (?:talking|speaking|chatting) (?:to|with)\b`, ""},
	{"bot_question.en.is_this_ai", None, CategoryBotQuestion, `\bis (?:this|that) (?:{w} )?(?:a |an )?(?:real |actual )?(?:bot|robot|ai|chatbot|machine|computer|program|human|person|automated)\b|\bwho(?:'s| is) (?:behind this|writing this|typing|answering|on the other (?:end|side))\b|\bwhat are you{end}`, ""},
}
