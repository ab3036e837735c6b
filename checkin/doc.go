// Package checkin is the daily check-in and the mood history of Stilstaan.
//
// A person chooses a time of day and a time zone (/checkin); at that local
// time the Scheduler starts the hidden exercise "checkin" (mood 1-5, the
// strongest feeling, an optional note), opened by the theme of the day, one of
// the ten themes of exercise 3, rotating per person per day. Those who want
// it get an evening question about the theme ("checkin_evening"), and once a
// week a picture of their mood and of how strong their feelings were before
// and after exercises (/mood shows it on demand).
//
// Postgres is the only state. The settings and the next due times are rows of
// checkin_schedules; any replica's Scheduler claims due rows (FOR UPDATE SKIP
// LOCKED, with a short lease so that no lock is held while turns run) and
// starts each check-in as a conversation turn whose source names the person
// and the local day, so the spine's deduplication makes it happen exactly
// once, across replicas and restarts. The turn itself moves the row to the
// next due time, in the same transaction.
//
// Finished check-ins are recorded in checkins and finished exercises (their
// scale answers, numbers only) in exercise_runs, by hooks inside the turn that
// finished them.
package checkin
