/* The access log on disk (contract in log.h, format in docs/AUDIT-LOG.md "On disk"). */
#include "audit/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "audit/event.h"

#define SEG_MAGIC "opentp-leaves-1" /* 15 chars + NUL = 16 bytes */
#define SEG_MAGIC_LEN 16
#define SEG_PREFIX "leaves-"
#define SEG_NAME_MAX 64
#define PATH_MAX_LEN 4096
#define HEADER_MAX                                                                                 \
    (SEG_MAGIC_LEN + 8 + 1 + TP_MERKLE_LEVELS * TP_MERKLE_HASH_LEN + TP_AUDIT_TAG_LEN)
#define RECORD_MAX (2 + TP_EVENT_LEAF_MAX + TP_AUDIT_TAG_LEN)
#define READ_BUF (1u << 20)

static enum tp_err failf(char *msg, size_t msglen, enum tp_err e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum tp_err failf(char *msg, size_t msglen, enum tp_err e, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return e;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Tag of one record: keyed BLAKE2b-128 of (index, leaf hash). Binding the index makes a
 * deleted, inserted or moved record fail at its own position. */
static void record_tag(const uint8_t key[TP_AUDIT_KEY_LEN], uint64_t index,
                       const struct tp_merkle_hash *leaf_hash, uint8_t out[TP_AUDIT_TAG_LEN])
{
    uint8_t in[8 + TP_MERKLE_HASH_LEN];
    put_u64(in, index);
    memcpy(in + 8, leaf_hash->b, TP_MERKLE_HASH_LEN);
    crypto_generichash(out, TP_AUDIT_TAG_LEN, in, sizeof in, key, TP_AUDIT_KEY_LEN);
}

/* Segment header: magic, first index, frontier at first index, tag over all of it. */
static size_t header_encode(const uint8_t key[TP_AUDIT_KEY_LEN], const struct tp_merkle_frontier *f,
                            uint8_t out[HEADER_MAX])
{
    struct tp_merkle_hash hashes[TP_MERKLE_LEVELS];
    size_t count = 0;
    tp_merkle_frontier_export(f, hashes, &count);
    memset(out, 0, SEG_MAGIC_LEN);
    memcpy(out, SEG_MAGIC, sizeof SEG_MAGIC - 1);
    put_u64(out + SEG_MAGIC_LEN, f->size);
    out[SEG_MAGIC_LEN + 8] = (uint8_t)count;
    size_t at = SEG_MAGIC_LEN + 9;
    for (size_t i = 0; i < count; i++, at += TP_MERKLE_HASH_LEN)
        memcpy(out + at, hashes[i].b, TP_MERKLE_HASH_LEN);
    crypto_generichash(out + at, TP_AUDIT_TAG_LEN, out, at, key, TP_AUDIT_KEY_LEN);
    return at + TP_AUDIT_TAG_LEN;
}

/* Reads a segment header from fd. With key, checks its tag. */
static enum tp_err header_read(int fd, const uint8_t *key, struct tp_merkle_frontier *f,
                               size_t *header_len)
{
    uint8_t h[HEADER_MAX];
    ssize_t n = pread(fd, h, SEG_MAGIC_LEN + 9, 0);
    if (n != SEG_MAGIC_LEN + 9 || memcmp(h, SEG_MAGIC, sizeof SEG_MAGIC) != 0)
        return TP_ERR_CRYPTO;
    uint64_t first = get_u64(h + SEG_MAGIC_LEN);
    size_t count = h[SEG_MAGIC_LEN + 8];
    if (count > TP_MERKLE_LEVELS)
        return TP_ERR_CRYPTO;
    size_t len = SEG_MAGIC_LEN + 9 + count * TP_MERKLE_HASH_LEN + TP_AUDIT_TAG_LEN;
    n = pread(fd, h, len, 0);
    if (n < 0 || (size_t)n != len)
        return TP_ERR_CRYPTO;
    if (key) {
        uint8_t tag[TP_AUDIT_TAG_LEN];
        crypto_generichash(tag, sizeof tag, h, len - TP_AUDIT_TAG_LEN, key, TP_AUDIT_KEY_LEN);
        if (sodium_memcmp(tag, h + len - TP_AUDIT_TAG_LEN, TP_AUDIT_TAG_LEN) != 0)
            return TP_ERR_CRYPTO;
    }
    struct tp_merkle_hash hashes[TP_MERKLE_LEVELS];
    for (size_t i = 0; i < count; i++)
        memcpy(hashes[i].b, h + SEG_MAGIC_LEN + 9 + i * TP_MERKLE_HASH_LEN, TP_MERKLE_HASH_LEN);
    if (tp_merkle_frontier_load(f, first, hashes, count) != TP_OK)
        return TP_ERR_CRYPTO;
    *header_len = len;
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Segment listing */

struct seglist {
    uint64_t *first;
    size_t n;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static enum tp_err list_segments(const char *dir, struct seglist *out, char *msg, size_t msglen)
{
    out->first = NULL;
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return failf(msg, msglen, TP_ERR_IO, "cannot open the access log %s: %s", dir,
                     strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    enum tp_err rc = TP_OK;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, SEG_PREFIX, sizeof SEG_PREFIX - 1) != 0)
            continue;
        const char *num = e->d_name + sizeof SEG_PREFIX - 1;
        char *end;
        if (strlen(num) != 16) /* temporary files (".tmp") and strays are not segments */
            continue;
        errno = 0;
        unsigned long long v = strtoull(num, &end, 10);
        if (errno || *end)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *p = realloc(out->first, cap * sizeof *p);
            if (!p) {
                rc = TP_ERR_NOMEM;
                break;
            }
            out->first = p;
        }
        out->first[out->n++] = v;
    }
    closedir(d);
    if (rc != TP_OK) {
        free(out->first);
        out->first = NULL;
        out->n = 0;
        return rc;
    }
    if (out->n)
        qsort(out->first, out->n, sizeof *out->first, cmp_u64);
    return TP_OK;
}

static void seg_path(const char *dir, uint64_t first, char *out, size_t cap)
{
    snprintf(out, cap, "%s/" SEG_PREFIX "%016llu", dir, (unsigned long long)first);
}

static enum tp_err fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return TP_ERR_IO;
    int r = fsync(fd);
    close(fd);
    return r == 0 ? TP_OK : TP_ERR_IO;
}

