// Package privacy is the part of Stilstaan that lets a person control what is
// kept about them, and keeps it unreadable to anyone else.
//
//   - Sealer encrypts at rest: every person gets their own random data key,
//     stored in people.data_key only wrapped by the master key from the
//     configuration (keyring envelope encryption); everything they write is
//     sealed with it (AES-256-GCM). SystemCipher seals rows that belong to
//     nobody yet (the Telegram inbox). Rotate re-wraps every data key under a
//     new master key.
//   - Privacy adds the commands /privacy (what is stored, where, how, who can
//     read it, and the consent switch), /export (everything about the person
//     as a JSON file and a readable text file) and /delete (erase the person
//     after a confirmation button), plus a hook that keeps the consent history
//     and the time of the person's last input.
//   - Retention warns people who have been away for a long time and then
//     erases them the same way /delete does.
//
// Logs written here carry ids and counts only: never what a person wrote,
// their name, tokens or keys.
package privacy
