package charts

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"strconv"
	"time"

	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WidthPixels and HeightPixels are the size of every picture RenderWeekly
// draws.
const (
	WidthPixels  = 1000
	HeightPixels = 600
)

// At 96 dots per inch the picture is 750x450 points. Telegram shows it about
// 400 points wide on a phone, so text is drawn large.
const (
	dpi    = 96
	width  = vg.Length(WidthPixels) * vg.Inch / dpi
	height = vg.Length(HeightPixels) * vg.Inch / dpi
	margin = vg.Length(16)
)

var (
	paper     = color.RGBA{0xfb, 0xf8, 0xf3, 0xff}
	ink       = color.RGBA{0x2e, 0x34, 0x40, 0xff}
	muted     = color.RGBA{0x5f, 0x66, 0x73, 0xff}
	gridColor = color.RGBA{0xe4, 0xde, 0xd3, 0xff}
	moodColor = color.RGBA{0x3b, 0x7a, 0x78, 0xff}
	before    = color.RGBA{0xe9, 0xa0, 0x6b, 0xff}
	after     = color.RGBA{0x5b, 0x9a, 0x8b, 0xff}
	// levelColors run from heavy to light, for the empty picture.
	levelColors = []color.Color{
		color.RGBA{0x7d, 0x8f, 0xb3, 0xff},
		color.RGBA{0x8f, 0xa8, 0xae, 0xff},
		color.RGBA{0xa8, 0xc0, 0x9f, 0xff},
		color.RGBA{0xd9, 0xc8, 0x7f, 0xff},
		color.RGBA{0xf2, 0xc4, 0x6d, 0xff},
	}
)

// RenderWeekly draws the weekly picture as a PNG of 1000x600 pixels: on top
// the mood over the range, below how strong the feeling was before and after
// the latest exercise runs. With no data in range it draws a friendly "no data
// yet" picture instead. The same input always gives the same bytes.
func RenderWeekly(w Weekly) ([]byte, error) {
	p, err := prepare(w)
	if err != nil {
		return nil, err
	}
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(paper))
	dc := draw.New(img)
	if p.empty() {
		drawEmpty(dc, p.tx)
	} else if err := drawWeekly(dc, p); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, img.Image()); err != nil {
		return nil, fmt.Errorf("charts: encode png: %w", err)
	}
	return buf.Bytes(), nil
}

func sans(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = stdfont.WeightBold
	}
	return f
}

func textStyle(size vg.Length, bold bool, c color.Color, x text.XAlignment, y text.YAlignment) text.Style {
	return text.Style{
		Color:   c,
		Font:    sans(size, bold),
		XAlign:  x,
		YAlign:  y,
		Handler: plot.DefaultTextHandler,
	}
}

var (
	headerStyle = textStyle(21, true, ink, text.XLeft, text.YTop)
	panelStyle  = textStyle(16, true, ink, text.XLeft, text.YTop)
	legendStyle = textStyle(15, false, ink, text.XLeft, text.YTop)
	tickStyleX  = textStyle(14, false, muted, text.XCenter, text.YTop)
	tickStyleY  = textStyle(15, false, muted, text.XRight, text.YCenter)
	valueStyle  = textStyle(13, true, ink, text.XCenter, text.YBottom)
	noteStyle   = textStyle(16, false, muted, text.XCenter, text.YCenter)
)

func drawWeekly(dc draw.Canvas, p prepared) error {
	tx := p.tx
	dc.FillText(headerStyle, vg.Point{X: dc.Min.X + margin, Y: dc.Max.Y - margin},
		tx.title+" · "+tx.span(p.from, p.lastShownDay()))

	moodPlot, err := newMoodPlot(p)
	if err != nil {
		return err
	}
	runsPlot, runs := newRunsPlot(p)
	plots := [][]*plot.Plot{{moodPlot}, {runsPlot}}
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadY: 14}
	area := draw.Crop(dc, margin, -margin, margin*0.6, -(margin + 36))

	// Lay out once to learn how wide a run's slot is, fit the exercise names
	// into it, and lay out again with the final labels.
	canvases := plot.Align(plots, tiles, area)
	runs.fitLabels(runsPlot, runsPlot.DataCanvas(canvases[1][0]))
	canvases = plot.Align(plots, tiles, area)

	moodPlot.Draw(canvases[0][0])
	runsPlot.Draw(canvases[1][0])

	panelTitle(canvases[0][0], moodPlot, tx.moodTitle)
	title := tx.runsTitle
	if p.runsLeft > 0 {
		title += " · " + fmt.Sprintf(tx.runsLatest, len(p.runs))
	}
	runsTitleRow(canvases[1][0], runsPlot, title, tx, len(p.runs) > 0)
	return nil
}

