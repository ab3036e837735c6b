package checkin

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stilstaan/stilstaan/charts"
	"github.com/stilstaan/stilstaan/conversation"
	"github.com/stilstaan/stilstaan/schedule"
	"github.com/stilstaan/stilstaan/storage"
)

// historyWeeks is how far back the picture looks.
const historyWeeks = 6

// moodCommand handles /mood: the picture of the last six weeks with a short
// text. The Scheduler sends the same as the weekly summary, through this
// command in a turn of its own.
func (f *Feature) moodCommand(ctx context.Context, t *conversation.Turn, _ string) error {
	p := planFrom(ctx)
	weekly := p != nil && p.job == jobWeekly && p.person == t.Tx.Person().ID
	if weekly {
		t.Out.Heard = "" // the person did not type /mood
	}
	loc, err := f.zoneOf(t)
	if err != nil {
		return err
	}
	h, err := f.history(t, loc, t.Now)
	if err != nil {
		return err
	}
	if weekly {
		if err := t.Tx.Exec(ctx, sqlWeeklyDone, t.Tx.Person().ID, p.day, p.version, p.next); err != nil {
			return fmt.Errorf("checkin: weekly summary: %w", err)
		}
		if len(h.thisWeek) == 0 && h.exercisesThisWeek == 0 {
			p.outcome = outcomeEmpty // nothing happened this week: no picture to push
			return nil
		}
		p.outcome = outcomeStarted
	}
	lang := t.Lang()
	png, err := charts.RenderWeekly(charts.Weekly{Lang: lang, Mood: h.mood, Intensities: h.runs, From: h.from, To: h.to})
	if err != nil {
		return fmt.Errorf("checkin: render weekly picture: %w", err)
	}
	name := say(lang, "mood.file") + "-" + schedule.LocalDay(t.Now, loc) + ".png"
	return t.SendPhoto(conversation.Envelope{Text: h.caption(lang, weekly, t.Now), File: png, FileName: name}, t.Priority())
}

// history is the data of the picture and its text.
type history struct {
	from, to          time.Time
	mood              []charts.MoodPoint
	runs              []charts.IntensityPair
	thisWeek          []int // moods of the last seven local days
	lastWeek          []int // moods of the seven days before
	exercisesThisWeek int
}

const (
	sqlMoods = `SELECT mood, at FROM checkins
WHERE person_id = $1 AND at >= $2 AND at < $3 AND mood IS NOT NULL ORDER BY at`
	sqlRuns = `SELECT exercise, ended_at, scales FROM exercise_runs
WHERE person_id = $1 AND ended_at >= $2 AND ended_at < $3 ORDER BY ended_at`
)

// history reads the last six weeks, ending with the local day of now.
func (f *Feature) history(t *conversation.Turn, loc *time.Location, now time.Time) (history, error) {
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	h := history{to: today.AddDate(0, 0, 1), from: today.AddDate(0, 0, 1-7*historyWeeks)}
	weekStart, lastWeekStart := today.AddDate(0, 0, -6), today.AddDate(0, 0, -13)
	id := t.Tx.Person().ID
	lang := t.Lang()

	err := t.Tx.Query(sqlMoods, []any{id, h.from, h.to}, func(r storage.Row) error {
		var mood int16
		var at time.Time
		if err := r.Scan(&mood, &at); err != nil {
			return err
		}
		h.mood = append(h.mood, charts.MoodPoint{At: at.In(loc), Mood: int(mood)})
		switch {
		case !at.Before(weekStart):
			h.thisWeek = append(h.thisWeek, int(mood))
		case !at.Before(lastWeekStart):
			h.lastWeek = append(h.lastWeek, int(mood))
		}
		return nil
	})
	if err != nil {
		return history{}, fmt.Errorf("checkin: read moods: %w", err)
	}
	err = t.Tx.Query(sqlRuns, []any{id, h.from, h.to}, func(r storage.Row) error {
		var (
			exercise string
			at       time.Time
			raw      []byte
		)
		if err := r.Scan(&exercise, &at, &raw); err != nil {
			return err
		}
		if !at.Before(weekStart) {
			h.exercisesThisWeek++
		}
		var scales map[string]int
		if err := json.Unmarshal(raw, &scales); err != nil {
			return fmt.Errorf("decode scales: %w", err)
		}
		before, okB := scales[StepBefore]
		after, okA := scales[StepAfter]
		if !okB || !okA || before < 0 || before > 10 || after < 0 || after > 10 {
			return nil
		}
		title := exercise
		if s, ok := f.lib.Script(exercise); ok {
			title = s.Title.In(lang)
		}
		h.runs = append(h.runs, charts.IntensityPair{At: at.In(loc), Exercise: title, Before: before, After: after})
		return nil
	})
	if err != nil {
		return history{}, fmt.Errorf("checkin: read exercise runs: %w", err)
	}
	return h, nil
}

// caption is the short text with the picture: the average mood this week
// against last week, and the number of exercises. A weekly summary ends with
// a line about where standing still leads.
func (h history) caption(lang string, weekly bool, now time.Time) string {
	var lines []string
	if weekly {
		lines = append(lines, say(lang, "mood.title_week"))
	} else {
		lines = append(lines, say(lang, "mood.title"))
	}
	if len(h.thisWeek) > 0 {
		line := say(lang, "mood.avg", "{avg}", decimal(lang, mean(h.thisWeek)), "{n}", strconv.Itoa(len(h.thisWeek)))
		if len(h.lastWeek) > 0 {
			line += " " + say(lang, "mood.avg_prev", "{avg}", decimal(lang, mean(h.lastWeek)))
		} else {
			line += " " + say(lang, "mood.no_prev")
		}
		lines = append(lines, line)
	} else {
		lines = append(lines, say(lang, "mood.none_week"))
	}
	lines = append(lines, say(lang, "mood.exercises", "{n}", strconv.Itoa(h.exercisesThisWeek)))
	if weekly {
		_, week := now.ISOWeek()
		lines = append(lines, closings[week%len(closings)][langOf(lang)])
	}
	return strings.Join(lines, "\n")
}

func mean(xs []int) float64 {
	sum := 0
	for _, x := range xs {
		sum += x
	}
	return float64(sum) / float64(len(xs))
}
