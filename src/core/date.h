/* Civil dates as a count of days since 1970-01-01 (proleptic Gregorian).
 *
 * A tp_day is a plain int32: comparisons and differences are integer operations, and no
 * function here reads a clock or the time zone (the shell passes "today" in). */
#ifndef TP_CORE_DATE_H
#define TP_CORE_DATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

typedef int32_t tp_day;

#define TP_DAY_MIN ((tp_day)-25567) /* 1900-01-01 */
#define TP_DAY_MAX ((tp_day)47481) /* 2099-12-31 */

/* True when (y, m, d) is a real calendar date between 1900-01-01 and 2099-12-31. */
bool tp_date_valid(int y, int m, int d);

/* Days since 1970-01-01 of a valid date. Precondition: tp_date_valid(y, m, d). */
tp_day tp_date_from_ymd(int y, int m, int d);

/* Inverse of tp_date_from_ymd. */
void tp_date_to_ymd(tp_day day, int *y, int *m, int *d);

/* Parses exactly "YYYY-MM-DD" (10 bytes, len given) into *out. TP_ERR_INVALID otherwise. */
enum tp_err tp_date_parse(const char *s, size_t len, tp_day *out) TP_MUST_USE;

/* Writes "YYYY-MM-DD" and a NUL into buf (at least 11 bytes). */
void tp_date_format(tp_day day, char buf[11]);

/* Age in whole years on `on` of someone born on `birth`. */
int tp_date_age(tp_day birth, tp_day on);

/* Adds n months, clamping the day to the end of the target month. */
tp_day tp_date_add_months(tp_day day, int n);

#endif
