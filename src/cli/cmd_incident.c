/* opentp incident assess — the exact list of people a compromised account, token, PS or network
 * saw, their notices, and the containment (docs/INCIDENT.md "Assessment").
 *
 * Reads the access log (DIR/audit) and the database; decrypts the identities of the exposed
 * people only to address their letters, which go to a folder of mode 0700 with files 0600. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "cli/cli.h"
#include "core/date.h"
#include "incident/assess.h"
#include "incident/notice.h"
#include "incident/writer.h"

static const char incident_help[] =
    "usage: opentp incident assess [--data DIR]\n"
    "         (--account ID | --token ID | --ps ID | --network CIDR) [more of these: all must "
    "match]\n"
    "         [--from DATE|MS] [--to DATE|MS] [--out FOLDER] [--dry-run] [--no-contain]\n"
    "         [--id INC-...] [--detected-ms MS] [--contact-name N] [--contact-email E]\n"
    "Scans the access log for what the subject disclosed in the window (DATE = YYYY-MM-DD, UTC;\n"
    "MS = Unix milliseconds; default: the whole log) and prints the exact counts per AMC as JSON.\n"
    "Without --dry-run it also writes, in FOLDER (must not exist or be empty): one CSV per AMC,\n"
    "an art. 33 draft per AMC and one art. 34 notice per person (text and PDF); and, unless\n"
    "--no-contain, forces a password reset and revokes the sessions of the accounts seen acting,\n"
    "and revokes the API tokens seen acting.\n";

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only: fontconfig (under pango) keeps its configuration cache for the life of
 * the process on purpose; that is not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\nleak:libpango\nleak:libglib\nleak:libgobject\n";
}
#endif

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* DATE (YYYY-MM-DD, UTC; `end` = its last millisecond) or Unix milliseconds. */
static int parse_time(const char *s, int end, int64_t *out)
{
    tp_day d;
    if (strlen(s) == 10 && tp_date_parse(s, 10, &d) == TP_OK) {
        *out = (int64_t)d * 86400000 + (end ? 86399999 : 0);
        return 0;
    }
    char *e;
    long long v = strtoll(s, &e, 10);
    if (*e || e == s || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_id(const char *s, int64_t *out)
{
    char *e;
    long long v = strtoll(s, &e, 10);
    if (*e || e == s || v <= 0)
        return -1;
    *out = v;
    return 0;
}

struct opts {
    const char *dir, *out, *id, *network, *contact_name, *contact_email;
    struct tp_assess_filter f;
    int dry_run, no_contain;
    int64_t detected_ms;
};

/* Containment: what the subject used stops working. Prints what was done into measures. */
static void contain(struct tp_platform *p, const struct tp_assessment *a, const struct opts *o,
                    struct tp_incident *inc)
{
    const struct tp_store_ops *ops = tp_store_ops(p->store);
    void *impl = tp_store_impl(p->store);
    int64_t now = now_ms();
    size_t n_acct = 0, n_tok = 0;
    int64_t accts[65];
    for (size_t i = 0; i < a->n_actors; i++)
        accts[n_acct++] = a->actors[i];
    if (o->f.account_id) {
        size_t i = 0;
        while (i < n_acct && accts[i] != o->f.account_id)
            i++;
        if (i == n_acct)
            accts[n_acct++] = o->f.account_id;
    }
    for (size_t i = 0; i < n_acct; i++) {
        int64_t n = 0;
        if (ops->account_set_must_reset(impl, accts[i], 1) == TP_OK &&
            ops->sessions_revoke_all(impl, accts[i], 0, now, &n) == TP_OK)
            fprintf(stderr,
                    "contained: account %" PRId64 ": password reset forced, %" PRId64
                    " session(s) revoked\n",
                    accts[i], n);
    }
    for (size_t i = 0; i < a->n_tokens; i++)
        if (ops->token_revoke(impl, a->tokens[i], now / 1000) == TP_OK) {
            n_tok++;
            fprintf(stderr, "contained: API token %" PRId64 " revoked\n", a->tokens[i]);
        }
    if (o->f.token_id && ops->token_revoke(impl, o->f.token_id, now / 1000) == TP_OK)
        n_tok++;
    if (inc->n_measures < TP_INCIDENT_MEASURES_MAX && (n_acct || n_tok))
        snprintf(inc->measures[inc->n_measures++], TP_INCIDENT_MEASURE_MAX,
                 "Comptes concernés (%zu) : changement de mot de passe imposé et sessions "
                 "révoquées ; jetons d'API révoqués (%zu).",
                 n_acct, n_tok);
}

static int write_documents(struct tp_platform *p, const struct tp_assessment *a,
                           const struct opts *o, struct tp_incident *inc)
{
    const struct tp_store_ops *ops = tp_store_ops(p->store);
    void *impl = tp_store_impl(p->store);
    char msg[512];
    struct tp_incident_amc *amcs = calloc(a->n_people ? a->n_people : 1, sizeof *amcs);
    struct tp_exposed_person *people = calloc(a->n_people ? a->n_people : 1, sizeof *people);
    if (!amcs || !people) {
        free(amcs);
        free(people);
        tp_cli_error("incident assess", "out of memory");
        return TP_EXIT_FAIL;
    }
    int n_amc = 0;
    size_t n = 0, unresolved = 0;
    for (size_t i = 0; i < a->n_people; i++) {
        const struct tp_assess_person *ap = &a->people[i];
        if (n_amc == 0 || strcmp(amcs[n_amc - 1].number, ap->amc) != 0) {
            struct tp_amc rec;
            int64_t id;
            if (ops->amc_find(impl, ap->amc, &id, &rec) != TP_OK) {
                tp_cli_error("incident assess", "AMC %s of an exposed person is unknown", ap->amc);
                free(amcs);
                free(people);
                return TP_EXIT_FAIL;
            }
            tp_incident_amc_from_record(&amcs[n_amc++], &rec);
        }
        struct tp_exposed_person *ep = &people[n];
        ep->amc = n_amc - 1;
        sodium_bin2hex(ep->ref, sizeof ep->ref, ap->ref, TP_EVENT_REF_LEN);
        ep->categories = ap->categories;
        ep->accesses = ap->accesses;
        ep->first_ms = ap->first_ms;
        ep->last_ms = ap->last_ms;
        struct tp_beneficiary_by_ref b;
        struct tp_identity id;
        if (ops->beneficiary_by_ref(impl, ap->ref, &b) == TP_OK &&
            tp_identity_open(p->keys, b.sealed, b.sealed_len, ap->ref, TP_EVENT_REF_LEN, &id) ==
                TP_OK) {
            snprintf(ep->first_name, sizeof ep->first_name, "%s", id.first_name);
            snprintf(ep->last_name, sizeof ep->last_name, "%s", id.last_name);
            /* The NIR's first digit is the sex (1 men, 2 women): the letter's salutation. */
            if (id.nir[0] == '1' || id.nir[0] == '2')
                snprintf(ep->title, sizeof ep->title, "%s",
                         id.nir[0] == '1' ? "Monsieur" : "Madame");
            ep->rank = b.rank;
            sodium_memzero(&id, sizeof id);
        } else {
            unresolved++; /* deleted since: the letter opens "Madame, Monsieur" */
        }
        amcs[n_amc - 1].people++;
        amcs[n_amc - 1].records += ap->accesses;
        n++;
    }
    struct tp_incident_write_result res;
    enum tp_err rc = tp_incident_write(o->out, inc, amcs, n_amc, people, n, &res, msg, sizeof msg);
    sodium_memzero(people, (a->n_people ? a->n_people : 1) * sizeof *people);
    free(people);
    free(amcs);
    if (rc != TP_OK) {
        tp_cli_error("incident assess", "%s", msg);
        return TP_EXIT_FAIL;
    }
    fprintf(stderr, "wrote %s: %zu files, %zu notices (text + PDF), %" PRId64 " PDF pages%s\n",
            o->out, res.files, res.notices, res.pdf_pages,
            unresolved ? " (some people no longer in the database: letters without names)" : "");
    return TP_EXIT_OK;
}

static void summary(const struct tp_assessment *a, const struct opts *o)
{
    json_t *per_amc = json_array(), *cats = json_object();
    size_t i = 0;
    while (i < a->n_people) {
        size_t j = i;
        int64_t records = 0;
        while (j < a->n_people && strcmp(a->people[j].amc, a->people[i].amc) == 0)
            records += a->people[j++].accesses;
        json_array_append_new(per_amc,
                              json_pack("{s:s, s:I, s:I}", "amc", a->people[i].amc, "people",
                                        (json_int_t)(j - i), "records", (json_int_t)records));
        i = j;
    }
    for (int b = 0; b < TP_CAT_COUNT; b++) {
        json_int_t c = 0;
        for (size_t k = 0; k < a->n_people; k++)
            c += (a->people[k].categories >> b) & 1u;
        json_object_set_new(cats, tp_data_category_name(1u << b), json_integer(c));
    }
    json_t *j = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:b}", "from_ms", (json_int_t)o->f.from_ms,
        "to_ms", (json_int_t)o->f.to_ms, "events_read", (json_int_t)a->events_read,
        "events_matched", (json_int_t)a->events_matched, "events_disclosing",
        (json_int_t)a->events_disclosing, "people", (json_int_t)a->n_people, "per_amc", per_amc,
        "people_by_category", cats, "unknown_fields", a->unknown_fields, "dry_run", o->dry_run);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        puts(s);
    free(s);
    json_decref(j);
}

