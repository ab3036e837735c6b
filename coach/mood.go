package coach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stilstaan/stilstaan/charts"
	"github.com/stilstaan/stilstaan/checkin"
)

// The conversation view shows the person's check-in moods (package checkin,
// tables checkins and exercise_runs) as the same weekly picture the person
// gets, over the last six weeks, drawn in the coach's language.

// moodWeeks is how far back the picture looks.
const moodWeeks = 6

// moodCount is how many check-ins with a mood the person has in the range.
func (t *Team) moodCount(ctx context.Context, personID int64, from, to time.Time) (int, error) {
	var n int
	err := t.db.Pool().QueryRow(ctx, `SELECT count(*) FROM checkins WHERE person_id = $1 AND at >= $2 AND at < $3 AND mood IS NOT NULL`,
		personID, from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("coach: count check-ins: %w", err)
	}
	return n, nil
}

// moodRange is the picture's range: six weeks up to the end of today in the
// person's time zone (their check-in zone, else the team's).
func (t *Team) moodRange(ctx context.Context, personID int64) (from, to time.Time, err error) {
	loc := t.cfg.Location
	var zone string
	err = t.db.Pool().QueryRow(ctx, `SELECT zone FROM checkin_schedules WHERE person_id = $1`, personID).Scan(&zone)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return time.Time{}, time.Time{}, fmt.Errorf("coach: check-in zone: %w", err)
	default:
		if l, lerr := time.LoadLocation(zone); lerr == nil {
			loc = l
		}
	}
	local := t.now().In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	return today.AddDate(0, 0, 1-7*moodWeeks), today.AddDate(0, 0, 1), nil
}

// moodWeekly reads what the picture shows.
func (t *Team) moodWeekly(ctx context.Context, personID int64, lang string) (charts.Weekly, error) {
	from, to, err := t.moodRange(ctx, personID)
	if err != nil {
		return charts.Weekly{}, err
	}
	w := charts.Weekly{Lang: lang, From: from, To: to}
	loc := from.Location()
	rows, err := t.db.Pool().Query(ctx, `SELECT mood, at FROM checkins
WHERE person_id = $1 AND at >= $2 AND at < $3 AND mood IS NOT NULL ORDER BY at`, personID, from, to)
	if err != nil {
		return w, fmt.Errorf("coach: read moods: %w", err)
	}
	w.Mood, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (charts.MoodPoint, error) {
		var mood int16
		var at time.Time
		err := r.Scan(&mood, &at)
		return charts.MoodPoint{At: at.In(loc), Mood: int(mood)}, err
	})
	if err != nil {
		return w, fmt.Errorf("coach: read moods: %w", err)
	}
	rows, err = t.db.Pool().Query(ctx, `SELECT exercise, ended_at, scales FROM exercise_runs
WHERE person_id = $1 AND ended_at >= $2 AND ended_at < $3 ORDER BY ended_at`, personID, from, to)
	if err != nil {
		return w, fmt.Errorf("coach: read exercise runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			exercise string
			at       time.Time
			raw      []byte
			scales   map[string]int
		)
		if err := rows.Scan(&exercise, &at, &raw); err != nil {
			return w, fmt.Errorf("coach: read exercise runs: %w", err)
		}
		if err := json.Unmarshal(raw, &scales); err != nil {
			return w, fmt.Errorf("coach: exercise run scales: %w", err)
		}
		before, okB := scales[checkin.StepBefore]
		after, okA := scales[checkin.StepAfter]
		if !okB || !okA || before < 0 || before > 10 || after < 0 || after > 10 {
			continue
		}
		w.Intensities = append(w.Intensities, charts.IntensityPair{At: at.In(loc), Exercise: t.exerciseTitle(exercise, lang), Before: before, After: after})
	}
	if err := rows.Err(); err != nil {
		return w, fmt.Errorf("coach: read exercise runs: %w", err)
	}
	return w, nil
}

// moodChart serves the picture of a flagged person's check-ins.
func (t *Team) moodChart(w http.ResponseWriter, r *http.Request, s *session) {
	f, ok := t.visibleFlag(w, r, s)
	if !ok {
		return
	}
	if err := t.audit(r.Context(), auditEntry{CoachID: s.Coach.ID, Action: actViewMood, FlagID: f.ID, PersonID: f.PersonID}); err != nil {
		t.fail(w, r, s, "audit", err)
		return
	}
	weekly, err := t.moodWeekly(r.Context(), f.PersonID, string(browserLang(r)))
	if err != nil {
		t.fail(w, r, s, "mood", err)
		return
	}
	png, err := charts.RenderWeekly(weekly)
	if err != nil {
		t.fail(w, r, s, "mood chart", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}
