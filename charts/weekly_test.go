package charts

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var updateExample = flag.Bool("update-example", false, "write docs/mood-chart-example.png from the sample input")

const examplePath = "../docs/mood-chart-example.png"

func amsterdam(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// sample is eight weeks of made-up but plausible data: a mood check-in most
// evenings, slowly getting lighter, and an exercise every few days.
func sample(t testing.TB, lang string) Weekly {
	loc := amsterdam(t)
	to := time.Date(2026, 4, 27, 0, 0, 0, 0, loc) // Monday: the eight weeks end on Sunday 26 April
	from := to.AddDate(0, 0, -56)
	w := Weekly{Lang: lang, From: from, To: to}
	moods := []int{2, 2, 3, 1, 2, 3, 3, 2, 3, 4, 3, 2, 3, 3, 4, 3, 4, 4, 3, 5, 4}
	for day, i := 0, 0; day < 56; day++ {
		if day%5 == 3 { // a missed evening now and then
			continue
		}
		m := moods[i%len(moods)]
		if day > 35 && m < 3 {
			m++
		}
		w.Mood = append(w.Mood, MoodPoint{At: from.AddDate(0, 0, day).Add(20*time.Hour + time.Duration(day%4)*10*time.Minute), Mood: m})
		i++
	}
	exercises := []string{"Verlatingsangst", "Bewustwording", "Geven en ontvangen", "Bindingsangst", "Innerlijk kind"}
	for i, day := range []int{2, 6, 11, 19, 24, 31, 38, 41, 45, 48, 52, 55} {
		b := 8 - i%3
		w.Intensities = append(w.Intensities, IntensityPair{
			At:       from.AddDate(0, 0, day).Add(21 * time.Hour),
			Exercise: exercises[i%len(exercises)],
			Before:   b,
			After:    b - 2 - i%4,
		})
	}
	return w
}

// decode checks the bytes are a 1000x600 PNG and returns its pixels.
func decode(t *testing.T, b []byte) *image.RGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: WidthPixels, Y: HeightPixels}) {
		t.Fatalf("size %v, want %dx%d", got, WidthPixels, HeightPixels)
	}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba
}

// pixels calls f with every pixel of img.
func pixels(img *image.RGBA, f func(color.RGBA)) {
	for i := 0; i+3 < len(img.Pix); i += 4 {
		f(color.RGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3]})
	}
}

// inkStats counts the distinct colours and the pixels that differ from the
// background paper colour.
func inkStats(img *image.RGBA) (colours, inked int) {
	seen := map[color.RGBA]bool{}
	pixels(img, func(c color.RGBA) {
		seen[c] = true
		if c != paper {
			inked++
		}
	})
	return len(seen), inked
}

