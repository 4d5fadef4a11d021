#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
    tp_store_close(p->store);
    tp_keys_free(p->keys);
    p->store = NULL;
    p->keys = NULL;
}
