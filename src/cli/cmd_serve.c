#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/log.h"

#include "cli/cli.h"
#include "http/clock.h"
#include "http/http.h"
#include "http/switches.h"
#include "security/detect_state.h"
#include "security/password_list.h"
#include "security/worker_pool.h"
#include "store/claims.h"

#ifndef TP_DATA_DIR
#define TP_DATA_DIR "data"
#endif

static void job_done(void *arg, enum tp_job_status status)
{
    (void)arg, (void)status; /* the job itself resumes its connection */
}

/* tp_offload_fn over the worker pool. */
static enum tp_err offload(void *pool, void (*fn)(void *), void *arg)
{
    return tp_worker_pool_submit(pool, fn, job_done, arg);
}

static const char *serve_help =
    "usage: opentp serve [--data DIR] [--listen ADDR:PORT] [--threads N]\n"
    "                    [--access-log FILE|-|off] [--port-file F] [--exit-after SECONDS]\n"
    "                    [--max-per-ip N] [--banner] [--session-idle-minutes N]\n"
    "                    [--session-max-hours N] [--cookie-secure] [--hash-threads N]\n"
    "                    [--common-passwords FILE] [--login-ip-interval-ms N]\n"
    "                    [--login-ip-burst N] [--audit-retention-days N]\n"
    "                    [--detect-config FILE] [--detection on|off]\n"
    "                    [--clock-speed K [--clock-start MS] [--clock-real MS]]\n"
    "Serves the HTTP API. --listen 127.0.0.1:0 picks a free port (see --port-file).\n"
    "--clock-speed: simulated ms = MS + K x (real ms - real MS), K 1..3600, only on a\n"
    "platform created by opentp simulate (DIR/SIMULATION); refused anywhere else.\n";

