#include "core/throttle.h"

int64_t tp_throttle_wait_ms(const struct tp_login_failures *f, int64_t now_ms)
{
    if (f->count == 0 || now_ms - f->first_ms >= TP_THROTTLE_WINDOW_MS)
        return 0; /* no failure, or the window is over */
    if (f->count >= TP_THROTTLE_MAX_FAILURES)
        return f->first_ms + TP_THROTTLE_WINDOW_MS - now_ms; /* locked for the window */
    if (f->count < TP_THROTTLE_FREE_FAILURES)
        return 0;
    int shift = f->count - TP_THROTTLE_FREE_FAILURES; /* 0.. */
    int64_t delay = shift >= 20 ? TP_THROTTLE_MAX_DELAY_MS : (int64_t)1000 << shift;
    if (delay > TP_THROTTLE_MAX_DELAY_MS)
        delay = TP_THROTTLE_MAX_DELAY_MS;
    int64_t ready = f->last_ms + delay;
    return ready > now_ms ? ready - now_ms : 0;
}

void tp_throttle_failed(struct tp_login_failures *f, int64_t now_ms)
{
    if (f->count == 0 || now_ms - f->first_ms >= TP_THROTTLE_WINDOW_MS) {
        f->first_ms = now_ms;
        f->count = 0;
    }
    f->count++;
    f->last_ms = now_ms;
}

void tp_throttle_succeeded(struct tp_login_failures *f)
{
    f->count = 0;
    f->first_ms = f->last_ms = 0;
}

int64_t tp_gcra(int64_t *tat, int64_t now_ms, int64_t interval_ms, int32_t burst)
{
    int64_t t = *tat > now_ms ? *tat : now_ms;
    int64_t tolerance = interval_ms * (burst > 0 ? burst - 1 : 0);
    if (t - now_ms > tolerance)
        return t - now_ms - tolerance;
    *tat = t + interval_ms;
    return 0;
}