// newPanel returns a plot styled like every panel: no frame, light grid,
// large muted tick labels, and room for a title row that is drawn by hand
// (left-aligned, unlike plot's centred title).
func newPanel() *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	p.Title.Text = " "
	p.Title.TextStyle = panelStyle
	p.Title.Padding = 8
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.LineStyle.Width = 0
		a.Tick.Length = 0
		a.Tick.LineStyle.Width = 0
		a.Padding = 6
	}
	p.X.LineStyle = draw.LineStyle{Color: gridColor, Width: 1}
	p.X.Tick.Label = tickStyleX
	p.Y.Tick.Label = tickStyleY
	return p
}

func horizontalGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical.Color = nil
	g.Horizontal = draw.LineStyle{Color: gridColor, Width: 1}
	return g
}

func newMoodPlot(p prepared) (*plot.Plot, error) {
	mp := newPanel()
	var levels plot.ConstantTicks
	for i, l := range p.tx.moodLevels {
		levels = append(levels, plot.Tick{Value: float64(i + 1), Label: l})
	}
	mp.Y.Tick.Marker = levels
	mp.X.Tick.Marker = dateTicks{tx: p.tx, loc: p.loc, from: p.from, to: p.to}
	mp.Add(horizontalGrid())

	if len(p.mood) == 0 {
		mp.Add(note{text: p.tx.noMood})
	} else {
		xys := make(plotter.XYs, len(p.mood))
		for i, m := range p.mood {
			xys[i] = plotter.XY{X: unix(m.At), Y: float64(m.Mood)}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("charts: mood line: %w", err)
		}
		line.LineStyle = draw.LineStyle{Color: moodColor, Width: 2.5}
		dots, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, fmt.Errorf("charts: mood points: %w", err)
		}
		dots.GlyphStyle = draw.GlyphStyle{Color: moodColor, Radius: 4.5, Shape: draw.CircleGlyph{}}
		mp.Add(line, dots)
	}
	// Set the ranges after Add, which widens them to the data.
	mp.X.Min, mp.X.Max = unix(p.from), unix(p.to)
	if mp.X.Max <= mp.X.Min {
		mp.X.Min, mp.X.Max = mp.X.Min-12*3600, mp.X.Max+12*3600
	}
	mp.Y.Min, mp.Y.Max = 0.6, 5.4
	return mp, nil
}

func newRunsPlot(p prepared) (*plot.Plot, *pairBars) {
	rp := newPanel()
	rp.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 5, Label: "5"}, {Value: 10, Label: "10"}}
	rp.Add(horizontalGrid())

	// Keep at least three slots so one or two runs do not get bars as wide as
	// the picture; centre the runs in them.
	slots := max(len(p.runs), 3)
	offset := float64(slots-len(p.runs)) / 2
	bars := &pairBars{runs: p.runs, offset: offset}
	for _, r := range p.runs {
		bars.dates = append(bars.dates, p.tx.day(r.At.In(p.loc)))
		bars.names = append(bars.names, r.Exercise)
	}
	bars.setTicks(rp, bars.names)
	if len(p.runs) == 0 {
		rp.Add(note{text: p.tx.noRuns})
	} else {
		rp.Add(bars)
	}
	rp.X.Min, rp.X.Max = -0.5, float64(slots)-0.5
	rp.Y.Min, rp.Y.Max = 0, 11.8
	return rp, bars
}

// panelTitle writes a panel's title left-aligned above its data area.
func panelTitle(c draw.Canvas, p *plot.Plot, title string) {
	data := p.DataCanvas(c)
	c.FillText(panelStyle, vg.Point{X: data.Min.X, Y: c.Max.Y}, title)
}

// runsTitleRow writes the bottom panel's title with, when there are bars,
// the before/after legend right-aligned on the same row.
func runsTitleRow(c draw.Canvas, p *plot.Plot, title string, tx *texts, withLegend bool) {
	panelTitle(c, p, title)
	if !withLegend {
		return
	}
	data := p.DataCanvas(c)
	sw := vg.Length(13)
	gap := vg.Length(6)
	x := data.Max.X
	y := c.Max.Y
	for _, item := range []struct {
		label string
		c     color.Color
	}{{tx.after, after}, {tx.before, before}} {
		x -= legendStyle.Width(item.label)
		c.FillText(legendStyle, vg.Point{X: x, Y: y}, item.label)
		x -= gap + sw
		top := y - (panelStyle.Height("M")-sw)/2 - 1
		c.FillPolygon(item.c, rect(x, top-sw, x+sw, top))
		x -= 3 * gap
	}
}

