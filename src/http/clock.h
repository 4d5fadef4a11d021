/* The server's clock: real time, or — on a simulation platform only — a scaled clock that runs
 * K times faster than real time, so that `opentp simulate` can replay a working day in
 * minutes against the real server (detection windows, session timeouts, TOTP and dates all
 * follow it).
 *
 *   simulated_ms = start_ms + K x (real_ms - real_origin_ms)
 *
 * A production platform must never run on a fake clock: tp_clock_enable_scaled refuses unless
 * the data directory holds the marker file that `opentp simulate` writes when it creates a
 * platform of synthetic people (DIR/SIMULATION, first line TP_CLOCK_MARKER_LINE).
 *
 * Thread-safety: configure once, before the server's threads start; reading is then
 * lock-free. */
#ifndef TP_HTTP_CLOCK_H
#define TP_HTTP_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define TP_CLOCK_MARKER_FILE "SIMULATION"
#define TP_CLOCK_MARKER_LINE "opentp simulation platform: synthetic data, scaled clock allowed"
#define TP_CLOCK_SPEED_MAX 3600

/* Milliseconds since the Unix epoch: CLOCK_REALTIME, or the scaled clock once enabled. */
int64_t tp_clock_now_ms(void);

/* Real CLOCK_REALTIME milliseconds, whatever the configuration. */
int64_t tp_clock_real_ms(void);

/* Switches to the scaled clock. speed: 1..TP_CLOCK_SPEED_MAX. start_ms: the simulated time at
 * real instant real_origin_ms (both Unix ms; pass -1 for "now"). Refuses (TP_ERR_INVALID,
 * reason in msg) a speed out of range, and (TP_ERR_FORBIDDEN) a data directory without the
 * simulation marker. */
enum tp_err tp_clock_enable_scaled(const char *data_dir, long speed, int64_t start_ms,
                                   int64_t real_origin_ms, char *msg, size_t msglen) TP_MUST_USE;

/* 1 when data_dir holds the simulation marker (the file and its first line). */
int tp_clock_is_simulation(const char *data_dir);

#endif