static enum tp_err write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return TP_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Sequential reader of one segment's records */

struct reader {
    int fd;
    uint8_t *buf;
    size_t len, at;
    off_t file_off; /* file offset of buf[len] */
    int eof;
};

static int reader_fill(struct reader *r, size_t need)
{
    if (r->len - r->at >= need)
        return 1;
    memmove(r->buf, r->buf + r->at, r->len - r->at);
    r->len -= r->at;
    r->at = 0;
    while (!r->eof && r->len < need) {
        ssize_t n = read(r->fd, r->buf + r->len, READ_BUF - r->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            r->eof = 1;
            break;
        }
        r->len += (size_t)n;
        r->file_off += n;
    }
    return r->len - r->at >= need;
}

/* Next record: 1 with leaf, len and tag set; 0 at a clean end; -1 when the file ends inside a
 * record (a torn tail) or the length is impossible. */
static int reader_next(struct reader *r, const uint8_t **leaf, size_t *len, const uint8_t **tag)
{
    if (!reader_fill(r, 2))
        return r->len == r->at ? 0 : -1;
    size_t n = (size_t)r->buf[r->at] << 8 | r->buf[r->at + 1];
    if (n == 0 || n > TP_EVENT_LEAF_MAX)
        return -1;
    if (!reader_fill(r, 2 + n + TP_AUDIT_TAG_LEN))
        return -1;
    *leaf = r->buf + r->at + 2;
    *len = n;
    *tag = r->buf + r->at + 2 + n;
    r->at += 2 + n + TP_AUDIT_TAG_LEN;
    return 1;
}

/* Offset in the file of the next record reader_next would return. */
static off_t reader_offset(const struct reader *r)
{
    return r->file_off - (off_t)(r->len - r->at);
}

/* ---------------------------------------------------------------------------------------
 * Writer */

struct tp_audit_log {
    pthread_mutex_t mu;
    char dir[PATH_MAX_LEN];
    struct tp_audit_config cfg;
    uint8_t mac_key[TP_AUDIT_KEY_LEN];
    uint8_t sk[TP_STH_SECRET_KEY_LEN];
    uint8_t pk[TP_STH_PUBLIC_KEY_LEN];

    struct tp_merkle_frontier fr; /* every appended leaf */
    uint8_t *pend;                /* appended, not yet written */
    size_t pend_len, pend_cap;
    int64_t last_at_ms; /* time of the last appended event */

    /* The committer's side (one committer at a time: commit_mu). */
    pthread_mutex_t commit_mu;
    int seg_fd;
    uint64_t seg_first, seg_count;
    int64_t seg_day; /* UTC day of the segment's first event, -1 if empty */
    struct tp_merkle_frontier durable_fr;
    int heads_fd;
    struct tp_sth head;
    int have_head;
    int64_t head_ms;
    int broken;
};

void tp_audit_config_default(struct tp_audit_config *cfg)
{
    cfg->segment_events = 1000000;
    cfg->head_interval_ms = 1000;
    cfg->retention_ms = (int64_t)365 * 86400 * 1000;
}

static int64_t utc_day(int64_t ms)
{
    return ms / 86400000;
}

/* Creates segment `first` (the tree then holds exactly f->size = first leaves) and makes it
 * current. The header is written to a temporary name, synced and renamed, so a segment file
 * always has a whole header. */