/* The detection thresholds (docs/DETECTION.md): the file, or a clear refusal to start. */
static int load_detection(const char *path, struct tp_detect_state **out)
{
    char msg[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        tp_cli_error("serve", "cannot read the detection thresholds %s", path);
        return TP_EXIT_FAIL;
    }
    static char text[64 * 1024];
    size_t n = fread(text, 1, sizeof text, f);
    int too_big = n == sizeof text;
    fclose(f);
    if (too_big) {
        tp_cli_error("serve", "%s: larger than 64 KiB", path);
        return TP_EXIT_FAIL;
    }
    struct tp_detect_config cfg;
    if (tp_detect_config_parse(text, n, &cfg, msg, sizeof msg) != TP_OK ||
        tp_detect_state_new(&cfg, out, msg, sizeof msg) != TP_OK) {
        tp_cli_error("serve", "%s: %s", path, msg);
        return TP_EXIT_FAIL;
    }
    return TP_EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"listen", required_argument, NULL, 'l'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"access-log", required_argument, NULL, 'a'},
                                         {"port-file", required_argument, NULL, 'p'},
                                         {"exit-after", required_argument, NULL, 'x'},
                                         {"max-per-ip", required_argument, NULL, 'i'},
                                         {"banner", no_argument, NULL, 'b'},
                                         {"session-idle-minutes", required_argument, NULL, 'I'},
                                         {"session-max-hours", required_argument, NULL, 'M'},
                                         {"cookie-secure", no_argument, NULL, 'S'},
                                         {"hash-threads", required_argument, NULL, 'H'},
                                         {"common-passwords", required_argument, NULL, 'C'},
                                         {"login-ip-interval-ms", required_argument, NULL, 'L'},
                                         {"login-ip-burst", required_argument, NULL, 'B'},
                                         {"audit-retention-days", required_argument, NULL, 'R'},
                                         {"detect-config", required_argument, NULL, 'D'},
                                         {"detection", required_argument, NULL, 'E'},
                                         {"bench-without-access-log", no_argument, NULL, 'W'},
                                         {"clock-speed", required_argument, NULL, 'K'},
                                         {"clock-start", required_argument, NULL, 'T'},
                                         {"clock-real", required_argument, NULL, 'O'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = TP_DEFAULT_DATA, *listen = "127.0.0.1:8080", *alog = "-";
    const char *common_path = TP_DATA_DIR "/common-passwords.txt";
    const char *detect_path = TP_DATA_DIR "/detect.conf";
    int detection = 1; /* off only for load tests of one token (see docs/DETECTION.md) */
    int without_log = 0; /* benchmarks only: see tp_store_discard_events */
    long idle_min = 15, max_hours = 12, hash_threads = 1, ip_interval = 0, ip_burst = 0;
    long retention_days = 365; /* CNIL 2021-122: 6 months to 1 year, up to 3 years */
    int cookie_secure = 0;
    long clock_speed = -1; /* -1: real time */
    long long clock_start = -1, clock_real = -1;
    struct tp_server_config cfg;
    tp_server_config_defaults(&cfg);
    char addr[64];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case 't':
            cfg.threads = (unsigned)atoi(optarg);
            break;
        case 'a':
            alog = optarg;
            break;
        case 'p':
            cfg.port_file = optarg;
            break;
        case 'x':
            cfg.exit_after_s = (unsigned)atoi(optarg);
            break;
        case 'i':
            cfg.max_per_ip = (unsigned)atoi(optarg);
            break;
        case 'I':
            idle_min = atol(optarg);
            break;
        case 'M':
            max_hours = atol(optarg);
            break;
        case 'S':
            cookie_secure = 1;
            break;
        case 'H':
            hash_threads = atol(optarg);
            break;
        case 'C':
            common_path = optarg;
            break;
        case 'L':
            ip_interval = atol(optarg);
            break;
        case 'B':
            ip_burst = atol(optarg);
            break;
        case 'R':
            retention_days = atol(optarg);
            break;
        case 'D':
            detect_path = optarg;
            break;
        case 'W':
            without_log = 1;
            break;
        case 'E':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                tp_cli_error("serve", "--detection is on or off");
                return TP_EXIT_USAGE;
            }
            detection = strcmp(optarg, "on") == 0;
            break;
        case 'K':
            clock_speed = atol(optarg);
            break;
        case 'T':
            clock_start = atoll(optarg);
            break;
        case 'O':
            clock_real = atoll(optarg);
            break;
        case 'b':
            cfg.banner = 1;
            break;
        case 'h':
            fputs(serve_help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(serve_help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof addr) {
        tp_cli_error("serve", "--listen wants ADDR:PORT, e.g. 127.0.0.1:8080");
        return TP_EXIT_USAGE;
    }
    memcpy(addr, listen, (size_t)(colon - listen));
    addr[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) {
        tp_cli_error("serve", "bad port in --listen");
        return TP_EXIT_USAGE;
    }
    cfg.listen_addr = addr;
    cfg.port = (uint16_t)port;
    if (clock_speed != -1) { /* simulations only (http/clock.h): refused on any other platform */
        char cmsg[512];
        if (tp_clock_enable_scaled(dir, clock_speed, clock_start, clock_real, cmsg, sizeof cmsg) !=
            TP_OK) {
            tp_cli_error("serve", "--clock-speed: %s", cmsg);
            return TP_EXIT_USAGE;
        }
        fprintf(stderr, "opentp: serve: scaled clock, %ldx real time (simulation platform)\n",
                clock_speed);
    }
    FILE *logf = NULL;
    if (strcmp(alog, "off") == 0)
        cfg.access_log = NULL;
    else if (strcmp(alog, "-") == 0)
        cfg.access_log = stderr;
    else {
        logf = fopen(alog, "a");
        if (!logf) {
            tp_cli_error("serve", "cannot open access log %s", alog);
            return TP_EXIT_FAIL;
        }
        setvbuf(logf, NULL, _IOFBF, 1 << 16);
        cfg.access_log = logf;
    }
    char banner[1100];
    snprintf(banner, sizeof banner, "%s/demo.txt", dir);
    cfg.banner_file = banner;

    struct tp_platform p;
    int rc = tp_platform_open(dir, &p, "serve");
    if (rc != TP_EXIT_OK) {
        if (logf)
            fclose(logf);
        return rc;
    }
    if (idle_min < 1 || idle_min > 24 * 60 || max_hours < 1 || max_hours > 24 * 7 ||
        hash_threads < 1 || hash_threads > 64) {
        tp_cli_error("serve", "bad session timeout or --hash-threads value");
        tp_platform_close(&p);
        return TP_EXIT_USAGE;
    }
    if (retention_days < 30 || retention_days > 3 * 366) {
        tp_cli_error("serve", "--audit-retention-days must be 30 to 1098 (CNIL: up to 3 years)");
        tp_platform_close(&p);
        return TP_EXIT_USAGE;
    }
    struct tp_audit_config acfg;
    tp_audit_config_default(&acfg);
    acfg.retention_ms = (int64_t)retention_days * 86400 * 1000;
    if (without_log) {
        char marker[1100];
        snprintf(marker, sizeof marker, "%s/BENCHMARK", dir);
        if (access(marker, F_OK) != 0) {
            tp_cli_error("serve", "--bench-without-access-log is for benchmark platforms only "
                                  "(%s does not exist)",
                         marker);
            tp_platform_close(&p);
            return TP_EXIT_USAGE;
        }
        fprintf(stderr, "opentp: serve: BENCHMARK PLATFORM: access events are NOT logged\n");
        tp_store_discard_events(p.store);
        rc = TP_EXIT_OK;
    } else {
        rc = tp_platform_open_audit(&p, &acfg, "serve");
    }
    if (rc != TP_EXIT_OK) {
        tp_platform_close(&p);
        if (logf)
            fclose(logf);
        return rc;
    }
    char msg[256];
    struct tp_password_list *common = NULL;
    if (tp_password_list_load(common_path, &common, msg, sizeof msg) != TP_OK) {
        tp_cli_error("serve", "%s", msg);
        tp_platform_close(&p);
        return TP_EXIT_FAIL;
    }
    /* The benefits engine's reference data, for claims and PECs (docs/CLAIMS.md). */
    struct tp_refdata *refdata = NULL;
    if (tp_claims_refdata_load(TP_DATA_DIR "/reference", &refdata, msg, sizeof msg) != TP_OK) {
        tp_cli_error("serve", "%s", msg);
        tp_password_list_free(common);
        tp_platform_close(&p);
        return TP_EXIT_FAIL;
    }
    tp_claims_set_refdata(refdata);
    /* argon2id runs here, never on the HTTP threads; the queue bound is the back-pressure
     * that turns a login flood into quick 503s instead of slower rights checks. */
    struct tp_worker_pool *pool = NULL;
    if (tp_worker_pool_new((unsigned)hash_threads, 256, &pool, msg, sizeof msg) != TP_OK) {
        tp_cli_error("serve", "%s", msg);
        tp_password_list_free(common);
        tp_platform_close(&p);
        free(refdata);
        return TP_EXIT_FAIL;
    }
    struct tp_app app = {.store = p.store,
                         .keys = p.keys,
                         .offload = offload,
                         .offload_pool = pool,
                         .auth = tp_auth_state_new(),
                         .common_passwords = common,
                         .session_idle_ms = idle_min * 60 * 1000,
                         .session_max_ms = max_hours * 3600 * 1000,
                         .cookie_secure = cookie_secure,
                         .login_ip_interval_ms = ip_interval,
                         .login_ip_burst = (int32_t)ip_burst};
    app.data_dir = dir;
    app.switches = tp_switches_new(p.store);
    if (!detection)
        fprintf(stderr, "opentp: serve: WARNING: inline detection is OFF (--detection off): "
                        "a hijacked account would not be contained. For load tests only.\n");
    else if (load_detection(detect_path, &app.detect) != TP_EXIT_OK) {
        tp_worker_pool_shutdown(pool, TP_POOL_DRAIN);
        tp_worker_pool_free(pool);
        tp_auth_state_free(app.auth);
        tp_switches_free(app.switches);
        tp_password_list_free(common);
        tp_platform_close(&p);
        if (logf)
            fclose(logf);
        return TP_EXIT_FAIL;
    }
    rc = TP_EXIT_OK;
    if (!app.auth || !app.switches) {
        tp_cli_error("serve", "out of memory");
        rc = TP_EXIT_FAIL;
    } else if (tp_server_run(&cfg, &app, msg, sizeof msg) != TP_OK) {
        tp_cli_error("serve", "%s", msg);
        rc = TP_EXIT_FAIL;
    }
    tp_worker_pool_shutdown(pool, TP_POOL_DRAIN);
    tp_worker_pool_free(pool);
    tp_auth_state_free(app.auth);
    tp_switches_free(app.switches);
    tp_detect_state_free(app.detect);
    tp_password_list_free(common);
    tp_platform_close(&p);
    tp_claims_set_refdata(NULL);
    free(refdata);
    if (logf)
        fclose(logf);
    return rc;
}
