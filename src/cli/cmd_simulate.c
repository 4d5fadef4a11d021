/* opentp simulate: a working day of a legitimate PS population and the 2024 attack, replayed
 * against the real server on 127.0.0.1 under a scaled clock (issue 5, docs/DETECTION.md
 * "Simulation").
 *
 * The command creates its own platform (the demo population, marked DIR/SIMULATION so that
 * `opentp serve --clock-speed` accepts it), gives every PS an API token and some of them a web
 * account (password + TOTP), starts `opentp serve` on it with a clock K times faster than real
 * time, and then plays, in simulated time:
 *
 *   - the legitimate day: per profession a daily volume, an hourly rhythm (a pharmacy's
 *     opening and late-afternoon bursts, a hospital round the clock), repeat patients and
 *     mistyped cards; most checks followed, minutes to hours later, by the claim (or the PEC)
 *     for the same beneficiary; web users sign in again when their session idles out, and
 *     answer a step-up as the person would;
 *   - the attacks, each in its own PS account: a phished web session (password and TOTP
 *     secret, answering every step-up with a fresh code) and a stolen API token looking up
 *     valid card data at several paces, honouring Retry-After; an enumerator guessing member
 *     numbers of a known AMC.
 *
 * It reports, per attack, the beneficiaries disclosed (200 or 422 rights_closed answers, all
 * distinct) before containment and how it was contained; for the legitimate population, the
 * accounts suspended (target 0), asked for a step-up or slowed down, and the checks, claims
 * and PECs done. The exit status is 1 when a target is missed.
 *
 * The client is plain sockets (HTTP/1.1 keep-alive, one connection per worker thread): the
 * simulated clock of both sides is the same formula (http/clock.h), so TOTP codes are
 * computed here at the simulated time. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/token.h"
#include "core/date.h"
#include "core/population.h"
#include "http/clock.h"
#include "security/account_new.h"
#include "security/password_list.h"
#include "security/totp.h"

#ifndef TP_DATA_DIR
#define TP_DATA_DIR "data"
#endif

#define SIM_PASSWORD "Simulation-Tiers-Payant-2026"
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define REPLY_MAX (64 * 1024)
#define MAX_EVENTS (8u << 20)
#define MAX_WORKERS 128
#define MAX_ATTACKS 16
#define SEEN_RING 64
#define TARGET_DISCLOSED 50
#define LATE_MAX_MS (5 * MIN_MS) /* beyond, the run is not faithful */
#define LOCAL_OFFSET_MS HOUR_MS  /* usual hours are local time, UTC+1 (as data/detect.conf) */

/* ---------------------------------------------------------------- professions' day ------- */

enum rhythm { SHOP, LAB, OFFICE, HOSPITAL, TRANSPORT };

/* Relative weight of each local hour in a day's checks. */
static const uint8_t rhythm_weights[][24] = {
    /* SHOP: pharmacy, opening and late-afternoon bursts */
    [SHOP] = {0, 0, 0, 0, 0, 0, 0, 0, 3, 9, 7, 6, 4, 3, 4, 5, 6, 8, 9, 5, 1, 0, 0, 0},
    /* LAB: sampling in the morning */
    [LAB] = {0, 0, 0, 0, 0, 0, 0, 8, 10, 9, 7, 5, 2, 2, 3, 3, 3, 3, 2, 1, 0, 0, 0, 0},
    /* OFFICE: appointments, lunch break */
    [OFFICE] = {0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 6, 6, 2, 2, 5, 6, 6, 6, 5, 3, 0, 0, 0, 0},
    /* HOSPITAL: admissions desk round the clock, mostly by day */
    [HOSPITAL] = {1, 1, 1, 1, 1, 1, 2, 3, 6, 7, 7, 6, 4, 5, 6, 6, 5, 4, 3, 2, 2, 1, 1, 1},
    /* TRANSPORT: runs all day, a little at night */
    [TRANSPORT] = {1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1},
};

struct profile {
    enum tp_domain domain; /* of its checks */
    enum rhythm rhythm;
    uint32_t day_min, day_max;     /* checks a day */
    uint32_t claim_permille;       /* checks followed by a claim / PEC */
    uint32_t delay_min, delay_max; /* minutes from the check to the claim / PEC */
    int pec;                       /* settles with a PEC (quote) rather than a claim */
};

static const struct profile profiles[TP_PROF_COUNT] = {
    [TP_PROF_PHARMACIE] = {TP_DOM_PHARMACIE, SHOP, 100, 300, 900, 1, 10, 0},
    [TP_PROF_OPTICIEN] = {TP_DOM_OPTIQUE, OFFICE, 10, 30, 750, 5, 60, 1},
    [TP_PROF_AUDIOPROTHESISTE] = {TP_DOM_AUDIO, OFFICE, 5, 15, 700, 10, 90, 1},
    [TP_PROF_DENTISTE] = {TP_DOM_DENTAIRE, OFFICE, 15, 40, 850, 10, 60, 0},
    [TP_PROF_HOPITAL] = {TP_DOM_HOSPITALISATION, HOSPITAL, 400, 800, 900, 5, 60, 1},
    /* a laboratory bills when it registers the sample (the prescription gives the acts) */
    [TP_PROF_LABORATOIRE] = {TP_DOM_LABORATOIRE, LAB, 80, 250, 900, 5, 60, 0},
    [TP_PROF_MEDECIN] = {TP_DOM_CONSULTATION, OFFICE, 20, 50, 900, 1, 15, 0},
    [TP_PROF_RADIOLOGUE] = {TP_DOM_RADIOLOGIE, OFFICE, 50, 150, 900, 10, 60, 0},
    [TP_PROF_INFIRMIER] = {TP_DOM_AUXILIAIRE, OFFICE, 10, 30, 850, 5, 120, 0},
    [TP_PROF_KINE] = {TP_DOM_AUXILIAIRE, OFFICE, 10, 25, 850, 5, 60, 0},
    [TP_PROF_TRANSPORTEUR] = {TP_DOM_TRANSPORT, TRANSPORT, 10, 30, 850, 30, 240, 0},
};

#define REPEAT_PERMILLE 100 /* checks of a patient this PS already checked today */
#define TYPO_PERMILLE 20    /* mistyped card data: "not found" */

/* ---------------------------------------------------------------- state ------------------ */

struct card {
    char amc[10];
    char member[TP_MEMBER_MAX];
    char nir[16]; /* "" when identified by birth data */
    tp_day birth;
    uint8_t rank;
    uint32_t domains;
};

struct sim_ps {
    pthread_mutex_t mu;
    int64_t ps_id;
    enum tp_profession prof;
    int web; /* signs in with password + TOTP; else an API token */
    char token[TP_TOKEN_TEXT_LEN + 1];
    char login[64];
    uint8_t totp[TP_TOTP_SECRET_MAX];
    size_t totp_len;
    int64_t totp_last_step;
    char session[128];
    int64_t last_use;
    int32_t seen[SEEN_RING];
    /* distinct beneficiaries disclosed to it today, and whether a claim/PEC followed */
    int32_t *ben;
    uint8_t *settled;
    uint32_t nben, capben;
    atomic_uint nseen, invoice;
    atomic_int dead;
    /* what happened to it */
    atomic_uint checks, found, closed, not_found, claims, pecs, claim_errors, errors, logins;
    atomic_uint step_ups, slowed, suspended, revoked;
    /* A web user is one person: mu serialises its events (and its session). Practice software
     * behind a token sends concurrent requests; state_mu guards the lists and the text. */
    pthread_mutex_t state_mu;
    char first_refusal[256];
};

enum ev_kind { EV_CHECK, EV_SETTLE };

struct event {
    int64_t at; /* simulated ms */
    uint32_t ps;
    uint8_t kind;
    uint8_t typo;
    int32_t card;
    char engagement[20];
};

enum attack_mode { A_SESSION, A_TOKEN, A_ENUM };

struct attack {
    enum attack_mode mode;
    int64_t interval_ms; /* simulated; 0: as fast as the server answers */
    int64_t start;       /* simulated ms */
    uint32_t ps;         /* its own account */
    uint32_t first_card;
    /* results */
    uint32_t disclosed, requests, slowed, step_ups, not_found, errors;
    int contained;
    unsigned status;
    char code[40];
    char reason[200];
    int64_t contained_at, ended_at;
};

