// Package keyring encrypts what people write with envelope encryption, so that
// deleting one small key makes a person's stored data unreadable
// (crypto-shredding).
//
// Every person gets a random 256-bit DataKey. Their messages are sealed with it
// (AES-256-GCM), and the data key itself is stored only wrapped (encrypted)
// under a MasterKey that comes from configuration and never touches the
// database. Forgetting a person is then a matter of deleting their wrapped
// data key: every ciphertext sealed under it becomes noise, including copies in
// backups.
//
// Formats, all little and versioned so they can change later:
//
//	sealed:  0x01 | nonce (12) | GCM ciphertext+tag          GCM AAD = 0x01 | aad
//	wrapped: 0x01 | master id (4) | nonce (12) | GCM(32-byte data key)+tag
//	                                                          GCM AAD = 0x01 | id | aad
//
// The header is part of the authenticated data, so changing any byte of a blob,
// or presenting it with a different aad (for example another person's id),
// fails with ErrTampered instead of yielding garbage.
//
// A Ring holds the current master key plus previous ones so that the master key
// can be rotated: blobs name the master key that wrapped them (WrappedBy), Ring
// unwraps with the matching key and Rewrap moves a blob to the current key.
//
// Keys never leave this package in printable form by accident: MasterKey and
// DataKey redact themselves in fmt and log/slog output; only MasterKey.Encode
// deliberately produces the secret text, for writing a key file.
package keyring