static int assess(int argc, char **argv)
{
    static const struct option lo[] = {{"data", required_argument, NULL, 'd'},
                                       {"account", required_argument, NULL, 'a'},
                                       {"token", required_argument, NULL, 't'},
                                       {"ps", required_argument, NULL, 'p'},
                                       {"network", required_argument, NULL, 'n'},
                                       {"from", required_argument, NULL, 'f'},
                                       {"to", required_argument, NULL, 'T'},
                                       {"from-ms", required_argument, NULL, 'f'},
                                       {"to-ms", required_argument, NULL, 'T'},
                                       {"out", required_argument, NULL, 'o'},
                                       {"dry-run", no_argument, NULL, 'D'},
                                       {"no-contain", no_argument, NULL, 'N'},
                                       {"id", required_argument, NULL, 'i'},
                                       {"detected-ms", required_argument, NULL, 'x'},
                                       {"contact-name", required_argument, NULL, 'c'},
                                       {"contact-email", required_argument, NULL, 'e'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    struct opts o = {.dir = TP_DEFAULT_DATA,
                     .contact_name = "Équipe sécurité de la plateforme",
                     .contact_email = "securite@opentp.example"};
    o.f.to_ms = INT64_MAX;
    int c, bad = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.dir = optarg;
            break;
        case 'a':
            bad |= parse_id(optarg, &o.f.account_id);
            break;
        case 't':
            bad |= parse_id(optarg, &o.f.token_id);
            break;
        case 'p':
            bad |= parse_id(optarg, &o.f.ps_id);
            break;
        case 'n':
            o.network = optarg;
            bad |= tp_assess_network_parse(optarg, &o.f) != TP_OK;
            break;
        case 'f':
            bad |= parse_time(optarg, 0, &o.f.from_ms);
            break;
        case 'T':
            bad |= parse_time(optarg, 1, &o.f.to_ms);
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'D':
            o.dry_run = 1;
            break;
        case 'N':
            o.no_contain = 1;
            break;
        case 'i':
            o.id = optarg;
            break;
        case 'x':
            bad |= parse_time(optarg, 0, &o.detected_ms);
            break;
        case 'c':
            o.contact_name = optarg;
            break;
        case 'e':
            o.contact_email = optarg;
            break;
        case 'h':
            fputs(incident_help, stdout);
            return TP_EXIT_OK;
        default:
            fputs(incident_help, stderr);
            return TP_EXIT_USAGE;
        }
    }
    if (bad) {
        tp_cli_error("incident assess", "a subject, date or network is malformed (see --help)");
        return TP_EXIT_USAGE;
    }
    if (!o.f.account_id && !o.f.token_id && !o.f.ps_id && !o.f.has_network) {
        tp_cli_error("incident assess", "name the subject: --account, --token, --ps or --network");
        return TP_EXIT_USAGE;
    }
    if (!o.dry_run && !o.out) {
        tp_cli_error("incident assess", "--out FOLDER is required (or --dry-run for counts only)");
        return TP_EXIT_USAGE;
    }
    if (o.f.from_ms > o.f.to_ms) {
        tp_cli_error("incident assess", "--from is after --to");
        return TP_EXIT_USAGE;
    }
    struct tp_platform p;
    int rc = tp_platform_open(o.dir, &p, "incident assess");
    if (rc != TP_EXIT_OK)
        return rc;
    char adir[1100], msg[512];
    tp_platform_audit_dir(o.dir, adir, sizeof adir);
    struct tp_assessment a;
    if (tp_assess(adir, &o.f, &a, msg, sizeof msg) != TP_OK) {
        tp_cli_error("incident assess", "%s (run `opentp audit verify`)", msg);
        tp_platform_close(&p);
        return TP_EXIT_FAIL;
    }
    if (a.unknown_fields[0])
        fprintf(stderr,
                "warning: fields %s are not data categories the notices know: counted as "
                "coverage\n",
                a.unknown_fields);
    summary(&a, &o);
    if (!o.dry_run) {
        struct tp_incident *inc = calloc(1, sizeof *inc);
        if (!inc) {
            tp_assessment_free(&a);
            tp_platform_close(&p);
            return TP_EXIT_FAIL;
        }
        int64_t now = now_ms();
        if (o.id)
            snprintf(inc->id, sizeof inc->id, "%s", o.id);
        else
            snprintf(inc->id, sizeof inc->id, "INC-%" PRId64, now / 1000);
        snprintf(inc->platform, sizeof inc->platform, "opentp");
        snprintf(inc->description, sizeof inc->description,
                 "Un identifiant d'accès d'un professionnel de santé a été utilisé par un tiers "
                 "pour consulter des droits de tiers payant. Le journal des accès de la "
                 "plateforme donne la liste exacte des personnes concernées et des données vues.");
        if (o.f.account_id)
            snprintf(inc->account, sizeof inc->account, "compte %" PRId64, o.f.account_id);
        if (o.f.ps_id)
            snprintf(inc->ps, sizeof inc->ps, "professionnel de santé %" PRId64, o.f.ps_id);
        if (o.f.token_id)
            snprintf(inc->token, sizeof inc->token, "jeton d'API %" PRId64, o.f.token_id);
        if (o.network)
            snprintf(inc->network, sizeof inc->network, "%s", o.network);
        int64_t first = INT64_MAX, last = 0;
        for (size_t i = 0; i < a.n_people; i++) {
            if (a.people[i].first_ms < first)
                first = a.people[i].first_ms;
            if (a.people[i].last_ms > last)
                last = a.people[i].last_ms;
        }
        inc->window_start_ms = o.f.from_ms ? o.f.from_ms : (a.n_people ? first : now);
        inc->window_end_ms = o.f.to_ms != INT64_MAX ? o.f.to_ms : (a.n_people ? last : now);
        inc->detected_ms = o.detected_ms ? o.detected_ms : now;
        inc->report_ms = now;
        snprintf(inc->measures[inc->n_measures++], TP_INCIDENT_MEASURE_MAX,
                 "Évaluation exacte des personnes concernées à partir du journal des accès "
                 "infalsifiable de la plateforme.");
        if (!o.no_contain)
            contain(&p, &a, &o, inc);
        snprintf(inc->proposed[inc->n_proposed++], TP_INCIDENT_MEASURE_MAX,
                 "Information de chaque personne concernée par courrier.");
        snprintf(inc->contact_name, sizeof inc->contact_name, "%s", o.contact_name);
        snprintf(inc->contact_email, sizeof inc->contact_email, "%s", o.contact_email);
        rc = a.n_people ? write_documents(&p, &a, &o, inc) : TP_EXIT_OK;
        if (!a.n_people)
            fprintf(stderr, "nobody's data was disclosed by this subject in this window: no "
                            "notice to write\n");
        free(inc);
    }
    tp_assessment_free(&a);
    tp_platform_close(&p);
    return rc;
}

int cmd_incident(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "assess") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            fputs(incident_help, stdout);
            return TP_EXIT_OK;
        }
        fputs(incident_help, stderr);
        return TP_EXIT_USAGE;
    }
    if (sodium_init() < 0)
        return TP_EXIT_FAIL;
    return assess(argc - 1, argv + 1);
}
