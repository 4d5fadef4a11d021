/* Loading the common-password list (password_list.h). */
#include "security/password_list.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tp_password_list {
    char *buf;          /* the file, lines NUL-terminated and folded in place */
    const char **words; /* into buf: sorted, unique */
    struct tp_password_words view;
    size_t skipped;
};

static int cmp_word(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Reads the whole regular file at path into a fresh NUL-terminated buffer. */
static enum tp_err read_file(const char *path, char **out, size_t *outlen, char *msg, size_t msglen)
{
    *out = NULL;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open the password list %s: %s", path,
                       strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tp_fail(msg, msglen, TP_ERR_IO, "the password list %s is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > TP_PASSWORD_LIST_MAX_FILE) {
        close(fd);
        return tp_fail(msg, msglen, TP_ERR_TOO_BIG, "the password list %s is larger than %zu MiB",
                       path, TP_PASSWORD_LIST_MAX_FILE >> 20);
    }
    const size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "no memory for the password list");
    }
    size_t got = 0;
    while (got < size) {
        const ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* An error, or the file shrank under us: either way not the list we sized. */
            const int e = r < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return tp_fail(msg, msglen, TP_ERR_IO, "cannot read the password list %s: %s", path,
                           strerror(e));
        }
        got += (size_t)r;
    }
    close(fd);
    buf[size] = '\0';
    *out = buf;
    *outlen = size;
    return TP_OK;
}

enum tp_err tp_password_list_load(const char *path, struct tp_password_list **out, char *msg,
                                  size_t msglen)
{
    *out = NULL;
    struct tp_password_list *l = calloc(1, sizeof *l);
    if (!l)
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "no memory for the password list");
    size_t size = 0;
    enum tp_err rc = read_file(path, &l->buf, &size, msg, msglen);
    if (rc != TP_OK) {
        free(l);
        return rc;
    }

    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += l->buf[i] == '\n';
    l->words = malloc(lines * sizeof *l->words);
    if (!l->words) {
        tp_password_list_free(l);
        return tp_fail(msg, msglen, TP_ERR_NOMEM, "no memory for the password list");
    }

    size_t n = 0;
    char *line = l->buf;
    char *const end = l->buf + size;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            nl = end; /* last line without LF: buf[size] is already NUL */
        size_t len = (size_t)(nl - line);
        if (len > 0 && line[len - 1] == '\r')
            len--;
        line[len] = '\0';
        if (len == 0 || line[0] == '#') {
            /* blank line or comment */
        } else if (len > TP_PASSWORD_MAX_BYTES || tp_password_fold(line, len, line) != TP_OK) {
            l->skipped++;
        } else {
            l->words[n++] = line;
        }
        line = nl + 1;
    }

    qsort(l->words, n, sizeof *l->words, cmp_word);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || strcmp(l->words[unique - 1], l->words[i]) != 0)
            l->words[unique++] = l->words[i];

    l->view.words = l->words;
    l->view.n = unique;
    *out = l;
    return TP_OK;
}

void tp_password_list_free(struct tp_password_list *list)
{
    if (!list)
        return;
    free(list->words);
    free(list->buf);
    free(list);
}

const struct tp_password_words *tp_password_list_words(const struct tp_password_list *list)
{
    return &list->view;
}

size_t tp_password_list_skipped(const struct tp_password_list *list)
{
    return list->skipped;
}