static struct sim {
    const char *dir;
    int64_t speed;
    int64_t sim0, real0; /* simulated ms at real ms */
    int64_t begin, end;  /* simulated window */
    int64_t local_midnight;
    uint16_t port;
    struct card *cards;
    uint32_t ncards;
    int32_t *by_domain[TP_DOM_COUNT];
    uint32_t nby_domain[TP_DOM_COUNT];
    struct sim_ps *ps;
    uint32_t nps, nlegit; /* legit PS are ps[0..nlegit) */
    struct attack attacks[MAX_ATTACKS];
    uint32_t nattacks;
    /* the event queue: a binary heap ordered by time */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct event *heap;
    uint32_t nheap, capheap;
    atomic_int stop;
    atomic_llong late_max, late_over_min, dropped, executed, deferred, requests, request_us;
    int64_t play_real_ms; /* real duration of the simulated window */
} S;

/* ---------------------------------------------------------------- clock ------------------ */

static int64_t real_ms(void)
{
    return tp_clock_real_ms();
}

/* The server's clock, by the same formula (http/clock.h). */
static int64_t sim_now(void)
{
    return S.sim0 + S.speed * (real_ms() - S.real0);
}

static int64_t real_of(int64_t sim)
{
    return S.real0 + (sim - S.sim0) / S.speed;
}

static void sleep_real(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void sleep_until_sim(int64_t sim)
{
    sleep_real(real_of(sim) - real_ms());
}

static void sim_date(int64_t sim, char out[11])
{
    time_t t = (time_t)(sim / 1000);
    struct tm tm;
    localtime_r(&t, &tm); /* as the server's today() */
    tp_date_format(tp_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), out);
}

static void hhmm(int64_t sim, char out[6])
{
    int64_t m = ((sim - S.local_midnight) / MIN_MS) % (24 * 60);
    if (m < 0)
        m += 24 * 60;
    snprintf(out, 6, "%02d:%02d", (int)(m / 60), (int)(m % 60));
}

/* ---------------------------------------------------------------- randomness ------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rnd_below(uint64_t *s, uint32_t n)
{
    return n ? (uint32_t)(splitmix(s) % n) : 0;
}

static uint32_t rnd_range(uint64_t *s, uint32_t lo, uint32_t hi)
{
    return lo + rnd_below(s, hi - lo + 1);
}

/* ---------------------------------------------------------------- HTTP client ------------ */

struct conn {
    int fd;
    uint32_t src; /* source address (network order), 0: any */
    char buf[REPLY_MAX];
};

struct reply {
    unsigned status;
    int retry_after_s;
    const char *body; /* into the connection's buffer, NUL-terminated */
    size_t body_len;
};

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int conn_open(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = 30};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (c->src) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = c->src};
        if (bind(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
            conn_close(c);
            return -1;
        }
    }
    struct sockaddr_in d = {.sin_family = AF_INET, .sin_port = htons(S.port)};
    d.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&d, sizeof d) != 0) {
        conn_close(c);
        return -1;
    }
    return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* One request and its reply on a keep-alive connection. 0, or -1 when the connection failed. */
static int exchange(struct conn *c, const char *method, const char *path, const char *bearer,
                    const char *body, struct reply *r)
{
    char head[512];
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n",
                     method, path, bearer ? "Authorization: Bearer " : "", bearer ? bearer : "",
                     bearer ? "\r\n" : "", blen);
    if (n <= 0 || (size_t)n >= sizeof head)
        return -1;
    if (send_all(c->fd, head, (size_t)n) != 0 || (blen && send_all(c->fd, body, blen) != 0))
        return -1;
    size_t got = 0, hdr_end = 0;
    char *eoh = NULL;
    while (!eoh) {
        if (got >= sizeof c->buf - 1)
            return -1;
        ssize_t k = recv(c->fd, c->buf + got, sizeof c->buf - 1 - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
        c->buf[got] = '\0';
        eoh = strstr(c->buf, "\r\n\r\n");
    }
    hdr_end = (size_t)(eoh - c->buf) + 4;
    unsigned status = 0;
    if (sscanf(c->buf, "HTTP/1.%*d %u", &status) != 1)
        return -1;
    size_t clen = 0;
    int close_after = 0;
    r->retry_after_s = 0;
    for (char *line = strstr(c->buf, "\r\n"); line && line + 2 < eoh;
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, "Content-Length:", 15) == 0)
            clen = (size_t)strtoul(h + 15, NULL, 10);
        else if (strncasecmp(h, "Retry-After:", 12) == 0)
            r->retry_after_s = atoi(h + 12);
        else if (strncasecmp(h, "Connection: close", 17) == 0)
            close_after = 1;
    }
    if (hdr_end + clen >= sizeof c->buf)
        return -1;
    while (got < hdr_end + clen) {
        ssize_t k = recv(c->fd, c->buf + got, hdr_end + clen - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    c->buf[hdr_end + clen] = '\0';
    r->status = status;
    r->body = c->buf + hdr_end;
    r->body_len = clen;
    if (close_after)
        conn_close(c);
    return 0;
}

/* exchange(), reconnecting once if the kept-alive connection was closed under us. status 0
 * when the server could not be reached. */
static void call(struct conn *c, const char *method, const char *path, const char *bearer,
                 const char *body, struct reply *r)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        if (c->fd < 0 && conn_open(c) != 0) {
            sleep_real(50);
            continue;
        }
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (exchange(c, method, path, bearer, body, r) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &b);
            atomic_fetch_add(&S.requests, 1);
            atomic_fetch_add(&S.request_us,
                             (b.tv_sec - a.tv_sec) * 1000000 + (b.tv_nsec - a.tv_nsec) / 1000);
            return;
        }
        conn_close(c);
    }
    r->status = 0;
    r->retry_after_s = 0;
    r->body = "";
    r->body_len = 0;
}

/* The error code of an error reply ("" if none), and its message. */
static void error_of(const struct reply *r, char *code, size_t codecap, char *msg, size_t msgcap)
{
    if (code && codecap)
        code[0] = '\0';
    if (msg && msgcap)
        msg[0] = '\0';
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (!j)
        return;
    json_t *e = json_object_get(j, "error");
    const char *c = json_string_value(json_object_get(e, "code"));
    const char *m = json_string_value(json_object_get(e, "message"));
    if (c && code)
        snprintf(code, codecap, "%s", c);
    if (m && msg)
        snprintf(msg, msgcap, "%s", m);
    json_decref(j);
}

/* ---------------------------------------------------------------- TOTP and sign-in ------- */

/* A code for the simulated now that the server has not seen used yet (steps only go up). */
static void fresh_totp(const uint8_t *secret, size_t len, int64_t *last_step, char out[7])
{
    int64_t step = tp_totp_step(sim_now() / 1000);
    if (step <= *last_step) {
        sleep_until_sim((*last_step + 1) * 30000 + 500);
        step = tp_totp_step(sim_now() / 1000);
    }
    *last_step = step;
    uint32_t code = tp_totp_code(secret, len, (uint64_t)step, 6);
    snprintf(out, 7, "%06u", code % 1000000u);
}

/* Signs in (password + TOTP). 0 and the session in out, or the refusal's status. */
static unsigned sign_in(struct conn *c, const char *login, const uint8_t *secret, size_t len,
                        int64_t *last_step, char *out, size_t cap)
{
    struct reply r = {0};
    for (int attempt = 0; attempt < 8; attempt++) {
        char code[7], body[256];
        fresh_totp(secret, len, last_step, code);
        snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\",\"totp\":\"%s\"}", login,
                 SIM_PASSWORD, code);
        call(c, "POST", "/api/v1/auth/login", NULL, body, &r);
        if (r.status == 200) {
            json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
            const char *s = json_string_value(json_object_get(j, "session"));
            snprintf(out, cap, "%s", s ? s : "");
            json_decref(j);
            return s ? 0 : 500;
        }
        if (r.status == 429 || r.status == 503) { /* the per-address throttle, hashing queue */
            sleep_until_sim(sim_now() + (r.retry_after_s > 0 ? r.retry_after_s : 1) * 1000LL);
            continue;
        }
        if (r.status == 401 && attempt < 1)
            continue; /* a code at a step boundary: the next one */
        break;
    }
    return r.status ? r.status : 599;
}

static int step_up(struct conn *c, const char *session, const uint8_t *secret, size_t len,
                   int64_t *last_step)
{
    for (int attempt = 0; attempt < 4; attempt++) {
        char code[7], body[64];
        struct reply r;
        fresh_totp(secret, len, last_step, code);
        snprintf(body, sizeof body, "{\"totp\":\"%s\"}", code);
        call(c, "POST", "/api/v1/auth/step-up", session, body, &r);
        if (r.status == 200)
            return 0;
        if (r.status == 429)
            sleep_until_sim(sim_now() + (r.retry_after_s > 0 ? r.retry_after_s : 1) * 1000LL);
        else if (r.status != 401)
            return -1;
    }
    return -1;
}

