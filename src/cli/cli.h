/* Shared pieces of the command-line interface. Each command is a function
 * `int cmd_x(int argc, char **argv)` returning the process exit status; errors are printed to
 * stderr as "opentp: <command>: <message>" and give a non-zero status. */
#ifndef TP_CLI_CLI_H
#define TP_CLI_CLI_H

#include <stddef.h>

#include "security/keys.h"
#include "store/store.h"

#define TP_DEFAULT_DATA "var/opentp"

/* Exit statuses. */
#define TP_EXIT_OK 0
#define TP_EXIT_FAIL 1  /* the operation failed */
#define TP_EXIT_USAGE 2 /* bad command line */

/* An open platform data directory: DIR/master.key and DIR/opentp.db. */
struct tp_platform {
    char dir[1024];
    struct tp_keys *keys;
    struct tp_store *store;
    struct tp_audit_log *audit; /* DIR/audit, when opened by tp_platform_open_audit */
    int audit_lock_fd;
};

/* Creates DIR (mode 0700) with a new master key and an empty migrated database. Fails if a key
 * already exists there. */
int tp_platform_init(const char *dir, const char *cmd);

/* Opens an initialised data directory. Prints the reason and returns non-zero on failure. */
int tp_platform_open(const char *dir, struct tp_platform *p, const char *cmd);
void tp_platform_close(struct tp_platform *p);

/* Opens the access log DIR/audit for appending and attaches it to the store (commands that
 * disclose personal data: serve). One process at a time appends: a second one is refused with
 * a clear message (an flock on DIR/audit/lock). Applies retention once at opening. */
struct tp_audit_config;
int tp_platform_open_audit(struct tp_platform *p, const struct tp_audit_config *cfg,
                           const char *cmd);

/* DIR/audit of a data directory, into out. */
void tp_platform_audit_dir(const char *dir, char *out, size_t cap);

/* Prints "opentp: <cmd>: <fmt...>" to stderr. */
void tp_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int cmd_init(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_cards(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_totp_code(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_incident(int argc, char **argv);
int cmd_pay(int argc, char **argv);
int cmd_advance(int argc, char **argv);
int cmd_simulate(int argc, char **argv);

#endif
