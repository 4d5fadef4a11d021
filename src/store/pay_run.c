/* A payment run end to end (store/pay.h): the lock, the three phases, and the files of phase 2.
 *
 * The files of a run go to <out>/<msg_id>.tmp/ (0700, files 0600), are synced with one
 * syncfs() (one sync for thousands of advices, rather than one fsync each), and the folder is
 * renamed to <out>/<msg_id>/ and its parent synced. A folder under its final name is
 * therefore complete; a .tmp folder is a killed attempt, removed and written again. Every
 * byte comes from the run's rows, so the second attempt writes what the first would have. */
#define _GNU_SOURCE /* syncfs */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/sepa.h"
#include "store/pay.h"

#define PATH_CAP 1200

/* A tp_write_fn over a stdio stream. */
static size_t file_write(void *ctx, const char *buf, size_t len)
{
    return fwrite(buf, 1, len, (FILE *)ctx);
}

static FILE *create(const char *dir, const char *name, char *msg, size_t msglen)
{
    char path[2 * PATH_CAP];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        tp_fail(msg, msglen, TP_ERR_IO, "cannot create %s: %s", name, strerror(errno));
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 16);
    return f;
}

static enum tp_err close_file(FILE *f, enum tp_err rc, const char *name, char *msg, size_t msglen)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return rc == TP_OK ? tp_fail(msg, msglen, TP_ERR_IO, "cannot write %s", name) : rc;
    return rc;
}

/* --- the advance notice (avis d'acompte) --------------------------------------------------- */

/* CSV text cell: quoted, quotes doubled, and a leading = + - @ neutralised (CSV injection),
 * as settlement.c does for the advice. */
