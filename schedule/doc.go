// Package schedule does the local-time arithmetic for daily and weekly
// check-ins: when the next one is, whether one is due now, and which local day
// it belongs to. It is pure (no clock, no database); callers pass the times.
//
// Daylight saving time is handled with one rule: a check-in set for hh:mm fires
// at the earliest instant of its local day at which the wall clock shows hh:mm
// or later. So
//
//   - on a normal day it fires exactly at hh:mm;
//   - when the clock springs forward over hh:mm (02:30 on 29 March 2026 in
//     Amsterdam), it fires at the moment of the jump, 03:00 local time, which is
//     the first moment the clock has passed the time the person chose. Firing
//     at 03:30 instead ("shift by the gap") would send it later than any clock
//     the person looked at ever said;
//   - when the clock falls back and shows hh:mm twice (02:30 on 25 October 2026
//     in Amsterdam), it fires once, at the first occurrence;
//   - in the rare zone where a transition skips the end of a day so that the
//     clock never reaches hh:mm before midnight, that day has no check-in.
//
// The package imports time/tzdata, so zones load the same on machines without
// system time zone data (about 450 KB in the binary).
package schedule
