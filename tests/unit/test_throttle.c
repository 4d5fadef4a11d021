/* Login throttling (CNIL 2022-100): growing delay after 5 failures, at most 25 per 24 h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/throttle.h"

static void five_failures_are_free(void **state)
{
    (void)state;
    struct tp_login_failures f = {0};
    int64_t t = 1000000;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(tp_throttle_wait_ms(&f, t), 0);
        tp_throttle_failed(&f, t);
        t += 10;
    }
    /* After the 5th failure: wait 1 s, then 2 s after the 6th, 4 s after the 7th. */
    assert_int_equal(tp_throttle_wait_ms(&f, t), 1000 - 10);
    assert_int_equal(tp_throttle_wait_ms(&f, t - 10 + 1000), 0);
    tp_throttle_failed(&f, t + 1000);
    assert_int_equal(tp_throttle_wait_ms(&f, t + 1000), 2000);
    tp_throttle_failed(&f, t + 3000);
    assert_int_equal(tp_throttle_wait_ms(&f, t + 3000), 4000);
}

static void twenty_five_failures_lock_for_the_window(void **state)
{
    (void)state;
    struct tp_login_failures f = {0};
    int64_t t0 = 5000000, t = t0;
    for (int i = 0; i < 25; i++) {
        t += tp_throttle_wait_ms(&f, t);
        tp_throttle_failed(&f, t);
    }
    assert_int_equal(f.count, 25);
    /* Locked until 24 h after the first failure, whatever the delays. */
    assert_int_equal(tp_throttle_wait_ms(&f, t + 1), t0 + TP_THROTTLE_WINDOW_MS - (t + 1));
    assert_int_equal(tp_throttle_wait_ms(&f, t0 + TP_THROTTLE_WINDOW_MS), 0);
    /* A failure after the window starts a new one. */
    tp_throttle_failed(&f, t0 + TP_THROTTLE_WINDOW_MS);
    assert_int_equal(f.count, 1);
}

static void delay_is_capped(void **state)
{
    (void)state;
    struct tp_login_failures f = {.first_ms = 0, .last_ms = 0, .count = 24};
    assert_true(tp_throttle_wait_ms(&f, 1) <= TP_THROTTLE_MAX_DELAY_MS);
}

static void success_clears(void **state)
{
    (void)state;
    struct tp_login_failures f = {0};
    for (int i = 0; i < 7; i++)
        tp_throttle_failed(&f, 100 + i);
    assert_true(tp_throttle_wait_ms(&f, 110) > 0);
    tp_throttle_succeeded(&f);
    assert_int_equal(tp_throttle_wait_ms(&f, 110), 0);
}

static void gcra_rate_and_burst(void **state)
{
    (void)state;
    int64_t tat = 0, t = 10000;
    /* 1 per 1000 ms, burst 3: three at once, then one per second. */
    assert_int_equal(tp_gcra(&tat, t, 1000, 3), 0);
    assert_int_equal(tp_gcra(&tat, t, 1000, 3), 0);
    assert_int_equal(tp_gcra(&tat, t, 1000, 3), 0);
    assert_int_equal(tp_gcra(&tat, t, 1000, 3), 1000);
    assert_int_equal(tp_gcra(&tat, t + 999, 1000, 3), 1);
    assert_int_equal(tp_gcra(&tat, t + 1000, 1000, 3), 0);
    /* 10,000 attempts in 100 s at most let through burst + 100. */
    int64_t tat2 = 0;
    int allowed = 0;
    for (int i = 0; i < 10000; i++)
        allowed += tp_gcra(&tat2, i * 10, 1000, 20) == 0;
    assert_in_range(allowed, 100, 121);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(five_failures_are_free),
        cmocka_unit_test(twenty_five_failures_lock_for_the_window),
        cmocka_unit_test(delay_is_capped),
        cmocka_unit_test(success_clears),
        cmocka_unit_test(gcra_rate_and_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