static void csv_cell(FILE *f, const char *s)
{
    fputc('"', f);
    if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_advance_csv(FILE *f, const char *run_id, tp_day paid_on,
                              const struct tp_pay_ps *ps, const char *e2e)
{
    char day[11], a[24], b[24];
    tp_date_format(paid_on, day);
    tp_sepa_amount_format(ps->advance_cents, a);
    tp_sepa_amount_format(ps->recon.balance_after_cents + ps->advance_cents, b);
    fputs("record,reference,amount_eur\r\n", f);
    fprintf(f, "run,%s,\r\npaid_on,%s,\r\nps,%s,\r\nps_name,", run_id, day, ps->ident);
    csv_cell(f, ps->name);
    fprintf(f, ",\r\nadvance_paid,%s,%s\r\nadvance_balance,,%s\r\n", e2e, a, b);
}

static void write_advance_text(FILE *f, const char *run_id, tp_day paid_on,
                               const struct tp_pay_ps *ps, const char *e2e)
{
    char day[11], a[32], b[32];
    int y, m, d;
    tp_date_to_ymd(paid_on, &y, &m, &d);
    snprintf(day, sizeof day, "%02d/%02d/%04d", d, m, y);
    tp_amount_format_fr(ps->advance_cents, a);
    tp_amount_format_fr(ps->recon.balance_after_cents + ps->advance_cents, b);
    fprintf(f,
            "AVIS D'ACOMPTE\n\n"
            "Paiement      %s du %s\n"
            "PS            %s  %s\n"
            "Référence     %s\n\n"
            "Acompte versé                          %s EUR\n"
            "Acomptes restant à imputer             %s EUR\n\n"
            "Cet acompte sera déduit des prochains paiements de vos factures.\n",
            run_id, day, ps->ident, ps->name, e2e, a, b);
}

/* --- phase 2 -------------------------------------------------------------------------------- */

struct gen {
    const char *dir;
    const struct tp_pay_run_info *run;
    struct tp_sepa_writer *w;
    char *msg;
    size_t msglen;
};

/* The transfer's EndToEndId: OTP<run>-<PS identifier>, with -A for the advance's transfer.
 * The PS identifier is at most 21 characters (store_pay.c, ps_payable), which leaves 8 digits
 * for the run within the 35 of the field; tp_sepa_add refuses anything longer. */
static void end_to_end(const struct tp_pay_run_info *run, const char *ident, int advance,
                       char out[TP_SEPA_ID_MAX + 1])
{
    char id[96];
    snprintf(id, sizeof id, "OTP%lld-%.40s%s", (long long)run->id, ident, advance ? "-A" : "");
    snprintf(out, TP_SEPA_ID_MAX + 1, "%.35s", id);
}

/* Advice files of one PS, then its transfers into the SEPA file. */
static enum tp_err gen_ps(void *ctx, const struct tp_pay_ps *ps, const struct tp_paid_claim *c,
                          size_t n)
{
    struct gen *g = ctx;
    char e2e[TP_SEPA_ID_MAX + 1], e2e_adv[TP_SEPA_ID_MAX + 1], name[96], rmt[TP_SEPA_RMT_MAX + 1];
    end_to_end(g->run, ps->ident, 0, e2e);
    end_to_end(g->run, ps->ident, 1, e2e_adv);
    enum tp_err rc = TP_OK;
    if (ps->recon.gross_cents > 0) {
        struct tp_advice_head h = {.run_id = g->run->msg_id,
                                   .paid_on = g->run->execution_date,
                                   .ps_id = ps->ident,
                                   .ps_name = ps->name,
                                   .iban = ps->iban,
                                   .end_to_end = ps->recon.net_cents > 0 ? e2e : ""};
        for (int text = 0; text < 2 && rc == TP_OK; text++) {
            snprintf(name, sizeof name, "advice-%s.%s", ps->ident, text ? "txt" : "csv");
            FILE *f = create(g->dir, name, g->msg, g->msglen);
            if (!f)
                return TP_ERR_IO;
            rc = text ? tp_advice_text(&h, c, n, &ps->recon, file_write, f, g->msg, g->msglen)
                      : tp_advice_csv(&h, c, n, &ps->recon, file_write, f, g->msg, g->msglen);
            rc = close_file(f, rc, name, g->msg, g->msglen);
        }
        if (rc == TP_OK && ps->recon.net_cents > 0) {
            rc = tp_settle_remittance(g->run->msg_id, ps->ident, c, n, rmt, g->msg, g->msglen);
            struct tp_sepa_transfer t = {.name = ps->name,
                                         .iban = ps->iban,
                                         .bic = ps->bic,
                                         .amount_cents = ps->recon.net_cents,
                                         .end_to_end = e2e,
                                         .remittance = rmt};
            if (rc == TP_OK)
                rc = tp_sepa_add(g->w, &t, g->msg, g->msglen);
        }
    }
    if (rc == TP_OK && ps->advance_cents > 0) {
        for (int text = 0; text < 2 && rc == TP_OK; text++) {
            snprintf(name, sizeof name, "advance-%s.%s", ps->ident, text ? "txt" : "csv");
            FILE *f = create(g->dir, name, g->msg, g->msglen);
            if (!f)
                return TP_ERR_IO;
            if (text)
                write_advance_text(f, g->run->msg_id, g->run->execution_date, ps, e2e_adv);
            else
                write_advance_csv(f, g->run->msg_id, g->run->execution_date, ps, e2e_adv);
            rc = close_file(f, rc, name, g->msg, g->msglen);
        }
        snprintf(rmt, sizeof rmt, "ACOMPTE %s PS %s", g->run->msg_id, ps->ident);
        struct tp_sepa_transfer t = {.name = ps->name,
                                     .iban = ps->iban,
                                     .bic = ps->bic,
                                     .amount_cents = ps->advance_cents,
                                     .end_to_end = e2e_adv,
                                     .remittance = rmt};
        if (rc == TP_OK)
            rc = tp_sepa_add(g->w, &t, g->msg, g->msglen);
    }
    return rc;
}

static enum tp_err gen_statement(void *ctx, const struct tp_statement_head *h,
                                 const struct tp_statement_line *l, size_t n)
{
    struct gen *g = ctx;
    char name[64];
    enum tp_err rc = TP_OK;
    for (int text = 0; text < 2 && rc == TP_OK; text++) {
        snprintf(name, sizeof name, "statement-%s.%s", h->amc, text ? "txt" : "csv");
        FILE *f = create(g->dir, name, g->msg, g->msglen);
        if (!f)
            return TP_ERR_IO;
        rc = text ? tp_statement_text(h, l, n, file_write, f, g->msg, g->msglen)
                  : tp_statement_csv(h, l, n, file_write, f, g->msg, g->msglen);
        rc = close_file(f, rc, name, g->msg, g->msglen);
    }
    return rc;
}

/* Removes a flat folder of files (a killed attempt). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[2 * PATH_CAP];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(dir);
}

static enum tp_err sync_dir(const char *dir, int whole_fs, char *msg, size_t msglen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open %s", dir);
    int r = whole_fs ? syncfs(fd) : fsync(fd);
    close(fd);
    return r == 0 ? TP_OK : tp_fail(msg, msglen, TP_ERR_IO, "cannot sync %s", dir);
}

static void pause_ms(unsigned ms)
{
    if (!ms)
        return;
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

enum tp_err tp_pay_run_files(struct tp_pay *p, const struct tp_pay_run_info *run,
                             const char *out_dir, unsigned slow_for_test, char *msg, size_t msglen)
{
    char final[PATH_CAP], tmp[PATH_CAP + 8];
    snprintf(final, sizeof final, "%s/%s", out_dir, run->msg_id);
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    struct stat st;
    if (stat(final, &st) == 0)
        return TP_OK; /* renamed there complete by an earlier attempt */
    remove_tree(tmp);
    if (mkdir(tmp, 0700) != 0)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));

    /* The SEPA file first, streaming: count and sum announced from the rows. */
    struct tp_sepa_header h;
    enum tp_err rc = tp_pay_sepa_header(p, run->id, &h, msg, msglen);
    if (rc != TP_OK)
        return rc;
    char xml_name[64];
    snprintf(xml_name, sizeof xml_name, "%s.xml", run->msg_id);
    struct tp_sepa_writer *w = malloc(sizeof *w);
    FILE *xml = NULL;
    if (!w)
        return TP_ERR_NOMEM;
    struct gen g = {.dir = tmp, .run = run, .w = w, .msg = msg, .msglen = msglen};
    if (run->transfers > 0) {
        xml = create(tmp, xml_name, msg, msglen);
        if (!xml)
            rc = TP_ERR_IO;
        if (rc == TP_OK)
            rc = tp_sepa_begin(w, &h, (uint64_t)run->transfers, run->transfer_cents, file_write,
                               xml, msg, msglen);
    } else {
        /* Every PS's claims went to repay advances: advices and statements, no transfer. */
        memset(w, 0, sizeof *w);
        w->failed = 1;
    }
    if (rc == TP_OK)
        rc = tp_pay_each_ps(p, run->id, gen_ps, &g, msg, msglen);
    if (rc == TP_OK && xml)
        rc = tp_sepa_end(w, msg, msglen);
    if (xml)
        rc = close_file(xml, rc, xml_name, msg, msglen);
    free(w);
    if (rc == TP_OK)
        pause_ms(slow_for_test);
    if (rc == TP_OK)
        rc = tp_pay_each_statement(p, run->id, gen_statement, &g, msg, msglen);
    if (rc == TP_OK) {
        FILE *f = create(tmp, "run.txt", msg, msglen);
        if (!f)
            return TP_ERR_IO;
        char day[11], c[24], t[24], d[24], a[24];
        tp_date_format(run->execution_date, day);
        tp_sepa_amount_format(run->claims_cents, c);
        tp_sepa_amount_format(run->transfer_cents, t);
        tp_sepa_amount_format(run->deducted_cents, d);
        tp_sepa_amount_format(run->advances_cents, a);
        fprintf(f,
                "run %s\nexecution_date %s\nclaims %lld\nclaims_eur %s\nps %lld\nheld_ps %lld\n"
                "transfers %lld\ntransfers_eur %s\nadvances_paid_eur %s\n"
                "advances_deducted_eur %s\n",
                run->msg_id, day, (long long)run->claims, c, (long long)run->ps,
                (long long)run->held_ps, (long long)run->transfers, t, a, d);
        rc = close_file(f, rc, "run.txt", msg, msglen);
    }
    if (rc == TP_OK)
        rc = sync_dir(tmp, 1, msg, msglen);
    if (rc == TP_OK && rename(tmp, final) != 0)
        rc = tp_fail(msg, msglen, TP_ERR_IO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc == TP_OK)
        rc = sync_dir(out_dir, 0, msg, msglen);
    return rc;
}

