#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/log.h"

#include "cli/cli.h"

void tp_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "opentp: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* mkdir -p with mode 0700 for the last component. */
static int make_dirs(const char *dir)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void paths(const char *dir, char *key, char *db, size_t cap)
{
    snprintf(key, cap, "%s/master.key", dir);
    snprintf(db, cap, "%s/opentp.db", dir);
}

int tp_platform_init(const char *dir, const char *cmd)
{
    char key[1100], db[1100], msg[256];
    if (strlen(dir) >= 1000) {
        tp_cli_error(cmd, "data directory path too long");
        return TP_EXIT_USAGE;
    }
    paths(dir, key, db, sizeof key);
    if (make_dirs(dir) != 0) {
        tp_cli_error(cmd, "cannot create %s: %s", dir, strerror(errno));
        return TP_EXIT_FAIL;
    }
    struct stat st;
    if (stat(key, &st) == 0) {
        tp_cli_error(cmd, "%s already holds a platform (%s exists)", dir, key);
        return TP_EXIT_FAIL;
    }
    if (tp_keys_create_file(key, msg, sizeof msg) != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        return TP_EXIT_FAIL;
    }
    struct tp_store *s = NULL;
    if (tp_store_open(db, &s, msg, sizeof msg) != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        return TP_EXIT_FAIL;
    }
    tp_store_close(s);
    return TP_EXIT_OK;
}

int tp_platform_open(const char *dir, struct tp_platform *p, const char *cmd)
{
    char key[1100], db[1100], msg[256];
    memset(p, 0, sizeof *p);
    if (strlen(dir) >= sizeof p->dir) {
        tp_cli_error(cmd, "data directory path too long");
        return TP_EXIT_USAGE;
    }
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    paths(dir, key, db, sizeof key);
    struct stat st;
    if (stat(key, &st) != 0) {
        tp_cli_error(cmd,
                     "%s is not an opentp platform (no master.key); run 'opentp init --data %s'",
                     dir, dir);
        return TP_EXIT_FAIL;
    }
    if (tp_keys_load(key, &p->keys, msg, sizeof msg) != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        return TP_EXIT_FAIL;
    }
    if (tp_store_open(db, &p->store, msg, sizeof msg) != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        tp_keys_free(p->keys);
        p->keys = NULL;
        return TP_EXIT_FAIL;
    }
    return TP_EXIT_OK;
}

void tp_platform_close(struct tp_platform *p)
{
    /* The store first: its writer and syncer hand their last events to the log. */
    tp_store_close(p->store);
    if (p->audit) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        tp_audit_log_close(p->audit, (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000);
        close(p->audit_lock_fd);
    }
    tp_keys_free(p->keys);
    p->store = NULL;
    p->keys = NULL;
    p->audit = NULL;
}

void tp_platform_audit_dir(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/audit", dir);
}

int tp_platform_open_audit(struct tp_platform *p, const struct tp_audit_config *cfg,
                           const char *cmd)
{
    char dir[1100], lock[1200], msg[512];
    tp_platform_audit_dir(p->dir, dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        tp_cli_error(cmd, "cannot create %s: %s", dir, strerror(errno));
        return TP_EXIT_FAIL;
    }
    snprintf(lock, sizeof lock, "%s/lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        tp_cli_error(cmd, "the access log %s is in use by another opentp process", dir);
        if (fd >= 0)
            close(fd);
        return TP_EXIT_FAIL;
    }
    struct tp_audit_log *log = NULL;
    if (tp_audit_log_open(dir, tp_keys_audit_mac_key(p->keys), tp_keys_audit_sign_seed(p->keys),
                          cfg, &log, msg, sizeof msg) != TP_OK) {
        tp_cli_error(cmd, "%s", msg);
        close(fd);
        return TP_EXIT_FAIL;
    }
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t dropped = 0;
    if (tp_audit_log_retain(log, (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000, &dropped) != TP_OK)
        tp_cli_error(cmd, "warning: retention could not drop old access-log segments");
    else if (dropped)
        fprintf(stderr, "opentp: %s: retention dropped %llu access events older than %lld days\n",
                cmd, (unsigned long long)dropped, (long long)(cfg->retention_ms / 86400000));
    p->audit = log;
    p->audit_lock_fd = fd;
    tp_store_set_audit(p->store, log);
    return TP_EXIT_OK;
}
