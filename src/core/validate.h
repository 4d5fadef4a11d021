/* Validators for the identifiers of the French health system. Pure functions, no I/O.
 *
 * Each takes a pointer and an explicit length (input need not be NUL-terminated), accepts
 * only the canonical form (no spaces, upper-case letters), and returns TP_OK or
 * TP_ERR_INVALID with a short reason in msg (never echoing the input). */
#ifndef TP_CORE_VALIDATE_H
#define TP_CORE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TP_NIR_LEN 15   /* 13 characters + 2-digit key */
#define TP_RPPS_LEN 11
#define TP_FINESS_LEN 9
#define TP_AMC_LEN 9
#define TP_IBAN_MAX 34

/* NIR key of the 13 first characters: 97 - (number mod 97), where "2A" is read as 19 and
 * "2B" as 18 at the department position (characters 6-7) only. Returns -1 when the 13
 * characters are not a well-formed NIR body. */
int tp_nir_key(const char *nir13);

/* A 15-character NIR: sex 1/2 (also 3/4/7/8 for provisional numbers), year, month 01-12 or
 * 20-42/50-99 (unknown month conventions), department 01-99/2A/2B, commune, order, key. */
enum tp_err tp_nir_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* RPPS: 11 digits, Luhn check over all 11. */
enum tp_err tp_rpps_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* FINESS: 9 characters, department (2 digits, or 2A/2B), then digits, Luhn key on the last
 * one (2A/2B counted as 20 for the key). */
enum tp_err tp_finess_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* AMC number: exactly 9 digits, not all zeros. */
enum tp_err tp_amc_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* IBAN (ISO 13616): 2 letters, 2 check digits, 11-30 alphanumerics, mod 97 == 1; the length
 * must match the country where known (FR and MC: 27). */
enum tp_err tp_iban_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* BIC (ISO 9362): 8 or 11 characters, 4 letters bank, 2 letters country, 2 alnum location,
 * optional 3 alnum branch. */
enum tp_err tp_bic_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* Member number as printed on the tiers-payant card: 1-20 characters [0-9A-Z]. */
enum tp_err tp_member_check(const char *s, size_t len, char *msg, size_t msglen) TP_MUST_USE;

/* Computes the Luhn check digit ('0'..'9') for the n digits in s. */
char tp_luhn_digit(const char *s, size_t n);

/* Computes the 2 IBAN check digits for country cc (2 letters) and BBAN into out[2]. */
enum tp_err tp_iban_make(const char cc[2], const char *bban, size_t bban_len, char *out,
                         size_t outlen) TP_MUST_USE;

#endif