enum tp_err tp_pay_lock(const char *out_dir, int *fd, char *msg, size_t msglen)
{
    char lock[PATH_CAP];
    if (strlen(out_dir) > PATH_CAP - 80)
        return tp_fail(msg, msglen, TP_ERR_INVALID, "output folder path too long");
    if (mkdir(out_dir, 0700) != 0 && errno != EEXIST)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot create %s: %s", out_dir, strerror(errno));
    snprintf(lock, sizeof lock, "%s/.lock", out_dir);
    *fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open %s", lock);
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        close(*fd);
        *fd = -1;
        return tp_fail(msg, msglen, TP_ERR_BUSY, "a payment run is already in progress");
    }
    return TP_OK;
}

void tp_pay_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

enum tp_err tp_pay_run_locked(struct tp_pay *p, const struct tp_pay_options *o,
                              struct tp_pay_run_info *out, int *resumed, char *msg, size_t msglen)
{
    enum tp_err rc =
        tp_pay_prepare(p, o->now_ms, o->execution_date, o->account_id, out, resumed, msg, msglen);
    if (rc == TP_OK)
        pause_ms(o->slow_for_test);
    if (rc == TP_OK)
        rc = tp_pay_run_files(p, out, o->out_dir, o->slow_for_test, msg, msglen);
    if (rc == TP_OK)
        pause_ms(o->slow_for_test);
    if (rc == TP_OK)
        rc = tp_pay_complete(p, out->id, o->now_ms, msg, msglen);
    if (rc == TP_OK)
        rc = tp_pay_run_get(p, out->id, out);
    return rc;
}

enum tp_err tp_pay_run(struct tp_pay *p, const struct tp_pay_options *o,
                       struct tp_pay_run_info *out, int *resumed, char *msg, size_t msglen)
{
    int fd = -1;
    enum tp_err rc = tp_pay_lock(o->out_dir, &fd, msg, msglen);
    if (rc != TP_OK)
        return rc;
    rc = tp_pay_run_locked(p, o, out, resumed, msg, msglen);
    tp_pay_unlock(fd);
    return rc;
}
