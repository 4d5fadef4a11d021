/* Civil dates as days since 1970-01-01, proleptic Gregorian calendar.
 *
 * The conversions are Howard Hinnant's days_from_civil / civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html): they shift the year to start on
 * 1 March so that the leap day is the last day of the shifted year, then count whole
 * 400-year eras (146097 days each). Exact for every year, no month table, no libc
 * time function (which would drag in the time zone). */
#include "core/date.h"

#include <assert.h>

#define YEAR_MIN 1900
#define YEAR_MAX 2099

/* 2099-12-31 = 130 * 365 + 32 leap days - 1. date.h's TP_DAY_MAX reads 47482, which is
 * 2100-01-01; this file uses the calendar's value so that it stays right whichever way the
 * header is corrected. */
#define DAY_LAST ((tp_day)47481)

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    assert(m >= 1 && m <= 12);
    return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* days_from_civil for any (y, m, d) with 1 <= m <= 12; 64-bit so that callers may probe
 * years outside the supported range (tp_date_add_months) without overflow. */
static int64_t civil_to_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;                                   /* [0, 399] */
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468; /* 719468: days from 0000-03-01 to 1970-01-01 */
}

bool tp_date_valid(int y, int m, int d)
{
    if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12 || d < 1)
        return false;
    return d <= days_in_month(y, m);
}

tp_day tp_date_from_ymd(int y, int m, int d)
{
    assert(tp_date_valid(y, m, d));
    return (tp_day)civil_to_days(y, m, d);
}

/* civil_from_days. Defined for every tp_day, not only the supported range, so that a
 * corrupted value read back from storage still yields a (wrong but harmless) date. */
void tp_date_to_ymd(tp_day day, int *y, int *m, int *d)
{
    const int64_t z = (int64_t)day + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    const int64_t mp = (5 * doy + 2) / 153; /* [0, 11], 0 = March */
    const int mm = (int)(mp < 10 ? mp + 3 : mp - 9);

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = mm;
    *y = (int)(yoe + era * 400 + (mm <= 2));
}

/* Two ASCII digits at s as 0..99, or -1. */
static int two_digits(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Exactly "YYYY-MM-DD": no sign, no spaces, no single-digit month or day, no time part.
 * One accepted spelling per date keeps stored and signed values canonical. */
enum tp_err tp_date_parse(const char *s, size_t len, tp_day *out)
{
    if (!s || len != 10 || s[4] != '-' || s[7] != '-')
        return TP_ERR_INVALID;
    const int hi = two_digits(s), lo = two_digits(s + 2);
    const int m = two_digits(s + 5), d = two_digits(s + 8);
    if (hi < 0 || lo < 0 || m < 0 || d < 0)
        return TP_ERR_INVALID;
    const int y = hi * 100 + lo;
    if (!tp_date_valid(y, m, d))
        return TP_ERR_INVALID;
    *out = tp_date_from_ymd(y, m, d);
    return TP_OK;
}

/* Written by hand rather than with snprintf: the output is fixed-width by construction. A
 * day outside years 0000-9999 (never produced by this module, but a tp_day is a plain
 * integer) is clamped so that the 11 bytes are never exceeded. */
void tp_date_format(tp_day day, char buf[11])
{
    static const int64_t first = -719528; /* 0000-01-01 */
    static const int64_t last = 2932896;  /* 9999-12-31 */
    assert(civil_to_days(0, 1, 1) == first && civil_to_days(9999, 12, 31) == last);
    if (day < first)
        day = (tp_day)first;
    if (day > last)
        day = (tp_day)last;
    int y, m, d;
    tp_date_to_ymd(day, &y, &m, &d);
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
}

/* Whole years: the birthday counts from its own day. Someone born on 29 February becomes a
 * year older on 1 March in common years (the day after 28 February), which is how French
 * civil law counts majority. Negative when `on` precedes `birth`. */
int tp_date_age(tp_day birth, tp_day on)
{
    int by, bm, bd, oy, om, od;
    tp_date_to_ymd(birth, &by, &bm, &bd);
    tp_date_to_ymd(on, &oy, &om, &od);
    int age = oy - by;
    if (om < bm || (om == bm && od < bd))
        age--;
    return age;
}

/* Month arithmetic on (year * 12 + month) in 64 bits, so any int n is safe. Jan 31 + 1
 * month is the last day of February: rights and contracts that run "n months" end inside
 * the target month, never spill into the next one. A result outside 1900-01-01..2099-12-31
 * saturates to 1900-01-01 / 2099-12-31 (an open-ended period stays open-ended). */
tp_day tp_date_add_months(tp_day day, int n)
{
    int y, m, d;
    tp_date_to_ymd(day, &y, &m, &d);
    const int64_t months = (int64_t)y * 12 + (m - 1) + n;
    const int64_t ny = months >= 0 ? months / 12 : -((-months + 11) / 12);
    const int nm = (int)(months - ny * 12) + 1;
    if (ny < YEAR_MIN)
        return TP_DAY_MIN;
    if (ny > YEAR_MAX)
        return DAY_LAST;
    const int last = days_in_month((int)ny, nm);
    return (tp_day)civil_to_days(ny, nm, d < last ? d : last);
}
