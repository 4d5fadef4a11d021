/* Time-based one-time passwords: the second factor of PS, insurer and operator accounts
 * (PRODUCT.md §5: CNIL délibération 2025-019, ANS PGSSI-S EXI 22; codes not replayable).
 *
 * RFC 6238 TOTP over RFC 4226 HOTP: HMAC-SHA1 (OpenSSL), 30-second steps counted from the Unix
 * epoch, 6 digits, dynamic truncation. These are the parameters every authenticator app
 * (FreeOTP, Aegis, Google Authenticator...) uses by default, and the only ones the enrolment
 * URI announces; tp_totp_code accepts other lengths only for the RFC test vectors.
 *
 * Replay: a step, once used to log in, is stored by the caller (last_used_step) and no code
 * of that step or an earlier one is ever accepted again for that account. The caller must
 * store the new step in the same transaction that accepts the login (compare-and-set on
 * last_used_step), or two concurrent logins with the same code could both pass.
 *
 * Secrets are plain byte arrays owned by the caller; whoever holds one should keep it in
 * sodium_malloc'd memory (or wipe it with sodium_memzero) and never log it, nor the URI or
 * the QR code, which both contain it. No function here logs anything.
 *
 * Thread-safety: every function is reentrant (no global state; OpenSSL 3 and libsodium are
 * thread-safe once initialised; Debian's libqrencode is built with pthread support, which
 * makes QRcode_encodeString thread-safe). */
#ifndef TP_SECURITY_TOTP_H
#define TP_SECURITY_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TP_TOTP_SECRET_LEN 20 /* 160 bits: RFC 4226 §4 R6 recommends it */
#define TP_TOTP_SECRET_MIN 16 /* 128 bits: RFC 4226 §4 R6 minimum, enforced by verify */
#define TP_TOTP_SECRET_MAX 64 /* HMAC-SHA1 block size; a longer key would be hashed first */
#define TP_TOTP_PERIOD 30     /* seconds per step (RFC 6238 §5.2 recommended value) */
#define TP_TOTP_DIGITS 6
#define TP_TOTP_WINDOW 1 /* steps accepted either side of the current one (clock drift) */

/* Base32 text of a TP_TOTP_SECRET_MAX secret, plus NUL: ceil(64 * 8 / 5) + 1. */
#define TP_TOTP_BASE32_MAX 104
/* Caps of tp_totp_uri: issuer and account in bytes before escaping; whole URI with NUL. */
#define TP_TOTP_LABEL_MAX 64
#define TP_TOTP_URI_MAX 1024

/* Returned by tp_totp_code when HMAC fails: never a valid code (≥ 10^digits). */
#define TP_TOTP_CODE_ERROR UINT32_MAX

/* Fills secret with 160 bits from libsodium's CSPRNG (randombytes_buf). Aborts if libsodium
 * cannot initialise: there is no safe fallback for a secret. */
void tp_totp_secret_new(uint8_t secret[TP_TOTP_SECRET_LEN]);

/* RFC 4226 HOTP value for counter `step` (RFC 6238: step = floor(unix_time / 30)): HMAC-SHA1
 * of the big-endian counter, dynamic truncation (§5.3), modulo 10^digits. secret may be empty
 * (len 0) but not NULL; len ≤ TP_TOTP_SECRET_MAX is expected but not required (the RFC allows
 * any length; HMAC hashes a long key first). digits must be 1 to 9 (asserted). Returns
 * TP_TOTP_CODE_ERROR if OpenSSL fails. The result is a secret: wipe it after use. */
uint32_t tp_totp_code(const uint8_t *secret, size_t len, uint64_t step, int digits);

/* Step of a Unix time: floor(now_unix / TP_TOTP_PERIOD); -1 for a time before the epoch. */
int64_t tp_totp_step(int64_t now_unix);

