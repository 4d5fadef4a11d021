/* Writing an incident's notification folder. See writer.h for the layout and the contract. */
#define _GNU_SOURCE /* syncfs(2): one flush for the thousands of files of a folder */
#include "incident/writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "incident/pdf.h"

#define CSV_CHUNK 65536
#define WORKERS_MAX 8
#define MSG_MAX 256

/* One writer thread's context: the shared directory and manifest, its own counters and
 * message buffer. */
struct wctx {
    int dirfd;    /* the temporary directory */
    int manifest; /* fd of DIR.tmp/MANIFEST.sha256, appended under `lock` */
    pthread_mutex_t *lock;
    struct tp_incident_write_result res;
    char *msg;
    size_t len;
};

static enum tp_err io_fail(struct wctx *w, const char *what, const char *rel)
{
    int e = errno;
    return tp_fail(w->msg, w->len, TP_ERR_IO, "incident: %s %s: %s", what, rel ? rel : "",
                   strerror(e));
}

static bool write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Appends "<hex>  <rel>\n" to the manifest (sha256sum's text format). */
static enum tp_err manifest_add(struct wctx *w, const char *rel,
                                const unsigned char hash[crypto_hash_sha256_BYTES], size_t size)
{
    char line[2 * crypto_hash_sha256_BYTES + 3 + 128];
    sodium_bin2hex(line, 2 * crypto_hash_sha256_BYTES + 1, hash, crypto_hash_sha256_BYTES);
    int n = snprintf(line + 2 * crypto_hash_sha256_BYTES,
                     sizeof line - 2 * crypto_hash_sha256_BYTES, "  %s\n", rel);
    if (n < 0 || (size_t)n >= sizeof line - 2 * crypto_hash_sha256_BYTES)
        return tp_fail(w->msg, w->len, TP_ERR_INTERNAL, "incident: path too long");
    pthread_mutex_lock(w->lock);
    bool ok = write_all(w->manifest, line, 2 * crypto_hash_sha256_BYTES + (size_t)n);
    pthread_mutex_unlock(w->lock);
    if (!ok)
        return io_fail(w, "writing", TP_INCIDENT_MANIFEST);
    w->res.files++;
    w->res.bytes += size;
    return TP_OK;
}

/* A new file under the temporary directory: exclusive (a reference listed twice is caught
 * here), no symlink followed, 0600 whatever the umask. */
static int create_file(struct wctx *w, const char *rel)
{
    int fd = openat(w->dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 && fchmod(fd, 0600) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes one whole file from memory and lists it in the manifest. */
static enum tp_err put_file(struct wctx *w, const char *rel, const void *data, size_t n)
{
    int fd = create_file(w, rel);
    if (fd < 0) {
        if (errno == EEXIST)
            return tp_fail(w->msg, w->len, TP_ERR_INVALID,
                           "incident: %s written twice (a person listed twice?)", rel);
        return io_fail(w, "creating", rel);
    }
    bool ok = write_all(fd, data, n);
    if (close(fd) != 0)
        ok = false;
    if (!ok)
        return io_fail(w, "writing", rel);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, n);
    return manifest_add(w, rel, h, n);
}

/* The CSV of one AMC, streamed in chunks (an AMC may have millions of exposed members). */
static enum tp_err put_csv(struct wctx *w, int a, const struct tp_incident_amc *amc,
                           const struct tp_exposed_person *people, size_t n_people)
{
    char rel[64];
    snprintf(rel, sizeof rel, "amc-%s.csv", amc->number);
    char *chunk = malloc(CSV_CHUNK);
    if (!chunk)
        return tp_fail(w->msg, w->len, TP_ERR_NOMEM, "incident: out of memory");
    int fd = create_file(w, rel);
    if (fd < 0) {
        free(chunk);
        return io_fail(w, "creating", rel);
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    size_t used = 0, total = 0;
    size_t row_len;
    enum tp_err e = tp_notice_csv_header(chunk, CSV_CHUNK, &used);
    bool ok = true;
    for (size_t i = 0; e == TP_OK && ok && i <= n_people; i++) {
        bool last = i == n_people;
        if (!last && people[i].amc != a)
            continue;
        if (last || CSV_CHUNK - used < TP_NOTICE_CSV_ROW_MAX) {
            crypto_hash_sha256_update(&st, (const unsigned char *)chunk, used);
            ok = write_all(fd, chunk, used);
            total += used;
            used = 0;
        }
        if (!last && ok) {
            e = tp_notice_csv_row(amc, &people[i], chunk + used, CSV_CHUNK - used, &row_len);
            used += row_len;
        }
    }
    free(chunk);
    if (close(fd) != 0)
        ok = false;
    if (e != TP_OK)
        return tp_fail(w->msg, w->len, e, "incident: CSV row of AMC %s: %s", amc->number,
                       tp_err_name(e));
    if (!ok)
        return io_fail(w, "writing", rel);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, h);
    return manifest_add(w, rel, h, total);
}

static enum tp_err put_art33(struct wctx *w, const struct tp_incident *inc, int a,
                             const struct tp_incident_amc *amc,
                             const struct tp_exposed_person *people, size_t n_people, char *buf)
{
    struct tp_incident_tally t;
    tp_incident_tally(people, n_people, a, &t);
    size_t n;
    enum tp_err e = tp_notice_art33(inc, amc, &t, buf, TP_NOTICE_ART33_MAX, &n);
    if (e != TP_OK)
        return tp_fail(w->msg, w->len, e, "incident: art. 33 draft of AMC %s: %s", amc->number,
                       tp_err_name(e));
    char rel[64];
    snprintf(rel, sizeof rel, "art33-%s.txt", amc->number);
    return put_file(w, rel, buf, n);
}

/* One person's notice, as text and as PDF. The PDF is rendered into memory first so that its
 * hash is taken from exactly the bytes written. */
static enum tp_err put_notice(struct wctx *w, struct tp_pdf *pdf, const struct tp_incident *inc,
                              const struct tp_incident_amc *amc, const struct tp_exposed_person *p,
                              char *buf)
{
    size_t n;
    enum tp_err e = tp_notice_art34(inc, amc, p, buf, TP_NOTICE_ART34_MAX, &n);
    if (e != TP_OK)
        return tp_fail(w->msg, w->len, e, "incident: notice %s: %s", p->ref, tp_err_name(e));
    char rel[96];
    snprintf(rel, sizeof rel, "notices/%s/%s.txt", amc->number, p->ref);
    if ((e = put_file(w, rel, buf, n)) != TP_OK)
        return e;

    char *pdf_data = NULL;
    size_t pdf_len = 0;
    FILE *mem = open_memstream(&pdf_data, &pdf_len);
    if (!mem)
        return tp_fail(w->msg, w->len, TP_ERR_NOMEM, "incident: out of memory");
    char title[128];
    snprintf(title, sizeof title, "Violation de données personnelles — %s", inc->id);
    e = tp_pdf_render(pdf, buf, n, title, mem, w->msg, w->len);
    if (fclose(mem) != 0 && e == TP_OK)
        e = tp_fail(w->msg, w->len, TP_ERR_NOMEM, "incident: out of memory");
    if (e == TP_OK) {
        snprintf(rel, sizeof rel, "notices/%s/%s.pdf", amc->number, p->ref);
        e = put_file(w, rel, pdf_data, pdf_len);
        w->res.pdf_pages += tp_pdf_last_pages(pdf);
    }
    free(pdf_data);
    return e;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* 0 when `dir` does not exist or is an empty directory. */
static int dir_free(const char *dir)
{
    struct stat sb;
    if (lstat(dir, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int entries = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            entries++;
    closedir(d);
    return entries == 0 ? 0 : -1;
}

/* Notices are independent: each worker renders every nw-th person with its own PDF renderer
 * (pango objects are not shared between threads) and stops early once any worker failed. */
struct worker {
    struct wctx w;
    char msg[MSG_MAX];
    enum tp_err err;
    int k, nw;
    const struct tp_incident *inc;
    const struct tp_incident_amc *amcs;
    const struct tp_exposed_person *people;
    size_t n_people;
    volatile int *stop; /* read and written under w.lock */
};

static bool stopped(struct worker *wk)
{
    pthread_mutex_lock(wk->w.lock);
    bool s = *wk->stop != 0;
    pthread_mutex_unlock(wk->w.lock);
    return s;
}

static void *notice_worker(void *arg)
{
    struct worker *wk = arg;
    char *buf = malloc(TP_NOTICE_ART34_MAX);
    struct tp_pdf *pdf = NULL;
    if (!buf)
        wk->err = tp_fail(wk->msg, sizeof wk->msg, TP_ERR_NOMEM, "incident: out of memory");
    else
        wk->err = tp_pdf_new(&pdf, wk->msg, sizeof wk->msg);
    for (size_t i = (size_t)wk->k; wk->err == TP_OK && i < wk->n_people; i += (size_t)wk->nw) {
        /* Checking every 16 notices keeps the lock out of the way. */
        if ((i / (size_t)wk->nw) % 16 == 0 && stopped(wk))
            break;
        const struct tp_exposed_person *p = &wk->people[i];
        wk->err = put_notice(&wk->w, pdf, wk->inc, &wk->amcs[p->amc], p, buf);
        if (wk->err == TP_OK)
            wk->w.res.notices++;
    }
    if (wk->err != TP_OK) {
        pthread_mutex_lock(wk->w.lock);
        *wk->stop = 1;
        pthread_mutex_unlock(wk->w.lock);
    }
    tp_pdf_free(pdf);
    free(buf);
    return NULL;
}

static int worker_count(size_t n_people)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long nw = cpus < 1 ? 1 : cpus > WORKERS_MAX ? WORKERS_MAX : cpus;
    /* A handful of notices is not worth a thread. */
    long by_size = (long)(n_people / 16) + 1;
    return (int)(nw < by_size ? nw : by_size);
}

static enum tp_err write_all_files(struct wctx *w, const struct tp_incident *inc,
                                   const struct tp_incident_amc *amcs, int n_amc,
                                   const struct tp_exposed_person *people, size_t n_people)
{
    enum tp_err e = TP_OK;
    if (mkdirat(w->dirfd, "notices", 0700) != 0)
        return io_fail(w, "creating", "notices/");
    for (int a = 0; a < n_amc; a++) {
        char rel[32];
        snprintf(rel, sizeof rel, "notices/%s", amcs[a].number);
        if (mkdirat(w->dirfd, rel, 0700) != 0)
            return io_fail(w, "creating", rel);
    }
    char *buf = malloc(TP_NOTICE_ART33_MAX);
    if (!buf)
        return tp_fail(w->msg, w->len, TP_ERR_NOMEM, "incident: out of memory");
    for (int a = 0; e == TP_OK && a < n_amc; a++) {
        e = put_csv(w, a, &amcs[a], people, n_people);
        if (e == TP_OK)
            e = put_art33(w, inc, a, &amcs[a], people, n_people, buf);
    }
    free(buf);
    if (e != TP_OK)
        return e;

    int nw = worker_count(n_people);
    struct worker wk[WORKERS_MAX];
    pthread_t th[WORKERS_MAX];
    volatile int stop = 0;
    int started = 0;
    for (int k = 0; k < nw; k++) {
        wk[k] = (struct worker){.w = *w,
                                .k = k,
                                .nw = nw,
                                .inc = inc,
                                .amcs = amcs,
                                .people = people,
                                .n_people = n_people,
                                .stop = &stop};
        memset(&wk[k].w.res, 0, sizeof wk[k].w.res);
        wk[k].w.msg = wk[k].msg;
        wk[k].w.len = sizeof wk[k].msg;
        wk[k].msg[0] = '\0';
    }
    /* Worker 0 runs on this thread; the others on their own. */
    for (int k = 1; k < nw; k++) {
        if (pthread_create(&th[k], NULL, notice_worker, &wk[k]) != 0)
            break;
        started++;
    }
    if (started < nw - 1) {
        /* Could not start every thread: fall back to this thread alone, after the others. */
        pthread_mutex_lock(w->lock);
        stop = 1;
        pthread_mutex_unlock(w->lock);
        for (int k = 1; k <= started; k++)
            pthread_join(th[k], NULL);
        return tp_fail(w->msg, w->len, TP_ERR_INTERNAL, "incident: cannot start a thread");
    }
    notice_worker(&wk[0]);
    for (int k = 1; k < nw; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < nw; k++) {
        w->res.files += wk[k].w.res.files;
        w->res.bytes += wk[k].w.res.bytes;
        w->res.notices += wk[k].w.res.notices;
        w->res.pdf_pages += wk[k].w.res.pdf_pages;
        if (wk[k].err != TP_OK && e == TP_OK) {
            e = wk[k].err;
            tp_fail(w->msg, w->len, e, "%s", wk[k].msg);
        }
    }
    return e;
}

enum tp_err tp_incident_write(const char *dir, const struct tp_incident *inc,
                              const struct tp_incident_amc *amcs, int n_amc,
                              const struct tp_exposed_person *people, size_t n_people,
                              struct tp_incident_write_result *res, char *msg, size_t len)
{
    if (res)
        memset(res, 0, sizeof *res);
    if (!dir || !dir[0])
        return tp_fail(msg, len, TP_ERR_INVALID, "incident: no output directory");
    size_t dlen = strlen(dir);
    if (dlen > PATH_MAX - 32)
        return tp_fail(msg, len, TP_ERR_TOO_BIG, "incident: output path too long");
    enum tp_err e = tp_incident_assessment_check(inc, amcs, n_amc, people, n_people, msg, len);
    if (e != TP_OK)
        return e;
    if (sodium_init() < 0)
        return tp_fail(msg, len, TP_ERR_CRYPTO, "incident: libsodium unavailable");
    if (dir_free(dir) != 0)
        return tp_fail(msg, len, TP_ERR_CONFLICT,
                       "incident: %s exists and is not an empty directory", dir);

    /* Trailing slashes would put the temporary directory inside DIR. */
    char target[PATH_MAX];
    memcpy(target, dir, dlen + 1);
    while (dlen > 1 && target[dlen - 1] == '/')
        target[--dlen] = '\0';
    char tmp[PATH_MAX];
    memcpy(tmp, target, dlen);
    memcpy(tmp + dlen, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX"); /* dlen <= PATH_MAX - 32 */
    if (!mkdtemp(tmp))
        return tp_fail(msg, len, TP_ERR_IO, "incident: creating a directory beside %s: %s", target,
                       strerror(errno));

    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    struct wctx w = {.dirfd = -1, .manifest = -1, .lock = &lock, .msg = msg, .len = len};
    w.dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w.dirfd < 0) {
        e = io_fail(&w, "opening", tmp);
        goto fail;
    }
    w.manifest = create_file(&w, TP_INCIDENT_MANIFEST);
    if (w.manifest < 0) {
        e = io_fail(&w, "creating", TP_INCIDENT_MANIFEST);
        goto fail;
    }
    e = write_all_files(&w, inc, amcs, n_amc, people, n_people);
    if (e != TP_OK)
        goto fail;
    if (close(w.manifest) != 0) {
        w.manifest = -1;
        e = io_fail(&w, "writing", TP_INCIDENT_MANIFEST);
        goto fail;
    }
    w.manifest = -1;
    /* One flush for every file of the folder, before the rename makes it visible. */
    if (syncfs(w.dirfd) != 0) {
        e = io_fail(&w, "flushing", tmp);
        goto fail;
    }
    if (rename(tmp, target) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR)
            e = tp_fail(msg, len, TP_ERR_CONFLICT, "incident: %s appeared meanwhile", target);
        else
            e = io_fail(&w, "renaming to", target);
        goto fail;
    }
    close(w.dirfd);
    /* Make the rename itself durable: fsync the parent directory. */
    char parent[PATH_MAX];
    memcpy(parent, target, dlen + 1);
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, sizeof parent, ".");
    else if (slash == parent)
        parent[1] = '\0';
    else
        *slash = '\0';
    int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        int rc = fsync(pfd);
        close(pfd);
        if (rc != 0)
            return tp_fail(msg, len, TP_ERR_IO, "incident: flushing %s: %s", parent,
                           strerror(errno));
    }
    if (res)
        *res = w.res;
    return TP_OK;

fail:
    if (w.manifest >= 0)
        close(w.manifest);
    if (w.dirfd >= 0)
        close(w.dirfd);
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return e;
}