/* ---------------------------------------------------------------- request bodies --------- */

static int card_json(const struct card *k, int typo, char *out, size_t cap)
{
    char member[TP_MEMBER_MAX];
    snprintf(member, sizeof member, "%s", k->member);
    if (typo) { /* one character off: matches nobody */
        size_t n = strlen(member);
        char *ch = &member[n - 1];
        *ch = (*ch >= '0' && *ch <= '8') ? (char)(*ch + 1) : (*ch == '9' ? '0' : 'A');
    }
    if (k->nir[0])
        return snprintf(out, cap, "\"amc\":\"%s\",\"member\":\"%s\",\"nir\":\"%s\"", k->amc, member,
                        k->nir);
    char bd[11];
    tp_date_format(k->birth, bd);
    return snprintf(out, cap,
                    "\"amc\":\"%s\",\"member\":\"%s\",\"birth_date\":\"%s\",\"birth_rank\":%u",
                    k->amc, member, bd, (unsigned)k->rank);
}

/* One line of care typical of the profession: code, price, BR (0: none sent). */
static void care_line(enum tp_profession p, uint64_t *rng, char *out, size_t cap, uint32_t *total)
{
    const char *code = "PH7", *side = NULL;
    uint32_t qty = 1, price = 1000, br = 1;
    switch (p) {
    case TP_PROF_PHARMACIE:
        qty = rnd_range(rng, 1, 3), price = rnd_range(rng, 200, 2500);
        break;
    case TP_PROF_OPTICIEN:
        code = "OPT_LENT", price = rnd_range(rng, 5000, 20000);
        break;
    case TP_PROF_AUDIOPROTHESISTE:
        code = "AUD_II", price = rnd_range(rng, 80000, 150000), br = 0;
        side = "R"; /* a hearing aid is per ear */
        break;
    case TP_PROF_DENTISTE:
        code = "SDE", price = rnd_range(rng, 2000, 8000);
        break;
    case TP_PROF_HOPITAL:
        code = "SEJ", price = rnd_range(rng, 50000, 300000);
        break;
    case TP_PROF_LABORATOIRE:
        code = "B", price = rnd_range(rng, 1500, 9000);
        break;
    case TP_PROF_MEDECIN:
        code = "G", price = 3000, br = 0;
        break;
    case TP_PROF_RADIOLOGUE:
        code = "ADI", price = rnd_range(rng, 2500, 9000);
        break;
    case TP_PROF_INFIRMIER:
        code = "AMI", price = rnd_range(rng, 1000, 3000);
        break;
    case TP_PROF_KINE:
        code = "AMK", price = rnd_range(rng, 1500, 3000);
        break;
    case TP_PROF_TRANSPORTEUR:
        code = "TAX", price = rnd_range(rng, 2500, 12000);
        break;
    default:
        break;
    }
    *total = qty * price;
    if (side)
        snprintf(out, cap,
                 "[{\"code\":\"%s\",\"quantity\":%u,\"unit_price_cents\":%u,\"side\":\"%s\"}]",
                 code, qty, price, side);
    else if (br)
        snprintf(out, cap,
                 "[{\"code\":\"%s\",\"quantity\":%u,\"unit_price_cents\":%u,\"br_cents\":%u}]",
                 code, qty, price, price);
    else
        snprintf(out, cap, "[{\"code\":\"%s\",\"quantity\":%u,\"unit_price_cents\":%u}]", code, qty,
                 price);
}

/* ---------------------------------------------------------------- event queue ------------ */

static int heap_less(const struct event *a, const struct event *b)
{
    return a->at < b->at;
}

static int push_locked(const struct event *e)
{
    if (S.nheap == S.capheap) {
        if (S.capheap >= MAX_EVENTS)
            return -1;
        uint32_t cap = S.capheap ? S.capheap * 2 : 4096;
        struct event *h = realloc(S.heap, (size_t)cap * sizeof *h);
        if (!h)
            return -1;
        S.heap = h, S.capheap = cap;
    }
    uint32_t i = S.nheap++;
    while (i && heap_less(e, &S.heap[(i - 1) / 2])) {
        S.heap[i] = S.heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    S.heap[i] = *e;
    return 0;
}

static void push(const struct event *e)
{
    pthread_mutex_lock(&S.qmu);
    if (push_locked(e) != 0)
        atomic_fetch_add(&S.dropped, 1);
    pthread_cond_signal(&S.qcv);
    pthread_mutex_unlock(&S.qmu);
}

static struct event pop_locked(void)
{
    struct event top = S.heap[0], last = S.heap[--S.nheap];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < S.nheap && heap_less(&S.heap[l], &last))
            m = l;
        if (l + 1 < S.nheap && heap_less(&S.heap[l + 1], m == i ? &last : &S.heap[l]))
            m = l + 1;
        if (m == i)
            break;
        S.heap[i] = S.heap[m];
        i = m;
    }
    if (S.nheap)
        S.heap[i] = last;
    return top;
}

/* The next due event, waiting for it; 0 when the simulation is over. */
static int next_event(struct event *out)
{
    pthread_mutex_lock(&S.qmu);
    for (;;) {
        if (atomic_load(&S.stop)) {
            pthread_mutex_unlock(&S.qmu);
            return 0;
        }
        if (!S.nheap) {
            pthread_cond_wait(&S.qcv, &S.qmu);
            continue;
        }
        int64_t wait = real_of(S.heap[0].at) - real_ms();
        if (wait <= 0)
            break;
        if (wait > 50)
            wait = 50;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += wait * 1000000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&S.qcv, &S.qmu, &ts);
    }
    *out = pop_locked();
    pthread_mutex_unlock(&S.qmu);
    return 1;
}

/* ---------------------------------------------------------------- the legitimate day ----- */

/* The bearer of a PS, signing in (again) when needed. NULL when it cannot work any more. */
static const char *bearer_of(struct conn *c, struct sim_ps *p)
{
    if (!p->web)
        return p->token;
    /* The portal signs the user out after 15 idle minutes (serve's default): sign in again. */
    if (p->session[0] && sim_now() - p->last_use < 14 * MIN_MS)
        return p->session;
    unsigned st = sign_in(c, p->login, p->totp, p->totp_len, &p->totp_last_step, p->session,
                          sizeof p->session);
    if (st != 0) {
        p->session[0] = '\0';
        pthread_mutex_lock(&p->state_mu);
        if (!p->first_refusal[0])
            snprintf(p->first_refusal, sizeof p->first_refusal, "sign-in refused: %u", st);
        pthread_mutex_unlock(&p->state_mu);
        p->errors++;
        return NULL;
    }
    p->logins++;
    p->last_use = sim_now();
    return p->session;
}

static void note_refusal(struct sim_ps *p, const struct reply *r)
{
    char code[40], msg[200], at[6];
    error_of(r, code, sizeof code, msg, sizeof msg);
    hhmm(sim_now(), at);
    pthread_mutex_lock(&p->state_mu);
    if (!p->first_refusal[0])
        snprintf(p->first_refusal, sizeof p->first_refusal, "%s %u %s: %.80s", at, r->status, code,
                 msg);
    pthread_mutex_unlock(&p->state_mu);
}

/* Handles the detection answers every PS request may get. Returns 1 when the request should
 * be sent again now (after a step-up), 2 when the event was rescheduled (slowed down), 0 when
 * done. */
static int handle_refusal(struct conn *c, struct sim_ps *p, const struct reply *r,
                          const struct event *ev)
{
    char code[40];
    error_of(r, code, sizeof code, NULL, 0);
    if (r->status == 429 && strcmp(code, "slow_down") == 0) {
        note_refusal(p, r);
        p->slowed++;
        struct event again = *ev;
        again.at = sim_now() + (r->retry_after_s > 0 ? r->retry_after_s : 1) * 1000LL;
        push(&again);
        return 2;
    }
    if (r->status == 403 && strcmp(code, "step_up_required") == 0) {
        note_refusal(p, r);
        p->step_ups++;
        if (p->web && step_up(c, p->session, p->totp, p->totp_len, &p->totp_last_step) == 0)
            return 1;
        p->errors++;
        return 0;
    }
    if (r->status == 403 && strcmp(code, "account_suspended") == 0) {
        note_refusal(p, r);
        p->suspended = 1;
        p->dead = 1;
        return 0;
    }
    if (r->status == 401) {
        if (p->web) {
            p->session[0] = '\0'; /* expired: sign in again */
            return 1;
        }
        note_refusal(p, r);
        p->revoked = 1;
        p->dead = 1;
        return 0;
    }
    return -1;
}

