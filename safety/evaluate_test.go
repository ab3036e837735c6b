package safety

import (
	"os"
	"strings"
	"testing"
)

func TestLabelledSet(t *testing.T) {
	f, err := os.Open("testdata/labelled.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Evaluate(NewClassifier(), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.String())
	for _, m := range rep.Misses {
		t.Logf("line %d: want %s/%s, got %s/%s (%s): %s", m.Line, m.Level, m.Category, m.Got.Level, m.Got.Category, m.Got.Rule, m.Text)
	}
	if rep.Total < 220 {
		t.Errorf("labelled set has %d messages, want at least 220", rep.Total)
	}
	if rep.AcuteRecall < 1 {
		t.Errorf("acute recall %.3f, want 1", rep.AcuteRecall)
	}
	if rep.FalseAlarmRate > 0.05 {
		t.Errorf("false-alarm rate %.3f, want at most 0.05", rep.FalseAlarmRate)
	}
}

func TestEvaluateCounts(t *testing.T) {
	in := strings.Join([]string{
		"# comment",
		"acute\tsuicide\ten\tI want to die",
		"acute\tviolence\ten\tthe weather is nice",
		"none\t-\ten\tI want to kill myself",
		"elevated\tdistress\tnl\tik kan het niet meer aan",
		"",
	}, "\n")
	rep, err := Evaluate(NewClassifier(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 4 || rep.Acute != 2 || rep.AcuteHits != 1 || rep.NonAcute != 2 || rep.FalseAlarms != 1 || rep.Correct != 2 || len(rep.Misses) != 2 {
		t.Fatalf("report = %+v", rep)
	}
	if rep.AcuteRecall != 0.5 || rep.FalseAlarmRate != 0.5 {
		t.Fatalf("recall %v, false alarms %v", rep.AcuteRecall, rep.FalseAlarmRate)
	}
	if rep.Misses[0].Line != 3 || rep.Misses[1].Line != 4 {
		t.Fatalf("misses at lines %d and %d, want 3 and 4", rep.Misses[0].Line, rep.Misses[1].Line)
	}
}

func TestParseLabelledErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"too few fields", "acute\tsuicide\tI want to die"},
		{"bad level", "urgent\tsuicide\ten\tI want to die"},
		{"bad category", "acute\tsadness\ten\tI want to die"},
		{"acute without category", "acute\t-\ten\tI want to die"},
		{"none with risk category", "none\tsuicide\ten\tI want to die"},
		{"empty text", "none\t-\ten\t  "},
		{"line too long", "none\t-\ten\t" + strings.Repeat("a", maxLine+10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseLabelled(strings.NewReader(tt.in)); err == nil {
				t.Fatal("no error")
			}
		})
	}
	if _, err := Evaluate(NewClassifier(), strings.NewReader("# only a comment\n")); err == nil {
		t.Fatal("Evaluate of an empty set: no error")
	}
}