// countNear counts pixels within a small distance of colour c.
func countNear(img *image.RGBA, c color.RGBA) int {
	n := 0
	pixels(img, func(p color.RGBA) {
		if absDiff(p.R, c.R)+absDiff(p.G, c.G)+absDiff(p.B, c.B) <= 6 {
			n++
		}
	})
	return n
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestRenderWeekly(t *testing.T) {
	loc := amsterdam(t)
	full := sample(t, "nl")
	day := time.Date(2026, 4, 20, 20, 0, 0, 0, loc)
	tests := []struct {
		name         string
		in           Weekly
		minColours   int
		minInked     float64 // fraction of pixels
		wantMood     bool    // the mood line's colour is present
		wantBars     bool    // both bar colours are present
		wantEmptyArt bool    // the five circles of the empty picture
	}{
		{name: "eight weeks dutch", in: full, minColours: 50, minInked: 0.04, wantMood: true, wantBars: true},
		{name: "eight weeks english", in: sample(t, "en"), minColours: 50, minInked: 0.04, wantMood: true, wantBars: true},
		{name: "twelve weeks", in: Weekly{Lang: "nl", Mood: full.Mood, Intensities: full.Intensities, From: full.To.AddDate(0, 0, -84), To: full.To}, minColours: 50, minInked: 0.04, wantMood: true, wantBars: true},
		{name: "one mood point", in: Weekly{Lang: "nl", Mood: []MoodPoint{{At: day, Mood: 3}}, From: day.AddDate(0, 0, -7), To: day.AddDate(0, 0, 1)}, minColours: 20, minInked: 0.01, wantMood: true},
		{name: "one run", in: Weekly{Lang: "en", Intensities: []IntensityPair{{At: day, Exercise: "Bewustwording", Before: 9, After: 4}}, From: day.AddDate(0, 0, -7), To: day.AddDate(0, 0, 1)}, minColours: 20, minInked: 0.01, wantBars: true},
		{name: "one point, no range", in: Weekly{Lang: "nl", Mood: []MoodPoint{{At: day, Mood: 5}}}, minColours: 20, minInked: 0.01, wantMood: true},
		{name: "zeros and tens", in: Weekly{Lang: "nl", Intensities: []IntensityPair{{At: day, Exercise: "x", Before: 10, After: 0}, {At: day.Add(time.Hour), Before: 0, After: 10}}, From: day.AddDate(0, 0, -7), To: day.AddDate(0, 0, 1)}, minColours: 20, minInked: 0.01, wantBars: true},
		{name: "empty", in: Weekly{Lang: "nl"}, minColours: 10, minInked: 0.005, wantEmptyArt: true},
		{name: "empty range", in: Weekly{Lang: "en", From: day.AddDate(0, 0, -7), To: day}, minColours: 10, minInked: 0.005, wantEmptyArt: true},
		{name: "data outside the range only", in: Weekly{Lang: "nl", Mood: full.Mood, From: full.To.AddDate(1, 0, 0), To: full.To.AddDate(1, 0, 7)}, minColours: 10, minInked: 0.005, wantEmptyArt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // also shows RenderWeekly is safe for concurrent use under -race
			b, err := RenderWeekly(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			img := decode(t, b)
			colours, inked := inkStats(img)
			total := float64(WidthPixels * HeightPixels)
			if colours < tt.minColours || float64(inked)/total < tt.minInked {
				t.Fatalf("%d colours, %.3f of pixels inked; want at least %d and %.3f", colours, float64(inked)/total, tt.minColours, tt.minInked)
			}
			// One dot of the mood line is about 110 pixels.
			if got := countNear(img, moodColor) > 60; got != tt.wantMood {
				t.Errorf("mood line drawn = %v, want %v", got, tt.wantMood)
			}
			if got := countNear(img, before) > 200 && countNear(img, after) > 200; got != tt.wantBars {
				t.Errorf("bars drawn = %v, want %v", got, tt.wantBars)
			}
			if got := countNear(img, levelColors[0].(color.RGBA)) > 200; got != tt.wantEmptyArt {
				t.Errorf("empty picture = %v, want %v", got, tt.wantEmptyArt)
			}
		})
	}
}

func TestRenderWeeklyIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"nl", "en"} {
		a, err := RenderWeekly(sample(t, lang))
		if err != nil {
			t.Fatal(err)
		}
		b, err := RenderWeekly(sample(t, lang))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: two renders of the same input differ", lang)
		}
	}
	// Input order of equal data does not matter beyond ties.
	w := sample(t, "nl")
	rev := w
	rev.Mood = append([]MoodPoint(nil), w.Mood...)
	for i, j := 0, len(rev.Mood)-1; i < j; i, j = i+1, j-1 {
		rev.Mood[i], rev.Mood[j] = rev.Mood[j], rev.Mood[i]
	}
	a, _ := RenderWeekly(w)
	b, _ := RenderWeekly(rev)
	if !bytes.Equal(a, b) {
		t.Fatal("reversing the mood points changed the picture")
	}
}

func TestRenderWeeklyLanguagesDiffer(t *testing.T) {
	t.Parallel()
	nl, err := RenderWeekly(sample(t, "nl"))
	if err != nil {
		t.Fatal(err)
	}
	en, err := RenderWeekly(sample(t, "en-GB"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := RenderWeekly(sample(t, "fr"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(nl, en) {
		t.Fatal("Dutch and English pictures are identical")
	}
	if !bytes.Equal(nl, other) {
		t.Fatal("an unknown language does not fall back to Dutch")
	}
}

func TestRenderWeeklyRejectsInvalidInput(t *testing.T) {
	day := time.Date(2026, 4, 20, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   Weekly
	}{
		{name: "mood 0", in: Weekly{Mood: []MoodPoint{{At: day, Mood: 0}}}},
		{name: "mood 6", in: Weekly{Mood: []MoodPoint{{At: day, Mood: 6}}}},
		{name: "before 11", in: Weekly{Intensities: []IntensityPair{{At: day, Before: 11}}}},
		{name: "after -1", in: Weekly{Intensities: []IntensityPair{{At: day, After: -1}}}},
		{name: "to before from", in: Weekly{From: day, To: day.Add(-time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // also shows RenderWeekly is safe for concurrent use under -race
			b, err := RenderWeekly(tt.in)
			if !errors.Is(err, ErrInvalid) || b != nil {
				t.Fatalf("RenderWeekly = %d bytes, %v; want ErrInvalid", len(b), err)
			}
		})
	}
}

// TestExamplePicture renders the sample used in the docs; with
// -update-example it also writes docs/mood-chart-example.png.
func TestExamplePicture(t *testing.T) {
	b, err := RenderWeekly(sample(t, "nl"))
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b)
	if *updateExample {
		if err := os.MkdirAll(filepath.Dir(examplePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(examplePath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkRenderWeekly(b *testing.B) {
	w := sample(b, "nl")
	for b.Loop() {
		if _, err := RenderWeekly(w); err != nil {
			b.Fatal(err)
		}
	}
}