/* Adds a beneficiary to the PS's list of the day (once); marks it settled if asked. */
static void remember(struct sim_ps *p, int32_t card, int settled)
{
    pthread_mutex_lock(&p->state_mu);
    uint32_t i = 0;
    while (i < p->nben && p->ben[i] != card)
        i++;
    if (i == p->nben && p->nben == p->capben) {
        uint32_t cap = p->capben ? p->capben * 2 : 64;
        int32_t *b = realloc(p->ben, cap * sizeof *b);
        uint8_t *st = b ? realloc(p->settled, cap) : NULL;
        if (b)
            p->ben = b;
        if (!st) {
            pthread_mutex_unlock(&p->state_mu);
            return;
        }
        p->settled = st;
        p->capben = cap;
    }
    if (i == p->nben) {
        p->ben[i] = card;
        p->settled[i] = 0;
        p->nben++;
    }
    if (settled)
        p->settled[i] = 1;
    if (!settled && p->nseen < UINT32_MAX)
        p->seen[atomic_fetch_add(&p->nseen, 1) % SEEN_RING] = card;
    pthread_mutex_unlock(&p->state_mu);
}

static void do_check(struct conn *c, struct sim_ps *p, uint32_t idx, struct event *ev,
                     uint64_t *rng)
{
    const struct profile *pf = &profiles[p->prof];
    if (ev->card < 0) { /* choose the patient now: a new one, or one already seen today */
        uint32_t n_seen = atomic_load(&p->nseen);
        if (n_seen && rnd_below(rng, 1000) < REPEAT_PERMILLE) {
            pthread_mutex_lock(&p->state_mu);
            ev->card = p->seen[rnd_below(rng, n_seen < SEEN_RING ? n_seen : SEEN_RING)];
            pthread_mutex_unlock(&p->state_mu);
        } else {
            uint32_t n = S.nby_domain[pf->domain];
            ev->card = n ? S.by_domain[pf->domain][rnd_below(rng, n)] : 0;
        }
    }
    char cj[200], date[11], body[400];
    card_json(&S.cards[ev->card], ev->typo, cj, sizeof cj);
    for (int tries = 0; tries < 4; tries++) {
        const char *bearer = bearer_of(c, p);
        if (!bearer)
            return;
        sim_date(sim_now(), date);
        snprintf(body, sizeof body, "{%s,\"date\":\"%s\",\"domain\":\"%s\"}", cj, date,
                 tp_domain_name(pf->domain));
        struct reply r;
        call(c, "POST", "/api/v1/rights/check", bearer, body, &r);
        p->last_use = sim_now();
        if (r.status == 200 || r.status == 422 || r.status == 404) {
            p->checks++;
            if (r.status == 404) {
                p->not_found++;
                return;
            }
            if (r.status == 422) {
                p->closed++;
                remember(p, ev->card, 0);
                return;
            }
            p->found++;
            remember(p, ev->card, 0);
            json_t *j = json_loadb(r.body, r.body_len, 0, NULL);
            int covered = json_is_true(json_object_get(j, "covered"));
            const char *eng =
                json_string_value(json_object_get(json_object_get(j, "engagement"), "number"));
            if (covered && rnd_below(rng, 1000) < pf->claim_permille) {
                struct event s = {
                    .at = sim_now() +
                          (int64_t)rnd_range(rng, pf->delay_min * 60, pf->delay_max * 60) * 1000,
                    .ps = idx,
                    .kind = EV_SETTLE,
                    .card = ev->card};
                snprintf(s.engagement, sizeof s.engagement, "%s", eng ? eng : "");
                push(&s);
            }
            json_decref(j);
            return;
        }
        int h = handle_refusal(c, p, &r, ev);
        if (h == 1)
            continue;
        if (h < 0) {
            note_refusal(p, &r);
            p->errors++;
        }
        return;
    }
}

/* The first refused claim or PEC of each profession, for the report. */
static atomic_int claim_error_seen[TP_PROF_COUNT];
static char claim_error_sample[TP_PROF_COUNT][200];

static void do_settle(struct conn *c, struct sim_ps *p, uint32_t idx, struct event *ev,
                      uint64_t *rng)
{
    const struct profile *pf = &profiles[p->prof];
    char lines[256], date[11], cj[200], body[1024];
    uint32_t total = 0, inv = atomic_fetch_add(&p->invoice, 1);
    care_line(p->prof, rng, lines, sizeof lines, &total);
    card_json(&S.cards[ev->card], 0, cj, sizeof cj);
    for (int tries = 0; tries < 4; tries++) {
        const char *bearer = bearer_of(c, p);
        if (!bearer)
            return;
        sim_date(sim_now(), date);
        if (pf->pec)
            snprintf(body, sizeof body,
                     "{\"date\":\"%s\",\"domain\":\"%s\",\"card\":{%s},\"lines\":%s,"
                     "\"total_cents\":%u}",
                     date, tp_domain_name(pf->domain), cj, lines, total);
        else if (ev->engagement[0])
            snprintf(body, sizeof body,
                     "{\"invoice\":\"SIM-%u-%u\",\"date\":\"%s\",\"engagement\":\"%s\",\"age\":40,"
                     "\"lines\":%s,\"total_cents\":%u}",
                     idx, inv, date, ev->engagement, lines, total);
        else
            snprintf(body, sizeof body,
                     "{\"invoice\":\"SIM-%u-%u\",\"date\":\"%s\",\"card\":{%s},\"age\":40,"
                     "\"lines\":%s,\"total_cents\":%u}",
                     idx, inv, date, cj, lines, total);
        struct reply r;
        call(c, "POST", pf->pec ? "/api/v1/pec" : "/api/v1/claims", bearer, body, &r);
        p->last_use = sim_now();
        if (r.status == 200 || r.status == 201) {
            remember(p, ev->card, 1);
            if (pf->pec)
                p->pecs++;
            else
                p->claims++;
            return;
        }
        int h = handle_refusal(c, p, &r, ev);
        if (h == 1)
            continue;
        if (h < 0) {
            if (!atomic_exchange(&claim_error_seen[p->prof], 1)) {
                char code[40], msg[120];
                error_of(&r, code, sizeof code, msg, sizeof msg);
                snprintf(claim_error_sample[p->prof], sizeof claim_error_sample[0], "%u %s: %s",
                         r.status, code, msg);
            }
            p->claim_errors++;
        }
        return;
    }
}

static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 12345;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    struct event ev;
    while (next_event(&ev)) {
        if (ev.at >= S.end)
            continue;
        struct sim_ps *p = &S.ps[ev.ps];
        /* One request at a time per PS (a counter); a busy PS gets its event a little later
         * rather than holding a worker that other PS need. */
        int serial = p->web;
        if (serial && pthread_mutex_trylock(&p->mu) != 0) {
            ev.at = sim_now() + 2000;
            push(&ev);
            atomic_fetch_add(&S.deferred, 1);
            continue;
        }
        long long late = sim_now() - ev.at; /* the type of S.late_max (atomic_llong) */
        long long prev = atomic_load(&S.late_max);
        while (late > prev && !atomic_compare_exchange_weak(&S.late_max, &prev, late))
            ;
        if (late > MIN_MS)
            atomic_fetch_add(&S.late_over_min, 1);
        if (!p->dead) {
            if (ev.kind == EV_CHECK)
                do_check(c, p, ev.ps, &ev, &rng);
            else
                do_settle(c, p, ev.ps, &ev, &rng);
        }
        atomic_fetch_add(&S.executed, 1);
        if (serial)
            pthread_mutex_unlock(&p->mu);
    }
    conn_close(c);
    free(c);
    return NULL;
}

