package safety

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine is the longest input line Evaluate and ClassifyLines accept.
const maxLine = 64 * 1024

// Example is one labelled message.
type Example struct {
	Line     int    // line number in the input, from 1
	Level    Level  // expected level
	Category string // expected category, "" for none
	Lang     string // "nl", "en" or "mixed"
	Text     string
}

// Miss is a labelled message the classifier got wrong.
type Miss struct {
	Example
	Got Result
}

// Report sums up how the classifier does on a labelled set.
type Report struct {
	Total   int           // labelled messages
	ByLevel map[Level]int // labelled messages per expected level
	Correct int           // level and category both as labelled

	Acute       int     // messages labelled acute
	AcuteHits   int     // of those, classified acute
	AcuteRecall float64 // AcuteHits / Acute (1 when there are none)

	NonAcute       int     // messages labelled none or elevated
	FalseAlarms    int     // of all messages, those classified at a higher level than labelled
	FalseAlarmRate float64 // FalseAlarms / NonAcute (0 when there are none)

	// Misses lists every message whose level or category differs from its
	// label, in input order.
	Misses []Miss
}

// String renders the figures on one line, for test logs and the CLI.
func (r Report) String() string {
	return fmt.Sprintf("%d messages (none %d, elevated %d, acute %d); correct %d (%.1f%%); acute recall %d/%d = %.1f%%; false alarms %d/%d = %.1f%%; misses %d",
		r.Total, r.ByLevel[None], r.ByLevel[Elevated], r.ByLevel[Acute], r.Correct, pct(r.Correct, r.Total),
		r.AcuteHits, r.Acute, 100*r.AcuteRecall, r.FalseAlarms, r.NonAcute, 100*r.FalseAlarmRate, len(r.Misses))
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// ParseLabelled reads a labelled set: one message a line, four fields
// separated by tabs (expected level, category or "-", language, text).
// Blank lines and lines starting with # are skipped.
func ParseLabelled(r io.Reader) ([]Example, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine+2)
	var out []Example
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.SplitN(s, "\t", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("safety: parse labelled: line %d: want 4 tab-separated fields, have %d", line, len(f))
		}
		lv, err := ParseLevel(strings.TrimSpace(f[0]))
		if err != nil {
			return nil, fmt.Errorf("safety: parse labelled: line %d: %w", line, err)
		}
		cat := strings.TrimSpace(f[1])
		if cat == "-" {
			cat = ""
		}
		if !knownCategory(cat) {
			return nil, fmt.Errorf("safety: parse labelled: line %d: unknown category %q", line, cat)
		}
		if (lv != None) != (cat != "" && cat != CategoryHumanRequest && cat != CategoryBotQuestion) {
			return nil, fmt.Errorf("safety: parse labelled: line %d: level %s does not go with category %q", line, lv, cat)
		}
		text := strings.TrimSpace(f[3])
		if text == "" {
			return nil, fmt.Errorf("safety: parse labelled: line %d: empty text", line)
		}
		out = append(out, Example{Line: line, Level: lv, Category: cat, Lang: strings.TrimSpace(f[2]), Text: text})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("safety: parse labelled: line %d: %w", line+1, err)
	}
	return out, nil
}

// Evaluate classifies every message of a labelled set (see ParseLabelled)
// and reports acute recall, the false-alarm rate and every miss.
func Evaluate(c *Classifier, r io.Reader) (Report, error) {
	ex, err := ParseLabelled(r)
	if err != nil {
		return Report{}, err
	}
	if len(ex) == 0 {
		return Report{}, errors.New("safety: evaluate: no labelled messages")
	}
	rep := Report{ByLevel: map[Level]int{}}
	for _, e := range ex {
		got := c.Classify(e.Text)
		rep.Total++
		rep.ByLevel[e.Level]++
		if e.Level == Acute {
			rep.Acute++
			if got.Level == Acute {
				rep.AcuteHits++
			}
		} else {
			rep.NonAcute++
		}
		if got.Level > e.Level {
			rep.FalseAlarms++
		}
		if got.Level == e.Level && got.Category == e.Category {
			rep.Correct++
		} else {
			rep.Misses = append(rep.Misses, Miss{Example: e, Got: got})
		}
	}
	rep.AcuteRecall = 1
	if rep.Acute > 0 {
		rep.AcuteRecall = float64(rep.AcuteHits) / float64(rep.Acute)
	}
	if rep.NonAcute > 0 {
		rep.FalseAlarmRate = float64(rep.FalseAlarms) / float64(rep.NonAcute)
	}
	return rep, nil
}

// lineResult is one output line of ClassifyLines.
type lineResult struct {
	Text     string `json:"text"`
	Level    Level  `json:"level"`
	Category string `json:"category"`
	Rule     string `json:"rule"`
}

// ClassifyLines classifies every line of r (up to 64 KiB each) and writes
// one JSON object a line to w: {"text","level","category","rule"}.
func ClassifyLines(c *Classifier, r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine+2)
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		res := c.Classify(text)
		if err := enc.Encode(lineResult{Text: text, Level: res.Level, Category: res.Category, Rule: res.Rule}); err != nil {
			return fmt.Errorf("safety: classify lines: line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("safety: classify lines: line %d: %w", line+1, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safety: classify lines: %w", err)
	}
	return nil
}