/* Checks a 6-digit code typed by a user at now_unix against steps current-1, current and
 * current+1 (TP_TOTP_WINDOW). A step ≤ last_used_step is never accepted (no replay: the same
 * code twice, or an older code after a newer one); pass -1 when no code was ever used. The
 * code must be exactly 6 ASCII digits (code may be NULL when code_len is 0); the caller strips
 * spaces if its form allows them. The candidates are all computed and compared in constant
 * time (sodium_memcmp, no early exit); if more than one matches (a 10^-6 coincidence), the
 * latest step is taken, so that replay protection covers all of them.
 *
 * Returns TP_OK and sets *matched_step (which the caller stores as the new last_used_step);
 * TP_ERR_AUTH for a wrong, malformed, replayed or out-of-window code (*matched_step
 * untouched); TP_ERR_INVALID if len is outside [TP_TOTP_SECRET_MIN, TP_TOTP_SECRET_MAX] (a
 * caller's bug: a short secret would be guessable); TP_ERR_CRYPTO if OpenSSL fails. */
enum tp_err tp_totp_verify(const uint8_t *secret, size_t len, const char *code, size_t code_len,
                           int64_t now_unix, int64_t last_used_step,
                           int64_t *matched_step) TP_MUST_USE;

/* Length of the unpadded base32 text of len bytes: ceil(len * 8 / 5). */
size_t tp_base32_len(size_t len);

/* RFC 4648 §6 base32 (alphabet A-Z 2-7), without '=' padding, as authenticator apps expect.
 * Writes tp_base32_len(len) characters and a NUL into out. Returns TP_ERR_TOO_BIG (out set to
 * "" if outsize > 0) when outsize is too small. */
enum tp_err tp_base32_encode(const uint8_t *in, size_t len, char *out, size_t outsize) TP_MUST_USE;

/* Decodes RFC 4648 base32. Accepts lower case (people copy secrets by hand) and correct '='
 * padding; refuses any other character (spaces included), an impossible length and
 * non-canonical text whose unused trailing bits are not zero (§3.5), so that decoding is the
 * exact inverse of tp_base32_encode up to case and padding. Writes *outlen bytes into out.
 * Returns TP_ERR_INVALID for malformed text, TP_ERR_TOO_BIG if outsize is too small; on error
 * out is wiped and *outlen is 0. */
enum tp_err tp_base32_decode(const char *in, size_t len, uint8_t *out, size_t outsize,
                             size_t *outlen) TP_MUST_USE;

/* Enrolment URI (Google Authenticator "Key Uri Format"):
 *   otpauth://totp/{issuer}:{account}?secret={base32}&issuer={issuer}
 *       &algorithm=SHA1&digits=6&period=30
 * issuer and account are percent-encoded (RFC 3986: everything but ALPHA DIGIT - . _ ~, so a
 * space is %20, never '+'). Both must be 1 to TP_TOTP_LABEL_MAX bytes without control
 * characters nor ':' (the label separator, which the format forbids in either part): else
 * TP_ERR_INVALID, or TP_ERR_TOO_BIG when too long. The secret must be 1 to TP_TOTP_SECRET_MAX
 * bytes (TP_ERR_INVALID). Writes a NUL-terminated string into out (TP_TOTP_URI_MAX always
 * suffices); TP_ERR_TOO_BIG if outsize is too small. The URI contains the secret: on any error
 * out is wiped; on success the caller wipes it after use. */
enum tp_err tp_totp_uri(const char *issuer, const char *account, const uint8_t *secret, size_t len,
                        char *out, size_t outsize) TP_MUST_USE;

/* QR code of uri (libqrencode, error correction level M, byte mode) as a compact SVG: a white
 * background, one <path> of unit-high runs of dark modules, a 4-module quiet zone, and
 * viewBox="0 0 N N" with N = 21 + 4 * (version - 1) + 8, so it scales to any size. On TP_OK
 * *svg_out is a malloc'd NUL-terminated string of *len bytes (len may be NULL), owned by the
 * caller, who frees it (after sodium_memzero: it encodes the secret). Errors: TP_ERR_TOO_BIG
 * when uri is TP_TOTP_URI_MAX bytes or longer or does not fit a QR code, TP_ERR_INVALID for an
 * empty uri, TP_ERR_NOMEM. */
enum tp_err tp_totp_qr_svg(const char *uri, char **svg_out, size_t *len) TP_MUST_USE;

#endif