static enum tp_err segment_create(struct tp_audit_log *log, const struct tp_merkle_frontier *f,
                                  char *msg, size_t msglen)
{
    char path[PATH_MAX_LEN + SEG_NAME_MAX], tmp[PATH_MAX_LEN + SEG_NAME_MAX + 8];
    seg_path(log->dir, f->size, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    uint8_t h[HEADER_MAX];
    size_t hl = header_encode(log->mac_key, f, h);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return failf(msg, msglen, TP_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    if (write_all(fd, h, hl) != TP_OK || fdatasync(fd) != 0 || rename(tmp, path) != 0 ||
        fsync_dir(log->dir) != TP_OK) {
        close(fd);
        unlink(tmp);
        return failf(msg, msglen, TP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return failf(msg, msglen, TP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (log->seg_fd >= 0)
        close(log->seg_fd);
    log->seg_fd = fd;
    log->seg_first = f->size;
    log->seg_count = 0;
    log->seg_day = -1;
    return TP_OK;
}

static enum tp_err load_heads_fd(int fd, struct tp_sth **heads, size_t *count)
{
    *heads = NULL;
    *count = 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return TP_ERR_IO;
    size_t n = (size_t)st.st_size / TP_AUDIT_HEAD_RECORD;
    if (n == 0)
        return TP_OK;
    uint8_t *buf = malloc(n * TP_AUDIT_HEAD_RECORD);
    struct tp_sth *h = calloc(n, sizeof *h);
    if (!buf || !h) {
        free(buf);
        free(h);
        return TP_ERR_NOMEM;
    }
    ssize_t r = pread(fd, buf, n * TP_AUDIT_HEAD_RECORD, 0);
    if (r < 0 || (size_t)r != n * TP_AUDIT_HEAD_RECORD) {
        free(buf);
        free(h);
        return TP_ERR_IO;
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = buf + i * TP_AUDIT_HEAD_RECORD;
        h[i].tree_size = get_u64(p);
        h[i].timestamp_ms = get_u64(p + 8);
        memcpy(h[i].root.b, p + 16, TP_MERKLE_HASH_LEN);
        memcpy(h[i].signature, p + 48, TP_STH_SIG_LEN);
    }
    free(buf);
    *heads = h;
    *count = n;
    return TP_OK;
}

enum tp_err tp_audit_read_heads(const char *dir, struct tp_sth **heads, size_t *count, char *msg,
                                size_t msglen)
{
    char path[PATH_MAX_LEN + 16];
    snprintf(path, sizeof path, "%s/heads", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *heads = NULL;
        *count = 0;
        if (errno == ENOENT)
            return TP_OK;
        return failf(msg, msglen, TP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    enum tp_err rc = load_heads_fd(fd, heads, count);
    close(fd);
    if (rc != TP_OK)
        return failf(msg, msglen, rc, "cannot read %s", path);
    return TP_OK;
}

static enum tp_err sign_head(struct tp_audit_log *log, int64_t now_ms)
{
    struct tp_sth h = {.tree_size = log->durable_fr.size, .timestamp_ms = (uint64_t)now_ms};
    if (log->have_head && (uint64_t)now_ms < log->head.timestamp_ms)
        h.timestamp_ms = log->head.timestamp_ms; /* clocks step back; heads never do */
    tp_merkle_frontier_root(&log->durable_fr, &h.root);
    if (tp_sth_sign(&h, log->sk) != TP_OK)
        return TP_ERR_CRYPTO;
    uint8_t rec[TP_AUDIT_HEAD_RECORD];
    put_u64(rec, h.tree_size);
    put_u64(rec + 8, h.timestamp_ms);
    memcpy(rec + 16, h.root.b, TP_MERKLE_HASH_LEN);
    memcpy(rec + 48, h.signature, TP_STH_SIG_LEN);
    if (write_all(log->heads_fd, rec, sizeof rec) != TP_OK || fdatasync(log->heads_fd) != 0)
        return TP_ERR_IO;
    log->head = h;
    log->have_head = 1;
    log->head_ms = now_ms;
    return TP_OK;
}

/* Rebuilds the writer's state from the last segment; truncates a torn last record. */
static enum tp_err recover(struct tp_audit_log *log, char *msg, size_t msglen)
{
    struct seglist segs;
    enum tp_err rc = list_segments(log->dir, &segs, msg, msglen);
    if (rc != TP_OK)
        return rc;
    if (segs.n == 0) {
        free(segs.first);
        struct tp_merkle_frontier empty;
        tp_merkle_frontier_init(&empty);
        if (log->have_head && log->head.tree_size > 0)
            return failf(msg, msglen, TP_ERR_CRYPTO,
                         "the access log has signed heads up to %llu events but no leaves",
                         (unsigned long long)log->head.tree_size);
        log->fr = log->durable_fr = empty;
        return segment_create(log, &empty, msg, msglen);
    }
    uint64_t first = segs.first[segs.n - 1];
    free(segs.first);
    char path[PATH_MAX_LEN + SEG_NAME_MAX];
    seg_path(log->dir, first, path, sizeof path);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return failf(msg, msglen, TP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct tp_merkle_frontier f;
    size_t hl;
    if (header_read(fd, log->mac_key, &f, &hl) != TP_OK || f.size != first) {
        close(fd);
        return failf(msg, msglen, TP_ERR_CRYPTO, "the header of %s is damaged", path);
    }
    struct reader r = {.fd = fd, .buf = malloc(READ_BUF), .file_off = (off_t)hl};
    if (!r.buf) {
        close(fd);
        return TP_ERR_NOMEM;
    }
    lseek(fd, (off_t)hl, SEEK_SET);
    const uint8_t *leaf, *tag;
    size_t len;
    int got;
    uint64_t count = 0;
    int64_t day = -1;
    rc = TP_OK;
    while ((got = reader_next(&r, &leaf, &len, &tag)) == 1) {
        struct tp_merkle_hash lh;
        uint8_t want[TP_AUDIT_TAG_LEN];
        tp_merkle_leaf_hash(leaf, len, &lh);
        record_tag(log->mac_key, f.size, &lh, want);
        if (sodium_memcmp(want, tag, TP_AUDIT_TAG_LEN) != 0) {
            rc = failf(msg, msglen, TP_ERR_CRYPTO,
                       "entry %llu of the access log does not match its tag: run `opentp audit "
                       "verify`",
                       (unsigned long long)f.size);
            break;
        }
        if (day < 0) {
            struct tp_access_event ev;
            if (tp_event_decode(leaf, len, &ev) == TP_OK)
                day = utc_day(ev.at_ms);
        }
        if (tp_merkle_frontier_append(&f, &lh) != TP_OK) {
            rc = TP_ERR_TOO_BIG;
            break;
        }
        count++;
    }
    if (rc == TP_OK && got < 0) {
        /* A record cut short at the very end: written, never synced, never acknowledged. */
        off_t keep = reader_offset(&r);
        if (ftruncate(fd, keep) != 0 || fdatasync(fd) != 0)
            rc = failf(msg, msglen, TP_ERR_IO, "cannot truncate the torn end of %s", path);
        else
            fprintf(stderr, "audit: dropped a torn record at the end of %s (never acknowledged)\n",
                    path);
    }
    free(r.buf);
    if (rc != TP_OK) {
        close(fd);
        return rc;
    }
    close(fd);
    if (log->have_head && log->head.tree_size > f.size)
        return failf(msg, msglen, TP_ERR_CRYPTO,
                     "the access log holds %llu events but a signed head covers %llu: events "
                     "are missing; run `opentp audit verify`",
                     (unsigned long long)f.size, (unsigned long long)log->head.tree_size);
    if (log->have_head && log->head.tree_size == f.size) {
        struct tp_merkle_hash root;
        tp_merkle_frontier_root(&f, &root);
        if (!tp_merkle_hash_equal(&root, &log->head.root))
            return failf(msg, msglen, TP_ERR_CRYPTO,
                         "the access log does not match its last signed head: run `opentp "
                         "audit verify`");
    }
    /* (A head older than the last segment is checked by `opentp audit verify`; checking it
     * here would mean rereading every segment at each start.) */
    log->seg_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (log->seg_fd < 0)
        return failf(msg, msglen, TP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    log->seg_first = first;
    log->seg_count = count;
    log->seg_day = day;
    log->fr = log->durable_fr = f;
    return TP_OK;
}

static enum tp_err write_pubkey(struct tp_audit_log *log, char *msg, size_t msglen)
{
    char path[PATH_MAX_LEN + 16], hex[2 * TP_STH_PUBLIC_KEY_LEN + 2];
    snprintf(path, sizeof path, "%s/sth.pub", log->dir);
    sodium_bin2hex(hex, sizeof hex - 1, log->pk, sizeof log->pk);
    size_t n = strlen(hex);
    hex[n] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, (uint8_t *)hex, n + 1) != TP_OK) {
        if (fd >= 0)
            close(fd);
        return failf(msg, msglen, TP_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    close(fd);
    return TP_OK;
}

enum tp_err tp_audit_log_open(const char *dir, const uint8_t mac_key[TP_AUDIT_KEY_LEN],
                              const uint8_t sign_seed[TP_STH_SEED_LEN],
                              const struct tp_audit_config *cfg, struct tp_audit_log **out,
                              char *msg, size_t msglen)
{
    *out = NULL;
    if (strlen(dir) >= PATH_MAX_LEN - SEG_NAME_MAX)
        return failf(msg, msglen, TP_ERR_INVALID, "access log path too long");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return failf(msg, msglen, TP_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    struct tp_audit_log *log = calloc(1, sizeof *log);
    if (!log)
        return TP_ERR_NOMEM;
    snprintf(log->dir, sizeof log->dir, "%s", dir);
    log->cfg = *cfg;
    if (log->cfg.segment_events == 0)
        log->cfg.segment_events = 1000000;
    memcpy(log->mac_key, mac_key, TP_AUDIT_KEY_LEN);
    log->seg_fd = log->heads_fd = -1;
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->commit_mu, NULL);
    enum tp_err rc = tp_sth_keypair_from_seed(sign_seed, log->pk, log->sk);
    if (rc != TP_OK)
        goto fail;
    char path[PATH_MAX_LEN + 16];
    snprintf(path, sizeof path, "%s/heads", dir);
    log->heads_fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log->heads_fd < 0) {
        rc = failf(msg, msglen, TP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    /* A torn last head (crash during its write) is cut off; the others must be whole. */
    struct stat st;
    if (fstat(log->heads_fd, &st) == 0 && st.st_size % TP_AUDIT_HEAD_RECORD)
        if (ftruncate(log->heads_fd, st.st_size - st.st_size % TP_AUDIT_HEAD_RECORD) != 0) {
            rc = failf(msg, msglen, TP_ERR_IO, "cannot repair %s", path);
            goto fail;
        }
    struct tp_sth *heads;
    size_t nheads;
    rc = load_heads_fd(log->heads_fd, &heads, &nheads);
    if (rc != TP_OK) {
        failf(msg, msglen, rc, "cannot read %s", path);
        goto fail;
    }
    if (nheads) {
        log->head = heads[nheads - 1];
        log->have_head = 1;
        if (tp_sth_verify(&log->head, log->pk) != TP_OK) {
            free(heads);
            rc = failf(msg, msglen, TP_ERR_CRYPTO,
                       "the last signed head of %s does not verify under this platform's key", dir);
            goto fail;
        }
    }
    free(heads);
    rc = write_pubkey(log, msg, msglen);
    if (rc != TP_OK)
        goto fail;
    rc = recover(log, msg, msglen);
    if (rc != TP_OK)
        goto fail;
    *out = log;
    return TP_OK;
fail:
    if (log->seg_fd >= 0)
        close(log->seg_fd);
    if (log->heads_fd >= 0)
        close(log->heads_fd);
    sodium_memzero(log, sizeof *log);
    free(log);
    return rc;
}

enum tp_err tp_audit_log_append(struct tp_audit_log *log, const uint8_t *leaf, size_t len,
                                uint64_t *index)
{
    if (len == 0 || len > TP_EVENT_LEAF_MAX)
        return TP_ERR_INVALID;
    struct tp_merkle_hash lh;
    tp_merkle_leaf_hash(leaf, len, &lh); /* outside the lock: the costly part */
    pthread_mutex_lock(&log->mu);
    enum tp_err rc = TP_OK;
    if (log->broken) {
        rc = TP_ERR_IO;
        goto out;
    }
    if (log->pend_cap - log->pend_len < RECORD_MAX) {
        size_t cap = log->pend_cap ? log->pend_cap * 2 : 64 * 1024;
        uint8_t *p = realloc(log->pend, cap);
        if (!p) {
            rc = TP_ERR_NOMEM;
            goto out;
        }
        log->pend = p;
        log->pend_cap = cap;
    }
    uint8_t *rec = log->pend + log->pend_len;
    rec[0] = (uint8_t)(len >> 8);
    rec[1] = (uint8_t)len;
    memcpy(rec + 2, leaf, len);
    record_tag(log->mac_key, log->fr.size, &lh, rec + 2 + len);
    *index = log->fr.size;
    rc = tp_merkle_frontier_append(&log->fr, &lh);
    if (rc == TP_OK)
        log->pend_len += 2 + len + TP_AUDIT_TAG_LEN;
    if (len >= 9) {
        uint64_t at = get_u64(leaf + 1);
        log->last_at_ms = at > INT64_MAX ? INT64_MAX : (int64_t)at;
    }
out:
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* Writes buf (whole records, the first being leaf `first`) into the current segment, starting
 * new segments when the current one is full or of another UTC day. */
static enum tp_err write_records(struct tp_audit_log *log, const uint8_t *buf, size_t len,
                                 uint64_t first, const struct tp_merkle_frontier *start)
{
    /* Usual case: the whole batch fits the current segment and day. Checking that reads only
     * lengths and times; the leaves are hashed again only when a new segment must start inside
     * the batch (its header needs the frontier at that point). */
    {
        uint64_t n_rec = 0;
        int64_t day0 = log->seg_day;
        int cross = 0;
        for (size_t at = 0; at < len;) {
            size_t n = (size_t)buf[at] << 8 | buf[at + 1];
            if (n >= 9) {
                int64_t day = utc_day((int64_t)(get_u64(buf + at + 3) & INT64_MAX));
                if (day0 < 0)
                    day0 = day;
                else if (day != day0)
                    cross = 1;
            }
            n_rec++;
            at += 2 + n + TP_AUDIT_TAG_LEN;
        }
        if (!cross && log->seg_count + n_rec <= log->cfg.segment_events &&
            (log->seg_day < 0 || log->seg_day == day0)) {
            if (write_all(log->seg_fd, buf, len) != TP_OK)
                return TP_ERR_IO;
            log->seg_count += n_rec;
            log->seg_day = day0;
            return TP_OK;
        }
    }
    struct tp_merkle_frontier f = *start; /* the tree before the record being written */
    size_t at = 0, chunk = 0;
    uint64_t index = first;
    while (at + chunk < len) {
        const uint8_t *rec = buf + at + chunk;
        size_t n = (size_t)rec[0] << 8 | rec[1];
        int64_t day = -1;
        if (n >= 9)
            day = utc_day((int64_t)(get_u64(rec + 3) & INT64_MAX));
        int full = log->seg_count >= log->cfg.segment_events;
        int other_day = log->seg_day >= 0 && day >= 0 && day != log->seg_day;
        if ((full || other_day) && log->seg_count > 0) {
            if (write_all(log->seg_fd, buf + at, chunk) != TP_OK || fdatasync(log->seg_fd) != 0)
                return TP_ERR_IO;
            at += chunk;
            chunk = 0;
            if (segment_create(log, &f, NULL, 0) != TP_OK)
                return TP_ERR_IO;
        }
        if (log->seg_day < 0)
            log->seg_day = day;
        struct tp_merkle_hash lh;
        tp_merkle_leaf_hash(rec + 2, n, &lh);
        if (tp_merkle_frontier_append(&f, &lh) != TP_OK)
            return TP_ERR_TOO_BIG;
        chunk += 2 + n + TP_AUDIT_TAG_LEN;
        log->seg_count++;
        index++;
    }
    (void)index;
    if (chunk && write_all(log->seg_fd, buf + at, chunk) != TP_OK)
        return TP_ERR_IO;
    return TP_OK;
}

enum tp_err tp_audit_log_commit(struct tp_audit_log *log, int64_t now_ms)
{
    pthread_mutex_lock(&log->commit_mu);
    pthread_mutex_lock(&log->mu);
    if (log->broken) {
        pthread_mutex_unlock(&log->mu);
        pthread_mutex_unlock(&log->commit_mu);
        return TP_ERR_IO;
    }
    uint8_t *buf = log->pend;
    size_t len = log->pend_len;
    struct tp_merkle_frontier upto = log->fr;
    log->pend = NULL;
    log->pend_len = log->pend_cap = 0;
    pthread_mutex_unlock(&log->mu);

    enum tp_err rc = TP_OK;
    if (len) {
        rc = write_records(log, buf, len, log->durable_fr.size, &log->durable_fr);
        if (rc == TP_OK && fdatasync(log->seg_fd) != 0)
            rc = TP_ERR_IO;
    }
    free(buf);
    if (rc == TP_OK) {
        log->durable_fr = upto;
        int grew = !log->have_head || log->head.tree_size != upto.size;
        if (grew && now_ms - log->head_ms >= log->cfg.head_interval_ms)
            rc = sign_head(log, now_ms);
    }
    if (rc != TP_OK) {
        pthread_mutex_lock(&log->mu);
        log->broken = 1; /* the file and the frontier may disagree now: stop appending */
        pthread_mutex_unlock(&log->mu);
    }
    pthread_mutex_unlock(&log->commit_mu);
    return rc;
}

void tp_audit_log_state(struct tp_audit_log *log, uint64_t *durable_size, struct tp_sth *head,
                        int *have_head)
{
    pthread_mutex_lock(&log->commit_mu);
    *durable_size = log->durable_fr.size;
    if (head)
        *head = log->head;
    if (have_head)
        *have_head = log->have_head;
    pthread_mutex_unlock(&log->commit_mu);
}

/* Time of the last event of a segment file (-1 if none can be read). */
static int64_t segment_last_ms(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct tp_merkle_frontier f;
    size_t hl;
    int64_t last = -1;
    if (header_read(fd, NULL, &f, &hl) == TP_OK) {
        struct reader r = {.fd = fd, .buf = malloc(READ_BUF), .file_off = (off_t)hl};
        if (r.buf) {
            lseek(fd, (off_t)hl, SEEK_SET);
            const uint8_t *leaf, *tag;
            size_t len;
            while (reader_next(&r, &leaf, &len, &tag) == 1)
                if (len >= 9)
                    last = (int64_t)(get_u64(leaf + 1) & INT64_MAX);
            free(r.buf);
        }
    }
    close(fd);
    return last;
}

enum tp_err tp_audit_log_retain(struct tp_audit_log *log, int64_t now_ms, uint64_t *dropped)
{
    *dropped = 0;
    if (log->cfg.retention_ms <= 0)
        return TP_OK;
    pthread_mutex_lock(&log->commit_mu);
    struct seglist segs;
    enum tp_err rc = list_segments(log->dir, &segs, NULL, 0);
    if (rc == TP_OK) {
        /* Oldest first, never the current (last) one: stop at the first segment to keep. */
        for (size_t i = 0; i + 1 < segs.n; i++) {
            char path[PATH_MAX_LEN + SEG_NAME_MAX];
            seg_path(log->dir, segs.first[i], path, sizeof path);
            int64_t last = segment_last_ms(path);
            if (last < 0 || last >= now_ms - log->cfg.retention_ms)
                break;
            if (unlink(path) != 0) {
                rc = TP_ERR_IO;
                break;
            }
            *dropped += segs.first[i + 1] - segs.first[i];
        }
        if (*dropped)
            fsync_dir(log->dir);
    }
    free(segs.first);
    pthread_mutex_unlock(&log->commit_mu);
    return rc;
}

void tp_audit_log_close(struct tp_audit_log *log, int64_t now_ms)
{
    if (!log)
        return;
    if (tp_audit_log_commit(log, now_ms) == TP_OK) {
        pthread_mutex_lock(&log->commit_mu);
        if (!log->have_head || log->head.tree_size != log->durable_fr.size)
            (void)sign_head(log, now_ms);
        pthread_mutex_unlock(&log->commit_mu);
    }
    if (log->seg_fd >= 0)
        close(log->seg_fd);
    if (log->heads_fd >= 0)
        close(log->heads_fd);
    free(log->pend);
    pthread_mutex_destroy(&log->mu);
    pthread_mutex_destroy(&log->commit_mu);
    sodium_memzero(log, sizeof *log);
    free(log);
}

/* ---------------------------------------------------------------------------------------
 * Reading */

static enum tp_err scan(const char *dir, const uint8_t *mac_key, int hash, tp_audit_leaf_cb cb,
                        void *ctx, uint64_t *bad_index, char *msg, size_t msglen);

enum tp_err tp_audit_scan(const char *dir, const uint8_t *mac_key, tp_audit_leaf_cb cb, void *ctx,
                          uint64_t *bad_index, char *msg, size_t msglen)
{
    return scan(dir, mac_key, 1, cb, ctx, bad_index, msg, msglen);
}

enum tp_err tp_audit_read(const char *dir, tp_audit_leaf_cb cb, void *ctx, uint64_t *bad_index,
                          char *msg, size_t msglen)
{
    return scan(dir, NULL, 0, cb, ctx, bad_index, msg, msglen);
}

static enum tp_err scan(const char *dir, const uint8_t *mac_key, int hash, tp_audit_leaf_cb cb,
                        void *ctx, uint64_t *bad_index, char *msg, size_t msglen)
{
    *bad_index = 0;
    struct seglist segs;
    enum tp_err rc = list_segments(dir, &segs, msg, msglen);
    if (rc != TP_OK)
        return rc;
    uint8_t *buf = malloc(READ_BUF);
    if (!buf) {
        free(segs.first);
        return TP_ERR_NOMEM;
    }
    uint64_t next = segs.n ? segs.first[0] : 0;
    for (size_t s = 0; rc == TP_OK && s < segs.n; s++) {
        char path[PATH_MAX_LEN + SEG_NAME_MAX];
        seg_path(dir, segs.first[s], path, sizeof path);
        if (segs.first[s] != next) {
            *bad_index = next;
            rc = failf(msg, msglen, TP_ERR_CRYPTO,
                       "entries %llu to %llu are missing (no segment holds them)",
                       (unsigned long long)next, (unsigned long long)segs.first[s] - 1);
            break;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = failf(msg, msglen, TP_ERR_IO, "cannot open %s: %s", path, strerror(errno));
            break;
        }
        struct tp_merkle_frontier f;
        size_t hl;
        if (header_read(fd, mac_key, &f, &hl) != TP_OK || f.size != segs.first[s]) {
            close(fd);
            *bad_index = next;
            rc = failf(msg, msglen, TP_ERR_CRYPTO, "the header of segment %s is damaged", path);
            break;
        }
        struct reader r = {.fd = fd, .buf = buf, .file_off = (off_t)hl};
        lseek(fd, (off_t)hl, SEEK_SET);
        const uint8_t *leaf, *tag;
        size_t len;
        int got;
        while ((got = reader_next(&r, &leaf, &len, &tag)) == 1) {
            struct tp_merkle_hash lh;
            if (hash || mac_key)
                tp_merkle_leaf_hash(leaf, len, &lh);
            if (mac_key) {
                uint8_t want[TP_AUDIT_TAG_LEN];
                record_tag(mac_key, next, &lh, want);
                if (sodium_memcmp(want, tag, TP_AUDIT_TAG_LEN) != 0) {
                    *bad_index = next;
                    rc = failf(msg, msglen, TP_ERR_CRYPTO,
                               "entry %llu was modified, removed, moved or inserted (its tag "
                               "does not match)",
                               (unsigned long long)next);
                    break;
                }
            }
            rc = cb(ctx, next, leaf, len, hash || mac_key ? &lh : NULL);
            if (rc != TP_OK)
                break;
            next++;
        }
        close(fd);
        /* A record cut short at the end of the last segment is being written right now (or
         * was, when a crash stopped it): not part of the log yet. Anywhere else it is damage. */
        if (rc == TP_OK && got < 0 && s + 1 < segs.n) {
            *bad_index = next;
            rc = failf(msg, msglen, TP_ERR_CRYPTO, "entry %llu is cut short (%s)",
                       (unsigned long long)next, path);
        }
    }
    free(buf);
    free(segs.first);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * Verification */

struct verify_ctx {
    const struct tp_sth *heads;
    size_t nheads, next_head;
    struct tp_merkle_frontier f;
    int started;
    struct tp_audit_report *rep;
    uint64_t last_good; /* size of the last head that matched */
};

/* Checks every head whose size the frontier has reached. */
static enum tp_err check_heads(struct verify_ctx *v)
{
    while (v->next_head < v->nheads && v->heads[v->next_head].tree_size == v->f.size) {
        struct tp_merkle_hash root;
        tp_merkle_frontier_root(&v->f, &root);
        if (!tp_merkle_hash_equal(&root, &v->heads[v->next_head].root)) {
            v->rep->ok = 0;
            v->rep->bad_index = v->last_good;
            snprintf(v->rep->reason, sizeof v->rep->reason,
                     "entries %llu to %llu do not match the signed head of size %llu (an entry "
                     "in that range was changed)",
                     (unsigned long long)v->last_good, (unsigned long long)v->f.size - 1,
                     (unsigned long long)v->f.size);
            return TP_ERR_CRYPTO;
        }
        v->rep->heads++;
        v->last_good = v->f.size;
        v->next_head++;
    }
    return TP_OK;
}

static enum tp_err verify_leaf(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                               const struct tp_merkle_hash *lh)
{
    struct verify_ctx *v = ctx;
    (void)leaf;
    (void)len;
    (void)index;
    enum tp_err rc = tp_merkle_frontier_append(&v->f, lh);
    if (rc != TP_OK)
        return rc;
    v->rep->events++;
    return check_heads(v);
}

enum tp_err tp_audit_verify(const char *dir, const uint8_t *mac_key,
                            const uint8_t public_key[TP_STH_PUBLIC_KEY_LEN],
                            struct tp_audit_report *rep, char *msg, size_t msglen)
{
    memset(rep, 0, sizeof *rep);
    rep->ok = 1;
    struct tp_sth *heads = NULL;
    size_t nheads = 0;
    enum tp_err rc = tp_audit_read_heads(dir, &heads, &nheads, msg, msglen);
    if (rc != TP_OK)
        return rc;
    for (size_t i = 0; i < nheads; i++) {
        if (tp_sth_verify(&heads[i], public_key) != TP_OK) {
            rep->ok = 0;
            rep->bad_index = i ? heads[i - 1].tree_size : 0;
            snprintf(rep->reason, sizeof rep->reason,
                     "signed head %zu (size %llu) has a bad signature", i,
                     (unsigned long long)heads[i].tree_size);
            free(heads);
            return TP_OK;
        }
        if (i && (heads[i].tree_size < heads[i - 1].tree_size ||
                  heads[i].timestamp_ms < heads[i - 1].timestamp_ms)) {
            rep->ok = 0;
            rep->bad_index = heads[i].tree_size;
            snprintf(rep->reason, sizeof rep->reason,
                     "signed head %zu goes back in size or time: the heads were tampered with", i);
            free(heads);
            return TP_OK;
        }
    }
    /* The first kept segment's header gives the frontier at the retention cut. */
    struct seglist segs;
    rc = list_segments(dir, &segs, msg, msglen);
    if (rc != TP_OK) {
        free(heads);
        return rc;
    }
    struct verify_ctx v = {.heads = heads, .nheads = nheads, .rep = rep};
    tp_merkle_frontier_init(&v.f);
    if (segs.n) {
        char path[PATH_MAX_LEN + SEG_NAME_MAX];
        seg_path(dir, segs.first[0], path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t hl;
        if (fd < 0 || header_read(fd, mac_key, &v.f, &hl) != TP_OK || v.f.size != segs.first[0]) {
            if (fd >= 0)
                close(fd);
            rep->ok = 0;
            rep->bad_index = segs.first[0];
            free(segs.first);
            free(heads);
            snprintf(rep->reason, sizeof rep->reason, "the header of the first segment is damaged");
            return TP_OK;
        }
        close(fd);
    }
    free(segs.first);
    rep->first = v.f.size;
    v.last_good = v.f.size;
    /* Heads from before the cut can only have their signatures checked. */
    while (v.next_head < nheads && heads[v.next_head].tree_size < v.f.size) {
        rep->heads_unchecked++;
        v.next_head++;
    }
    rc = check_heads(&v);
    uint64_t bad = 0;
    char why[200] = "";
    if (rc == TP_OK)
        rc = tp_audit_scan(dir, mac_key, verify_leaf, &v, &bad, why, sizeof why);
    if (rc == TP_ERR_CRYPTO && rep->ok) {
        rep->ok = 0;
        rep->bad_index = bad;
        snprintf(rep->reason, sizeof rep->reason, "%s", why);
    } else if (rc != TP_OK && rc != TP_ERR_CRYPTO) {
        free(heads);
        return failf(msg, msglen, rc, "%s", why);
    }
    if (rep->ok && v.next_head < nheads) {
        /* With the tags every entry read was proved in place, so the loss is exactly at the
         * end; without them, what follows the last matching head is unproved. */
        rep->ok = 0;
        rep->bad_index = mac_key ? v.f.size : v.last_good;
        snprintf(rep->reason, sizeof rep->reason,
                 "the log ends at %llu events but a signed head covers %llu: entries from %llu on "
                 "were removed%s",
                 (unsigned long long)v.f.size, (unsigned long long)heads[nheads - 1].tree_size,
                 (unsigned long long)rep->bad_index, mac_key ? "" : " or changed");
    }
    free(heads);
    return TP_OK;
}

/* ---------------------------------------------------------------------------------------
 * Proofs: the leaf hashes of [first kept, size) in memory (32 bytes per event). */

struct collect_ctx {
    struct tp_merkle_hash *hashes;
    uint64_t first, size;
    uint64_t want_index;
    uint8_t *leaf;
    size_t *leaf_len;
};

static enum tp_err collect_leaf(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                                const struct tp_merkle_hash *lh)
{
    struct collect_ctx *c = ctx;
    if (index >= c->size)
        return TP_ERR_CONFLICT; /* enough: stops the scan (not an error for the caller) */
    c->hashes[index - c->first] = *lh;
    if (c->leaf && index == c->want_index) {
        memcpy(c->leaf, leaf, len);
        *c->leaf_len = len;
    }
    return TP_OK;
}

static enum tp_err offset_leaf(void *ctx, uint64_t index, struct tp_merkle_hash *out)
{
    struct collect_ctx *c = ctx;
    if (index < c->first || index >= c->size)
        return TP_ERR_NOT_FOUND;
    *out = c->hashes[index - c->first];
    return TP_OK;
}

/* Loads what proofs up to `size` need; src is ready to use on success (free c->hashes). */
static enum tp_err load_for_proof(const char *dir, uint64_t size, struct collect_ctx *c,
                                  struct tp_merkle_frontier *cut, struct tp_merkle_source *src,
                                  char *msg, size_t msglen)
{
    struct seglist segs;
    enum tp_err rc = list_segments(dir, &segs, msg, msglen);
    if (rc != TP_OK)
        return rc;
    tp_merkle_frontier_init(cut);
    if (segs.n) {
        char path[PATH_MAX_LEN + SEG_NAME_MAX];
        seg_path(dir, segs.first[0], path, sizeof path);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t hl;
        if (fd < 0 || header_read(fd, NULL, cut, &hl) != TP_OK) {
            if (fd >= 0)
                close(fd);
            free(segs.first);
            return failf(msg, msglen, TP_ERR_CRYPTO, "the first segment is damaged");
        }
        close(fd);
    }
    free(segs.first);
    c->first = cut->size;
    c->size = size;
    if (size < c->first)
        return failf(msg, msglen, TP_ERR_NOT_FOUND, "entries before %llu were dropped by retention",
                     (unsigned long long)c->first);
    c->hashes = malloc((size_t)(size - c->first + 1) * sizeof *c->hashes);
    if (!c->hashes)
        return failf(msg, msglen, TP_ERR_NOMEM, "not enough memory for %llu leaf hashes",
                     (unsigned long long)(size - c->first));
    uint64_t bad;
    char why[200] = "";
    rc = tp_audit_scan(dir, NULL, collect_leaf, c, &bad, why, sizeof why);
    if (rc == TP_ERR_CONFLICT)
        rc = TP_OK;
    if (rc != TP_OK) {
        free(c->hashes);
        c->hashes = NULL;
        return failf(msg, msglen, rc, "%s", why);
    }
    *src = (struct tp_merkle_source){
        .leaf = offset_leaf, .ctx = c, .first = c->first, .cut = c->first ? cut : NULL};
    return TP_OK;
}

static uint64_t log_size(const char *dir)
{
    struct seglist segs;
    if (list_segments(dir, &segs, NULL, 0) != TP_OK || segs.n == 0) {
        free(segs.first);
        return 0;
    }
    uint64_t first = segs.first[segs.n - 1];
    free(segs.first);
    char path[PATH_MAX_LEN + SEG_NAME_MAX];
    seg_path(dir, first, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return first;
    struct tp_merkle_frontier f;
    size_t hl;
    uint64_t n = first;
    if (header_read(fd, NULL, &f, &hl) == TP_OK) {
        struct reader r = {.fd = fd, .buf = malloc(READ_BUF), .file_off = (off_t)hl};
        if (r.buf) {
            lseek(fd, (off_t)hl, SEEK_SET);
            const uint8_t *leaf, *tag;
            size_t len;
            while (reader_next(&r, &leaf, &len, &tag) == 1)
                n++;
            free(r.buf);
        }
    }
    close(fd);
    return n;
}

enum tp_err tp_audit_prove_inclusion(const char *dir, uint64_t index, uint64_t size, uint8_t *leaf,
                                     size_t *leaf_len, struct tp_merkle_proof *proof,
                                     struct tp_merkle_hash *root, char *msg, size_t msglen)
{
    uint64_t have = log_size(dir);
    if (size == 0)
        size = have;
    if (size > have || index >= size)
        return failf(msg, msglen, TP_ERR_INVALID,
                     "the log holds %llu events: no entry %llu in a tree of %llu",
                     (unsigned long long)have, (unsigned long long)index, (unsigned long long)size);
    *leaf_len = 0;
    struct collect_ctx c = {.want_index = index, .leaf = leaf, .leaf_len = leaf_len};
    struct tp_merkle_frontier cut;
    struct tp_merkle_source src;
    enum tp_err rc = load_for_proof(dir, size, &c, &cut, &src, msg, msglen);
    if (rc != TP_OK)
        return rc;
    if (index < c.first) {
        free(c.hashes);
        return failf(msg, msglen, TP_ERR_NOT_FOUND, "entry %llu was dropped by retention",
                     (unsigned long long)index);
    }
    rc = tp_merkle_inclusion_proof(&src, index, size, proof);
    if (rc == TP_OK)
        rc = tp_merkle_source_root(&src, size, root);
    free(c.hashes);
    if (rc != TP_OK)
        return failf(msg, msglen, rc, "cannot build the proof");
    return TP_OK;
}

enum tp_err tp_audit_prove_consistency(const char *dir, uint64_t first, uint64_t second,
                                       struct tp_merkle_proof *proof, struct tp_merkle_hash *root1,
                                       struct tp_merkle_hash *root2, char *msg, size_t msglen)
{
    uint64_t have = log_size(dir);
    if (second == 0)
        second = have;
    if (first > second || second > have)
        return failf(msg, msglen, TP_ERR_INVALID,
                     "the log holds %llu events: no consistency between %llu and %llu",
                     (unsigned long long)have, (unsigned long long)first,
                     (unsigned long long)second);
    struct collect_ctx c = {0};
    struct tp_merkle_frontier cut;
    struct tp_merkle_source src;
    enum tp_err rc = load_for_proof(dir, second, &c, &cut, &src, msg, msglen);
    if (rc != TP_OK)
        return rc;
    rc = tp_merkle_consistency_proof(&src, first, second, proof);
    if (rc == TP_OK)
        rc = tp_merkle_source_root(&src, first, root1);
    if (rc == TP_OK)
        rc = tp_merkle_source_root(&src, second, root2);
    free(c.hashes);
    if (rc != TP_OK)
        return failf(msg, msglen, rc,
                     rc == TP_ERR_NOT_FOUND ? "that needs entries dropped by retention"
                                            : "cannot build the proof");
    return TP_OK;
}