func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

func unix(t time.Time) float64 { return float64(t.Unix()) }

// pairBars draws, per exercise run, a bar for the intensity before and one
// for after, with the number on top, and labels each pair with its date and
// exercise.
type pairBars struct {
	runs   []IntensityPair
	offset float64 // slot of the first run
	dates  []string
	names  []string
}

// setTicks labels each pair with its date and, below it, names[i].
func (b *pairBars) setTicks(p *plot.Plot, names []string) {
	var ticks plot.ConstantTicks
	for i, d := range b.dates {
		label := d
		if names[i] != "" {
			label += "\n" + names[i]
		}
		ticks = append(ticks, plot.Tick{Value: b.offset + float64(i), Label: label})
	}
	p.X.Tick.Marker = ticks
}

// fitLabels shortens exercise names that are wider than a run's slot.
func (b *pairBars) fitLabels(p *plot.Plot, data draw.Canvas) {
	if len(b.runs) == 0 {
		return
	}
	slot := (data.Max.X - data.Min.X) / vg.Length(p.X.Max-p.X.Min)
	limit := slot * 0.94
	names := make([]string, len(b.names))
	for i, n := range b.names {
		names[i] = fit(n, limit, tickStyleX)
	}
	b.setTicks(p, names)
}

// fit cuts s, at a rune boundary, until it is at most limit wide, marking the
// cut with an ellipsis.
func fit(s string, limit vg.Length, sty text.Style) string {
	if sty.Width(s) <= limit {
		return s
	}
	r := []rune(s)
	for n := len(r) - 1; n > 0; n-- {
		if c := string(r[:n]) + "…"; sty.Width(c) <= limit {
			return c
		}
	}
	return "…"
}

// Plot implements plot.Plotter.
func (b *pairBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	slot := trX(1) - trX(0)
	barW := min(slot*0.34, 44)
	gap := min(slot*0.04, 5)
	base := trY(0)
	for i, r := range b.runs {
		cx := trX(b.offset + float64(i))
		for _, bar := range []struct {
			v     int
			x0    vg.Length
			color color.Color
		}{
			{r.Before, cx - gap/2 - barW, before},
			{r.After, cx + gap/2, after},
		} {
			top := trY(float64(bar.v))
			if top-base < 2 { // keep a 0 visible as a sliver
				top = base + 2
			}
			c.FillPolygon(bar.color, rect(bar.x0, base, bar.x0+barW, top))
			c.FillText(valueStyle, vg.Point{X: bar.x0 + barW/2, Y: top + 3}, strconv.Itoa(bar.v))
		}
	}
}

// note writes a line of text in the middle of a panel that has no data.
type note struct{ text string }

// Plot implements plot.Plotter.
func (n note) Plot(c draw.Canvas, _ *plot.Plot) {
	c.FillText(noteStyle, c.Center(), n.text)
}

// drawEmpty draws the picture for a person without data yet: a kind title,
// a line on what will appear, and the five mood levels as quiet circles.
func drawEmpty(dc draw.Canvas, tx *texts) {
	center := dc.Center()
	title := textStyle(30, true, ink, text.XCenter, text.YBottom)
	body := textStyle(17, false, muted, text.XCenter, text.YTop)
	dc.FillText(title, vg.Point{X: center.X, Y: center.Y + 40}, tx.emptyTitle)
	y := center.Y + 20
	for _, line := range tx.emptyBody {
		dc.FillText(body, vg.Point{X: center.X, Y: y}, line)
		y -= body.Height(line) + 6
	}
	const r, step = vg.Length(11), vg.Length(40)
	x := center.X - step*vg.Length(len(levelColors)-1)/2
	for _, c := range levelColors {
		dc.DrawGlyph(draw.GlyphStyle{Color: c, Radius: r, Shape: draw.CircleGlyph{}}, vg.Point{X: x, Y: y - 40})
		x += step
	}
	small := textStyle(13, false, muted, text.XCenter, text.YTop)
	dc.FillText(small, vg.Point{X: center.X - step*2, Y: y - 40 - r - 8}, tx.moodLevels[0])
	dc.FillText(small, vg.Point{X: center.X + step*2, Y: y - 40 - r - 8}, tx.moodLevels[4])
}