/* Every check of the day, at its time: the profession's volume spread by its rhythm. */
static int schedule_day(uint64_t seed)
{
    for (uint32_t i = 0; i < S.nlegit; i++) {
        const struct profile *pf = &profiles[S.ps[i].prof];
        uint64_t rng = seed ^ (0xA5A5ull + i * 0x100000001B3ull);
        const uint8_t *w = rhythm_weights[pf->rhythm];
        uint32_t wsum = 0;
        for (int h = 0; h < 24; h++)
            wsum += w[h];
        uint32_t n = rnd_range(&rng, pf->day_min, pf->day_max);
        for (uint32_t k = 0; k < n; k++) {
            uint32_t x = rnd_below(&rng, wsum), h = 0;
            while (x >= w[h])
                x -= w[h++];
            struct event e = {.at = S.local_midnight + h * HOUR_MS + rnd_below(&rng, HOUR_MS),
                              .ps = i,
                              .kind = EV_CHECK,
                              .typo = rnd_below(&rng, 1000) < TYPO_PERMILLE,
                              .card = -1};
            if (e.at < S.begin || e.at >= S.end)
                continue;
            if (push_locked(&e) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- the attacks ------------ */

static const char *mode_name(enum attack_mode m)
{
    return m == A_SESSION ? "phished web session"
           : m == A_TOKEN ? "stolen API token"
                          : "enumerator";
}

static void pace_name(int64_t interval_ms, char *out, size_t cap)
{
    if (interval_ms == 0)
        snprintf(out, cap, "fast (as fast as answered)");
    else if (interval_ms < 1000)
        snprintf(out, cap, "%lld/s", (long long)(1000 / interval_ms));
    else if (interval_ms == 1000)
        snprintf(out, cap, "1/s");
    else if (interval_ms < MIN_MS)
        snprintf(out, cap, "1 every %lld s", (long long)(interval_ms / 1000));
    else
        snprintf(out, cap, "1 every %lld min", (long long)(interval_ms / MIN_MS));
}

static void contain(struct attack *a, const struct reply *r, const char *code, const char *why)
{
    a->contained = 1;
    a->status = r ? r->status : 0;
    snprintf(a->code, sizeof a->code, "%s", code);
    if (why)
        snprintf(a->reason, sizeof a->reason, "%s", why);
    a->contained_at = sim_now();
}

/* Guessed card data for the enumerator: a member number of the AMC's length, random digits, a
 * plausible birth date. */
static void guess_card(const struct card *model, uint64_t *rng, struct card *out)
{
    *out = *model;
    out->nir[0] = '\0';
    size_t n = strlen(out->member);
    for (size_t i = 0; i < n; i++)
        out->member[i] = (char)('0' + rnd_below(rng, 10));
    out->birth = tp_date_from_ymd((int)rnd_range(rng, 1950, 2010), (int)rnd_range(rng, 1, 12),
                                  (int)rnd_range(rng, 1, 28));
    out->rank = 1;
}

static void *attacker(void *arg)
{
    struct attack *a = arg;
    struct sim_ps *p = &S.ps[a->ps];
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = -1;
    /* Each attacker from its own network (127.66.N.0/24), as a real one would be. */
    c->src = htonl((127u << 24) | (66u << 16) | ((uint32_t)(a - S.attacks + 1) << 8) | 2u);
    uint64_t rng = 0xBADC0DEull + (uint64_t)(a - S.attacks);
    sleep_until_sim(a->start);
    const char *bearer = p->token;
    if (a->mode == A_SESSION) {
        unsigned st = sign_in(c, p->login, p->totp, p->totp_len, &p->totp_last_step, p->session,
                              sizeof p->session);
        if (st != 0) {
            struct reply r = {.status = st};
            contain(a, &r, "sign_in_refused", "the phished credentials did not sign in");
            goto out;
        }
        bearer = p->session;
    }
    uint32_t pharm = S.nby_domain[TP_DOM_PHARMACIE];
    uint32_t next = a->first_card;
    int64_t due = sim_now();
    struct card guess;
    const struct card *target = NULL;
    while (!atomic_load(&S.stop) && sim_now() < S.end) {
        if (!target) {
            if (a->mode == A_ENUM) {
                guess_card(&S.cards[S.by_domain[TP_DOM_PHARMACIE][a->first_card % pharm]], &rng,
                           &guess);
                target = &guess;
            } else {
                target = &S.cards[S.by_domain[TP_DOM_PHARMACIE][next++ % pharm]];
            }
            if (a->interval_ms) {
                if (due > S.end)
                    break;
                sleep_until_sim(due);
                due += a->interval_ms;
            }
        }
        char cj[200], date[11], body[400];
        card_json(target, 0, cj, sizeof cj);
        sim_date(sim_now(), date);
        snprintf(body, sizeof body, "{%s,\"date\":\"%s\",\"domain\":\"PHARMACIE\"}", cj, date);
        struct reply r;
        call(c, "POST", "/api/v1/rights/check", bearer, body, &r);
        a->requests++;
        char code[40], msg[200];
        if (r.status == 200 || r.status == 422) {
            a->disclosed++; /* every target is a different person */
            target = NULL;
            continue;
        }
        if (r.status == 404) {
            a->not_found++;
            target = NULL;
            continue;
        }
        error_of(&r, code, sizeof code, msg, sizeof msg);
        if (r.status == 429) { /* a patient bot honours the slow-down */
            a->slowed++;
            sleep_until_sim(sim_now() + (r.retry_after_s > 0 ? r.retry_after_s : 1) * 1000LL);
            if (a->interval_ms && due < sim_now())
                due = sim_now();
            continue;
        }
        if (r.status == 403 && strcmp(code, "step_up_required") == 0 && a->mode == A_SESSION) {
            /* The phisher holds the TOTP secret: a fresh code answers it. */
            a->step_ups++;
            if (step_up(c, bearer, p->totp, p->totp_len, &p->totp_last_step) != 0) {
                contain(a, &r, code, "the step-up failed");
                break;
            }
            continue;
        }
        if (r.status == 401 && a->mode == A_SESSION) {
            /* The session timed out: the phisher signs in again — unless the account is off. */
            unsigned st = sign_in(c, p->login, p->totp, p->totp_len, &p->totp_last_step, p->session,
                                  sizeof p->session);
            if (st == 0)
                continue;
            contain(a, &r, "unauthenticated", "session revoked, sign-in refused");
            break;
        }
        if (r.status == 403 || r.status == 401) {
            contain(a, &r, code, msg);
            break;
        }
        a->errors++; /* 5xx or a lost connection: try again a little later */
        sleep_until_sim(sim_now() + 1000);
        if (a->errors > 1000)
            break;
    }
out:
    a->ended_at = sim_now();
    conn_close(c);
    free(c);
    return NULL;
}

/* "session:fast", "token:30", "enum:1" (seconds between lookups; fast = as fast as answered). */
static int parse_attacks(const char *spec, int64_t begin)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (S.nattacks == MAX_ATTACKS)
            return -1;
        struct attack *a = &S.attacks[S.nattacks];
        memset(a, 0, sizeof *a);
        char *colon = strchr(t, ':');
        if (!colon)
            return -1;
        *colon = '\0';
        const char *pace = colon + 1;
        if (strcmp(t, "session") == 0)
            a->mode = A_SESSION;
        else if (strcmp(t, "token") == 0)
            a->mode = A_TOKEN;
        else if (strcmp(t, "enum") == 0)
            a->mode = A_ENUM;
        else
            return -1;
        char *end;
        if (strcmp(pace, "fast") == 0)
            a->interval_ms = 0;
        else {
            double s = strtod(pace, &end);
            if (*end || s <= 0 || s > 86400)
                return -1;
            a->interval_ms = (int64_t)(s * 1000);
        }
        /* The slow ones start early and have the whole day; the fast ones come mid-morning. */
        int64_t at = a->interval_ms >= MIN_MS  ? 7 * HOUR_MS
                     : a->interval_ms >= 10000 ? 9 * HOUR_MS
                     : a->interval_ms > 0      ? 11 * HOUR_MS
                                               : 10 * HOUR_MS;
        a->start = S.local_midnight + at + (int64_t)S.nattacks * 7 * MIN_MS;
        if (a->start < begin)
            a->start = begin + (int64_t)S.nattacks * MIN_MS;
        a->first_card = S.nattacks * 1000u;
        S.nattacks++;
    }
    return S.nattacks ? 0 : -1;
}

/* ---------------------------------------------------------------- setup ------------------ */

static int run_child(char *const argv[], const char *out_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int write_marker(const char *dir)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", dir, TP_CLOCK_MARKER_FILE);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(
        f,
        "%s\n"
        "Created by opentp simulate: synthetic beneficiaries and PS only. opentp serve accepts\n"
        "--clock-speed here and nowhere else.\n",
        TP_CLOCK_MARKER_LINE);
    return fclose(f) == 0 ? 0 : -1;
}

/* Accounts of the PS that sign in (web users and the phished ones). */
static int make_account(struct tp_platform *pl, const struct tp_password_list *common,
                        struct sim_ps *p, uint32_t i)
{
    snprintf(p->login, sizeof p->login, "ps%u@simulation.opentp", i);
    struct tp_new_account in = {
        .login = p->login, .role = TP_ROLE_PS, .ps_id = p->ps_id, .password = SIM_PASSWORD};
    struct tp_new_account_secrets sec;
    int64_t id = 0;
    char msg[256];
    if (tp_account_new(pl->store, pl->keys, &in, tp_password_list_words(common), real_ms(), &sec,
                       &id, msg, sizeof msg) != TP_OK) {
        tp_cli_error("simulate", "account %s: %s", p->login, msg);
        return -1;
    }
    enum tp_err e = tp_base32_decode(sec.totp_base32, strlen(sec.totp_base32), p->totp,
                                     sizeof p->totp, &p->totp_len);
    sodium_memzero(&sec, sizeof sec);
    p->totp_last_step = -1;
    return e == TP_OK ? 0 : -1;
}

/* Valid card data of the population, covered on the simulated day (as opentp cards). */
static int load_cards(uint64_t seed, int64_t n_ben, tp_day day)
{
    S.cards = calloc((size_t)n_ben, sizeof *S.cards);
    for (int d = 0; d < TP_DOM_COUNT; d++)
        S.by_domain[d] = calloc((size_t)n_ben, sizeof(int32_t));
    if (!S.cards)
        return -1;
    for (int d = 0; d < TP_DOM_COUNT; d++)
        if (!S.by_domain[d])
            return -1;
    struct tp_pop_iter it;
    struct tp_beneficiary b;
    tp_pop_iter_init(&it, seed);
    for (int64_t i = 0; i < n_ben; i++) {
        tp_pop_next(&it, &b);
        if (b.coverage_start > day || day > b.coverage_end)
            continue;
        struct card *k = &S.cards[S.ncards];
        snprintf(k->amc, sizeof k->amc, "%s", b.amc);
        snprintf(k->member, sizeof k->member, "%s", b.member);
        if (b.nir_own && (i & 1))
            snprintf(k->nir, sizeof k->nir, "%s", b.id.nir);
        k->birth = b.id.birth_date;
        k->rank = (uint8_t)b.id.birth_rank;
        k->domains = b.tp_domains;
        for (int d = 0; d < TP_DOM_COUNT; d++)
            if (b.tp_domains & (1u << d))
                S.by_domain[d][S.nby_domain[d]++] = (int32_t)S.ncards;
        S.ncards++;
    }
    sodium_memzero(&b, sizeof b);
    return 0;
}

/* ---------------------------------------------------------------- report ----------------- */

struct prof_sum {
    uint32_t n, web, checks, found, not_found, closed, claims, pecs, claim_errors, errors;
    uint32_t step_up_ps, slowed_ps, suspended_ps, revoked_ps;
    uint32_t max_unsettled; /* distinct disclosed today with no claim/PEC, most of one PS */
};

static int report(FILE *o, int markdown, const char *cmdline, double real_s)
{
    int missed = 0;
    char from[6], to[6];
    hhmm(S.begin, from);
    hhmm(S.end, to);
    if (strcmp(to, "00:00") == 0)
        snprintf(to, sizeof to, "24:00");
    fprintf(o,
            "%sSimulation: %u legitimate PS, %u attack runs, simulated %s-%s (local) at %lldx, "
            "%.0f s real\n",
            markdown ? "## " : "", S.nlegit, S.nattacks, from, to, (long long)S.speed, real_s);
    if (markdown)
        fprintf(o, "\n`%s`\n\n", cmdline);
    fprintf(o, "%s\n",
            markdown ? "### Attacks\n\n| attack | pace | disclosed | lookups | 429 | "
                       "step-ups answered | containment | after (simulated) "
                       "|\n|---|---|---|---|---|---|---|---|"
                     : "\nattacks:");
    for (uint32_t i = 0; i < S.nattacks; i++) {
        struct attack *a = &S.attacks[i];
        char pace[40], cont[120], after[40];
        pace_name(a->interval_ms, pace, sizeof pace);
        if (a->contained) {
            snprintf(cont, sizeof cont, "%u %s", a->status, a->code);
            int64_t s = (a->contained_at - a->start) / 1000;
            snprintf(after, sizeof after, "%lldh%02lldm%02llds", (long long)(s / 3600),
                     (long long)(s / 60 % 60), (long long)(s % 60));
        } else {
            snprintf(cont, sizeof cont, "not contained");
            snprintf(after, sizeof after, "-");
        }
        int bad = a->disclosed > TARGET_DISCLOSED;
        missed |= bad;
        if (markdown)
            fprintf(o, "| %s | %s | **%u**%s | %u | %u | %u | %s | %s |\n", mode_name(a->mode),
                    pace, a->disclosed, bad ? " (target missed)" : "", a->requests, a->slowed,
                    a->step_ups, cont, after);
        else
            fprintf(o,
                    "  %-20s %-26s disclosed %3u%s  lookups %4u  429 %3u  step-ups %2u  %s after "
                    "%s\n",
                    mode_name(a->mode), pace, a->disclosed, bad ? " (> 50: TARGET MISSED)" : "",
                    a->requests, a->slowed, a->step_ups, cont, after);
    }
    struct prof_sum ps[TP_PROF_COUNT], tot;
    memset(ps, 0, sizeof ps);
    memset(&tot, 0, sizeof tot);
    for (uint32_t i = 0; i < S.nlegit; i++) {
        struct sim_ps *p = &S.ps[i];
        struct prof_sum *s = &ps[p->prof];
        s->n++, s->web += (uint32_t)p->web, s->checks += p->checks, s->found += p->found;
        s->not_found += p->not_found, s->closed += p->closed, s->claims += p->claims;
        s->pecs += p->pecs, s->claim_errors += p->claim_errors, s->errors += p->errors;
        s->step_up_ps += p->step_ups > 0, s->slowed_ps += p->slowed > 0;
        s->suspended_ps += (uint32_t)p->suspended, s->revoked_ps += (uint32_t)p->revoked;
        uint32_t un = 0;
        for (uint32_t k = 0; k < p->nben; k++)
            un += !p->settled[k];
        if (un > s->max_unsettled)
            s->max_unsettled = un;
    }
    for (int k = 0; k < TP_PROF_COUNT; k++) {
        tot.n += ps[k].n, tot.web += ps[k].web, tot.checks += ps[k].checks;
        tot.found += ps[k].found, tot.not_found += ps[k].not_found, tot.closed += ps[k].closed;
        tot.claims += ps[k].claims, tot.pecs += ps[k].pecs, tot.claim_errors += ps[k].claim_errors;
        tot.errors += ps[k].errors, tot.step_up_ps += ps[k].step_up_ps;
        tot.slowed_ps += ps[k].slowed_ps, tot.suspended_ps += ps[k].suspended_ps;
        tot.revoked_ps += ps[k].revoked_ps;
        if (ps[k].max_unsettled > tot.max_unsettled)
            tot.max_unsettled = ps[k].max_unsettled;
    }
    missed |= tot.suspended_ps > 0 || tot.revoked_ps > 0;
    fprintf(o, "%s\n",
            markdown ? "\n### Legitimate PS\n\n| profession | PS (web) | checks | not found | "
                       "claims | PEC | refused claims | most unsettled in the day | step-up asked "
                       "| slowed | "
                       "suspended |\n|---|---|---|---|---|---|---|---|---|---|---|"
                     : "\nlegitimate:");
    for (int k = 0; k <= TP_PROF_COUNT; k++) {
        const struct prof_sum *s = k < TP_PROF_COUNT ? &ps[k] : &tot;
        const char *name = k < TP_PROF_COUNT ? tp_profession_name((enum tp_profession)k) : "all";
        if (!s->n)
            continue;
        if (markdown)
            fprintf(o, "| %s | %u (%u) | %u | %u | %u | %u | %u | %u | %u | %u | %s%u%s |\n", name,
                    s->n, s->web, s->checks, s->not_found, s->claims, s->pecs, s->claim_errors,
                    s->max_unsettled, s->step_up_ps, s->slowed_ps, k == TP_PROF_COUNT ? "**" : "",
                    s->suspended_ps + s->revoked_ps, k == TP_PROF_COUNT ? "**" : "");
        else
            fprintf(o,
                    "  %-17s PS %4u (web %3u)  checks %6u  not found %4u  claims %6u  PEC %5u  "
                    "refused %4u  unsettled %3u  step-up %3u  slowed %3u  suspended %u\n",
                    name, s->n, s->web, s->checks, s->not_found, s->claims, s->pecs,
                    s->claim_errors, s->max_unsettled, s->step_up_ps, s->slowed_ps,
                    s->suspended_ps + s->revoked_ps);
    }
    double disturbed = tot.n ? 100.0 * (double)(tot.step_up_ps + tot.slowed_ps) / tot.n : 0;
    fprintf(o,
            "%slegitimate accounts suspended: %u (target 0); asked for a step-up: %u, slowed down: "
            "%u (%.1f %% of %u disturbed at most); checks %u, claims %u, PEC %u\n",
            markdown ? "\n" : "\n", tot.suspended_ps + tot.revoked_ps, tot.step_up_ps,
            tot.slowed_ps, disturbed, tot.n, tot.checks, tot.claims, tot.pecs);
    long long reqs = atomic_load(&S.requests);
    fprintf(o,
            "%sload: %lld requests in %.0f s real (%.0f/s, %.1f ms each on average); %lld events, "
            "the latest %.1f s (simulated) behind its time, %lld more than a minute late, %lld "
            "deferred (PS busy), %lld dropped\n",
            markdown ? "\n" : "", reqs, (double)S.play_real_ms / 1000.0,
            S.play_real_ms ? (double)reqs * 1000.0 / (double)S.play_real_ms : 0.0,
            reqs ? (double)atomic_load(&S.request_us) / 1000.0 / (double)reqs : 0.0,
            (long long)atomic_load(&S.executed), (double)atomic_load(&S.late_max) / 1000.0,
            (long long)atomic_load(&S.late_over_min), (long long)atomic_load(&S.deferred),
            (long long)atomic_load(&S.dropped));
    /* Claims that come hours late make a legitimate PS look like a scraper: such a run says
     * nothing about detection, only that this machine could not keep up. */
    int behind = atomic_load(&S.late_max) > LATE_MAX_MS;
    if (behind)
        fprintf(o,
                "%sthe simulation fell behind its clock by more than %lld simulated minutes: the "
                "run is not faithful (lower --clock-speed)\n",
                markdown ? "\n" : "", LATE_MAX_MS / MIN_MS);
    missed |= behind;
    int shown = 0;
    for (uint32_t i = 0; i < S.nlegit && shown < 10; i++) {
        struct sim_ps *p = &S.ps[i];
        if (!p->first_refusal[0] || !(p->step_ups || p->slowed || p->suspended || p->revoked))
            continue;
        if (!shown++)
            fprintf(o, "%sfirst refusals of disturbed legitimate PS (up to 10):\n",
                    markdown ? "\n" : "");
        fprintf(o, "%s%s%s: %s\n", markdown ? "- " : "  ", tp_profession_name(p->prof),
                p->web ? " (web)" : " (token)", p->first_refusal);
    }
    for (int k = 0; k < TP_PROF_COUNT; k++)
        if (atomic_load(&claim_error_seen[k]))
            fprintf(o, "%sfirst refused claim/PEC of %s: %s\n", markdown ? "\n" : "",
                    tp_profession_name((enum tp_profession)k), claim_error_sample[k]);
    fprintf(o, "%sresult: %s\n", markdown ? "\n" : "", missed ? "TARGET MISSED" : "targets met");
    return missed;
}

/* ---------------------------------------------------------------- the command ------------ */

static const char *help =
    "usage: opentp simulate --data DIR [--beneficiaries N] [--ps N] [--web-permille W]\n"
    "                       [--clock-speed K] [--from HOUR] [--hours H] [--connections C]\n"
    "                       [--attacks LIST] [--report FILE] [--seed S] [--detect-config F]\n"
    "                       [--detection on|off]\n"
    "Creates a simulation platform in DIR (which must not exist), serves it with a clock K\n"
    "times real time (default 150: a day in 10 minutes) and replays a working day of N\n"
    "legitimate PS (default: all the demo's but the attackers') and the attacks of LIST\n"
    "(default: session:fast,session:1,session:30,session:300,token:fast,token:1,token:30,\n"
    "token:300,enum:fast; MODE:SECONDS between lookups). Reports what each attack obtained\n"
    "before containment and which legitimate PS were disturbed (stdout and FILE, markdown;\n"
    "default DIR/simulation.md). Exit 1 when a target is missed (an attack disclosed more than\n"
    "50 beneficiaries, a legitimate account suspended).\n";

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"beneficiaries", required_argument, NULL, 'b'},
                                         {"ps", required_argument, NULL, 'p'},
                                         {"web-permille", required_argument, NULL, 'w'},
                                         {"clock-speed", required_argument, NULL, 'k'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"hours", required_argument, NULL, 'H'},
                                         {"connections", required_argument, NULL, 'c'},
                                         {"attacks", required_argument, NULL, 'a'},
                                         {"report", required_argument, NULL, 'r'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"detect-config", required_argument, NULL, 'D'},
                                         {"detection", required_argument, NULL, 'x'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *report_path = NULL, *detect = NULL;
    const char *attacks = "session:fast,session:1,session:30,session:300,token:fast,token:1,"
                          "token:30,token:300,enum:fast";
    long long n_ben = 110000, want_ps = -1, web_permille = 100, speed = 150, from_h = 0, hours = 24,
              conns = 96;
    unsigned long long seed = 42;
    int detection = 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'b':
            n_ben = atoll(optarg);
            break;
        case 'p':
            want_ps = atoll(optarg);
            break;
        case 'w':
            web_permille = atoll(optarg);
            break;
        case 'k':
            speed = atoll(optarg);
            break;
        case 'f':
            from_h = atoll(optarg);
            break;
        case 'H':
            hours = atoll(optarg);
            break;
        case 'c':
            conns = atoll(optarg);
            break;
        case 'a':
            attacks = optarg;
            break;
        case 'r':
            report_path = optarg;
            break;
        case 's':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'x':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                fputs(help, stderr);
                return TP_EXIT_USAGE;
            }
            detection = strcmp(optarg, "on") == 0;
            break;
        case 'D':
            detect = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    if (!dir || n_ben < 1000 || n_ben > 5000000 || web_permille < 0 || web_permille > 1000 ||
        speed < 1 || speed > TP_CLOCK_SPEED_MAX || from_h < 0 || from_h > 23 || hours < 1 ||
        from_h + hours > 48 || conns < 1 || conns > MAX_WORKERS) {
        fputs(help, stderr);
        return TP_EXIT_USAGE;
    }
    struct stat st;
    if (stat(dir, &st) == 0) {
        tp_cli_error("simulate", "%s exists: the simulation creates its own platform", dir);
        return TP_EXIT_USAGE;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    /* The simulated day: today, local midnight (UTC+1, as the detection's usual hours). */
    int64_t now = real_ms();
    S.local_midnight = now - now % (24 * HOUR_MS) - LOCAL_OFFSET_MS;
    if (now - S.local_midnight >= 24 * HOUR_MS)
        S.local_midnight += 24 * HOUR_MS;
    S.begin = S.local_midnight + from_h * HOUR_MS;
    S.end = S.begin + hours * HOUR_MS;
    S.speed = speed;
    S.dir = dir;
    if (parse_attacks(attacks, S.begin) != 0) {
        tp_cli_error("simulate", "bad --attacks (MODE:SECONDS or MODE:fast, MODE session, token or "
                                 "enum)");
        return TP_EXIT_USAGE;
    }

    /* 1. The platform: the demo population, marked as a simulation. */
    char nb[32], sd[32], logp[1200];
    snprintf(nb, sizeof nb, "%lld", n_ben);
    snprintf(sd, sizeof sd, "%llu", seed);
    char *demo_argv[] = {"opentp", "demo",   "--data", (char *)dir, "--beneficiaries",
                         nb,       "--seed", sd,       NULL};
    fprintf(stderr, "simulate: creating the platform (%lld beneficiaries)...\n", n_ben);
    char tmplog[] = "/tmp/opentp-simulate-demo-XXXXXX";
    int tfd = mkstemp(tmplog);
    if (tfd < 0)
        return TP_EXIT_FAIL;
    close(tfd);
    if (run_child(demo_argv, tmplog) != 0) {
        tp_cli_error("simulate", "opentp demo failed (see %s)", tmplog);
        return TP_EXIT_FAIL;
    }
    unlink(tmplog);
    if (write_marker(dir) != 0) {
        tp_cli_error("simulate", "cannot write %s/%s", dir, TP_CLOCK_MARKER_FILE);
        return TP_EXIT_FAIL;
    }
    struct tp_platform pl;
    if (tp_platform_open(dir, &pl, "simulate") != TP_EXIT_OK)
        return TP_EXIT_FAIL;
    int64_t n_ps = n_ben / 100 < 300 ? 300 : n_ben / 100 > 20000 ? 20000 : n_ben / 100;

    /* 2. The PS: attackers' accounts are pharmacies taken from the end of the list; the
     * legitimate ones, every profession first, then in order. */
    S.ps = calloc((size_t)n_ps, sizeof *S.ps);
    uint32_t *order = calloc((size_t)n_ps, sizeof *order);
    struct tp_ps *all = calloc((size_t)n_ps, sizeof *all);
    uint8_t *used = calloc((size_t)n_ps, 1);
    if (!S.ps || !order || !all || !used) {
        tp_platform_close(&pl);
        return TP_EXIT_FAIL;
    }
    for (int64_t i = 0; i < n_ps; i++)
        tp_pop_ps(seed, i, &all[i]);
    uint32_t att_idx[MAX_ATTACKS], na = 0;
    for (int64_t i = n_ps - 1; i >= 0 && na < S.nattacks; i--)
        if (all[i].profession == TP_PROF_PHARMACIE)
            att_idx[na++] = (uint32_t)i, used[i] = 1;
    uint32_t no = 0;
    for (int k = 0; k < TP_PROF_COUNT; k++)
        for (int64_t i = 0; i < n_ps; i++)
            if (!used[i] && all[i].profession == (enum tp_profession)k) {
                order[no++] = (uint32_t)i, used[i] = 1;
                break;
            }
    for (int64_t i = 0; i < n_ps; i++)
        if (!used[i])
            order[no++] = (uint32_t)i;
    S.nlegit = want_ps < 0 || want_ps > no ? no : (uint32_t)want_ps;
    S.nps = S.nlegit + na;
    struct tp_password_list *common = NULL;
    char msg[256];
    if (tp_password_list_load(TP_DATA_DIR "/common-passwords.txt", &common, msg, sizeof msg) !=
        TP_OK) {
        tp_cli_error("simulate", "%s", msg);
        tp_platform_close(&pl);
        return TP_EXIT_FAIL;
    }
    uint64_t rng = seed * 7919 + 1;
    int fail = 0;
    const struct tp_store_ops *ops = tp_store_ops(pl.store);
    fprintf(stderr, "simulate: %u legitimate PS and %u attack accounts (tokens, web accounts)...\n",
            S.nlegit, na);
    for (uint32_t j = 0; j < S.nps && !fail; j++) {
        uint32_t src = j < S.nlegit ? order[j] : att_idx[j - S.nlegit];
        struct sim_ps *p = &S.ps[j];
        pthread_mutex_init(&p->mu, NULL);
        pthread_mutex_init(&p->state_mu, NULL);
        p->prof = all[src].profession;
        const char *ident = all[src].finess[0] ? all[src].finess : all[src].rpps;
        int64_t tid = 0;
        if (ops->ps_find(tp_store_impl(pl.store), ident, &p->ps_id) != TP_OK ||
            tp_token_create(&pl, p->ps_id, "simulation", 2, p->token, &tid) != 0) {
            tp_cli_error("simulate", "PS %s: no token", ident);
            fail = 1;
            break;
        }
        int web = j < S.nlegit ? rnd_below(&rng, 1000) < (uint32_t)web_permille
                               : S.attacks[j - S.nlegit].mode == A_SESSION;
        if (web && make_account(&pl, common, p, j) != 0)
            fail = 1;
        p->web = j < S.nlegit ? web : 0;
        if (j >= S.nlegit)
            S.attacks[j - S.nlegit].ps = j;
    }
    tp_password_list_free(common);
    char day_s[11];
    sim_date(S.begin + 12 * HOUR_MS, day_s);
    tp_day day = tp_date_from_ymd(atoi(day_s), atoi(day_s + 5), atoi(day_s + 8));
    tp_platform_close(&pl);
    free(all);
    free(used);
    free(order);
    if (fail || load_cards(seed, n_ben, day) != 0 || S.nby_domain[TP_DOM_PHARMACIE] < 100) {
        tp_cli_error("simulate", "setup failed");
        return TP_EXIT_FAIL;
    }

    /* 3. The server, on the scaled clock. The simulated window starts a little after the server
     * is up. */
    char port_file[1100], log_path[1100], k_s[32], start_s[32], real_s[32], exit_s[32];
    snprintf(port_file, sizeof port_file, "%s/simulate.port", dir);
    snprintf(log_path, sizeof log_path, "%s/server.log", dir);
    S.real0 = real_ms() + 3000;
    S.sim0 = S.begin - 60000; /* one simulated minute before the day's window */
    snprintf(k_s, sizeof k_s, "%lld", speed);
    snprintf(start_s, sizeof start_s, "%lld", (long long)S.sim0);
    snprintf(real_s, sizeof real_s, "%lld", (long long)S.real0);
    snprintf(exit_s, sizeof exit_s, "%lld", (long long)(hours * 3600 / speed + 600));
    char *serve_argv[32] = {"opentp",
                            "serve",
                            "--data",
                            (char *)dir,
                            "--listen",
                            "127.0.0.1:0",
                            "--port-file",
                            port_file,
                            "--access-log",
                            "off",
                            "--hash-threads",
                            "2",
                            "--clock-speed",
                            k_s,
                            "--clock-start",
                            start_s,
                            "--clock-real",
                            real_s,
                            "--exit-after",
                            exit_s,
                            NULL};
    int na_ = 20;
    if (detect) {
        serve_argv[na_++] = "--detect-config";
        serve_argv[na_++] = (char *)detect;
    }
    if (!detection) { /* the reference of bench/simulate.sh: what the attacks get without it */
        serve_argv[na_++] = "--detection";
        serve_argv[na_++] = "off";
    }
    serve_argv[na_] = NULL;
    snprintf(logp, sizeof logp, "%s", log_path);
    pid_t server = fork();
    if (server < 0)
        return TP_EXIT_FAIL;
    if (server == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv("/proc/self/exe", serve_argv);
        _exit(127);
    }
    for (int i = 0; i < 300 && !S.port; i++) {
        sleep_real(100);
        FILE *f = fopen(port_file, "r");
        unsigned port = 0;
        if (f) {
            if (fscanf(f, "%u", &port) == 1 && port > 0 && port < 65536)
                S.port = (uint16_t)port;
            fclose(f);
        }
        int wst;
        if (waitpid(server, &wst, WNOHANG) == server) {
            tp_cli_error("simulate", "the server stopped (see %s)", log_path);
            return TP_EXIT_FAIL;
        }
    }
    if (!S.port) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        tp_cli_error("simulate", "the server did not start (see %s)", log_path);
        return TP_EXIT_FAIL;
    }
    fprintf(stderr,
            "simulate: server on 127.0.0.1:%u, clock %lldx; %u cards; playing %lld "
            "simulated hours (%lld s)...\n",
            S.port, speed, S.ncards, hours, hours * 3600 / speed);

    /* 4. The day. */
    pthread_mutex_init(&S.qmu, NULL);
    pthread_cond_init(&S.qcv, NULL);
    if (schedule_day(seed) != 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        tp_cli_error("simulate", "too many events");
        return TP_EXIT_FAIL;
    }
    pthread_t workers[MAX_WORKERS], att[MAX_ATTACKS];
    for (long long i = 0; i < conns; i++)
        pthread_create(&workers[i], NULL, worker, (void *)(uintptr_t)(i + 1));
    for (uint32_t i = 0; i < S.nattacks; i++)
        pthread_create(&att[i], NULL, attacker, &S.attacks[i]);
    int64_t last_note = 0, play_from = real_of(S.begin);
    while (sim_now() < S.end) {
        sleep_real(200);
        if (sim_now() - last_note >= 2 * HOUR_MS) {
            last_note = sim_now();
            char at[6];
            hhmm(last_note, at);
            fprintf(stderr, "simulate: %s, %lld events done\n", at,
                    (long long)atomic_load(&S.executed));
        }
    }
    S.play_real_ms = real_ms() - play_from;
    atomic_store(&S.stop, 1);
    pthread_mutex_lock(&S.qmu);
    pthread_cond_broadcast(&S.qcv);
    pthread_mutex_unlock(&S.qmu);
    for (long long i = 0; i < conns; i++)
        pthread_join(workers[i], NULL);
    for (uint32_t i = 0; i < S.nattacks; i++)
        pthread_join(att[i], NULL);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);

    /* 5. The report. */
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    char cmdline[1024] = "opentp";
    for (int i = 1; i < argc; i++) {
        size_t l = strlen(cmdline);
        snprintf(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
    }
    int missed = report(stdout, 0, cmdline, secs);
    char rp[1100];
    if (!report_path) {
        snprintf(rp, sizeof rp, "%s/simulation.md", dir);
        report_path = rp;
    }
    FILE *f = fopen(report_path, "w");
    if (f) {
        (void)report(f, 1, cmdline, secs);
        fclose(f);
        fprintf(stderr, "simulate: report written to %s\n", report_path);
    }
    return missed ? TP_EXIT_FAIL : TP_EXIT_OK;
}
