/* The server's clock, real or scaled (clock.h). */
#include "http/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Set once before the threads start; atomics keep the reads well-defined anyway. */
static atomic_long speed;      /* 0: real time */
static _Atomic int64_t start;  /* simulated ms at real_origin */
static _Atomic int64_t origin; /* real ms */

int64_t tp_clock_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tp_clock_now_ms(void)
{
    int64_t real = tp_clock_real_ms();
    long k = atomic_load_explicit(&speed, memory_order_relaxed);
    if (k == 0)
        return real;
    return atomic_load_explicit(&start, memory_order_relaxed) +
           (int64_t)k * (real - atomic_load_explicit(&origin, memory_order_relaxed));
}

int tp_clock_is_simulation(const char *data_dir)
{
    char path[1100], line[256];
    if (snprintf(path, sizeof path, "%s/%s", data_dir, TP_CLOCK_MARKER_FILE) >= (int)sizeof path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok)
        return 0;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, TP_CLOCK_MARKER_LINE) == 0;
}

enum tp_err tp_clock_enable_scaled(const char *data_dir, long k, int64_t start_ms,
                                   int64_t real_origin_ms, char *msg, size_t msglen)
{
    if (k < 1 || k > TP_CLOCK_SPEED_MAX)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "the clock speed must be 1 to %d",
                       TP_CLOCK_SPEED_MAX);
    /* A platform of real people must never see a fake clock: detection windows, session
     * timeouts and TOTP validity would all be off by the factor. */
    if (!tp_clock_is_simulation(data_dir))
        return tp_fail(msg, msglen, TP_ERR_FORBIDDEN,
                       "%s is not a simulation platform (no %s/%s marker written by opentp "
                       "simulate): a scaled clock is refused",
                       data_dir, data_dir, TP_CLOCK_MARKER_FILE);
    int64_t now = tp_clock_real_ms();
    atomic_store(&origin, real_origin_ms < 0 ? now : real_origin_ms);
    atomic_store(&start, start_ms < 0 ? now : start_ms);
    atomic_store(&speed, k);
    return TP_OK;
}
