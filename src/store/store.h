/* The storage interface. Handlers, the CLI and the importer talk to this, never to SQL.
 *
 * A backend (SQLite: store_sqlite.c; a PostgreSQL backend can implement the same table of
 * operations) fills a struct tp_store_ops. Personal data reaches the store already sealed
 * (struct tp_sealed_beneficiary): a backend never sees a NIR, a name or a birth date.
 *
 * Thread-safety: every function may be called from any thread at the same time, except
 * tp_store_open/tp_store_close. Reads see everything committed before they start. Writes that
 * must be durable before a response (engagements, access events) go through the group-commit
 * queue (tp_store_submit), which batches them into one transaction. */
#ifndef TP_STORE_STORE_H
#define TP_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "audit/event.h"
#include "core/err.h"
#include "core/identity.h"
#include "core/model.h"
#include "core/rights.h"
#include "core/switches.h"
#include "security/keys.h"

/* A beneficiary ready for storage: lookup keys, the sealed identity and the non-personal
 * fields. Built by tp_beneficiary_seal (store_seal.c). */
struct tp_sealed_beneficiary {
    uint8_t bidx_member[TP_BIDX_LEN];
    uint8_t bidx_nir[TP_BIDX_LEN]; /* of the NIR carried on the card (own, or a parent's) */
    uint8_t bidx_birth[TP_BIDX_LEN];
    uint8_t ref[TP_BIDX_LEN];
    uint8_t digest[TP_BIDX_LEN];
    uint8_t sealed[TP_SEALED_MAX];
    size_t sealed_len;
    const struct tp_beneficiary *plain; /* non-personal fields are read from here */
};

/* What a rights check needs to know about a beneficiary found by card data. */
struct tp_beneficiary_found {
    int64_t id;
    uint8_t ref[TP_BIDX_LEN];
    uint8_t bidx_nir[TP_BIDX_LEN]; /* to check a NIR given together with the birth data */
    struct tp_beneficiary b;       /* identity fields left empty: not needed, not decrypted;
                                    * amc and contract filled by tp_store_beneficiary_find_* */
    int64_t contract_id;
};

/* A beneficiary found by its pseudonymous reference (incident assessment, member accesses). */
struct tp_beneficiary_by_ref {
    int64_t id;
    char amc[10];
    int rank;
    char quality[16];
    uint8_t sealed[TP_SEALED_MAX]; /* the identity; open with tp_identity_open, AD = ref */
    size_t sealed_len;
};

struct tp_token_info {
    int64_t token_id;
    int64_t ps_id;
    enum tp_profession profession;
    int64_t expires_at; /* unix seconds, 0 = never */
    int revoked;
    uint32_t scopes; /* bit mask of TP_SCOPE_* */
};

#define TP_SCOPE_RIGHTS 1u
#define TP_SCOPE_ALL 0xffffffffu

struct tp_token_row {
    int64_t id;
    int64_t ps_id;
    char label[TP_TEXT_MAX];
    int64_t created_at, expires_at, revoked_at;
    uint32_t scopes;
};

struct tp_engagement {
    char number[TP_ENGAGEMENT_LEN + 1];
    int64_t beneficiary_id;
    int64_t ps_id;
    enum tp_domain domain;
    tp_day date_of_care;
    tp_day valid_until;
    int64_t created_ms;
};

/* An authentication or authorisation decision, as recorded. Never a password, code or token. */
struct tp_auth_event {
    int64_t at_ms;
    int64_t account_id; /* 0 when unknown */
    char login_ref[33]; /* keyed hash of the login tried (hex), to follow attempts on unknown logins
                         */
    char kind[32];      /* "login", "step_up", "password_change", "authz", ... */
    char outcome[32];   /* "ok", "bad_credentials", "throttled", "forbidden", ... */
    char detail[64];    /* operation name for authz decisions */
    char source[48];
    char request_id[33];
};

/* A unit of durable work for the group-commit writer. The submitter owns the memory until
 * `done` is called (from the writer thread) with the outcome of the batch it was in. */
struct tp_write_intent {
    int has_engagement;
    struct tp_engagement engagement;
    int has_event;
    struct tp_access_event event;
    int has_auth_event;
    struct tp_auth_event auth_event;
    /* A claim or PEC operation (store/claims.h), run by the writer inside the batch; NULL. */
    struct tp_claim_op *claim_op;
    void (*done)(struct tp_write_intent *wi, enum tp_err rc);
    void *arg;
    struct tp_write_intent *next; /* queue link, owned by the store */
    enum tp_err result;           /* set by the store before done() */
};

/* An account (identity issue): password hash, sealed TOTP seed, tenant attachment. */
#define TP_PWHASH_MAX 128 /* crypto_pwhash_STRBYTES */
struct tp_account_row {
    int64_t id;
    char login[TP_LOGIN_MAX];
    enum tp_role role;
    int64_t ps_id, amc_id, beneficiary_id; /* 0 when not attached */
    char password_hash[TP_PWHASH_MAX];
    int must_reset;
    uint8_t totp_sealed[TP_SECRET_SEALED_MAX];
    size_t totp_sealed_len; /* 0: no TOTP enrolled */
    int64_t totp_last_step;
    int disabled;
    int64_t created_ms;
};

struct tp_session_row {
    int64_t id;
    int64_t account_id;
    int64_t created_ms, last_seen_ms, expires_ms; /* expires_ms: absolute timeout */
    int64_t stepup_ms;
    int64_t revoked_ms;
};

/* changed[i] of beneficiaries_upsert (0 or 1) and beneficiaries_import. */
enum { TP_BEN_UNCHANGED = 0, TP_BEN_WRITTEN = 1, TP_BEN_DUPLICATE = 2 };

struct tp_store;
struct tp_claim_op;

/* The operations a backend implements. `impl` is the backend's own state. */
struct tp_store_ops {
    const char *name;
    void (*close)(void *impl);
    enum tp_err (*amc_upsert)(void *impl, const struct tp_amc *a, int64_t *id);
    enum tp_err (*amc_find)(void *impl, const char *number, int64_t *id, struct tp_amc *out);
    enum tp_err (*contract_upsert)(void *impl, const struct tp_contract *c, int64_t *id);
    enum tp_err (*contract_get)(void *impl, int64_t id, struct tp_contract *out);
    /* Codes of the contracts of the AMC numbered `amc`, in code order, into codes[0..max);
     * *n receives how many (0 for an unknown AMC). TP_ERR_TOO_BIG when there are more than
     * max (the importer caches them all). */
    enum tp_err (*contract_codes)(void *impl, const char *amc, char (*codes)[TP_CODE_MAX],
                                  size_t max, size_t *n);
    enum tp_err (*ps_upsert)(void *impl, const struct tp_ps *p, int64_t *id);
    enum tp_err (*ps_get)(void *impl, int64_t id, struct tp_ps *out);
    enum tp_err (*ps_find)(void *impl, const char *identifier, int64_t *id);
    /* Upserts n beneficiaries in one transaction keyed by (AMC, member, rank); a row whose
     * digest is unchanged is left alone. changed[i] (if not NULL) receives 1 when row i was
     * inserted or updated. All or nothing. */
    enum tp_err (*beneficiaries_upsert)(void *impl, const struct tp_sealed_beneficiary *rows,
                                        size_t n, int *changed);
    /* Bulk loading (the importer) around a series of beneficiaries_upsert calls: on = 1 gives
     * the writer a page cache (96 MiB) that holds a large batch's dirty index pages, so that
     * each is written once, at commit, and lets the WAL grow larger between two restarts
     * (~350 MB rather than ~130 MB); on = 0 restores the defaults. Durability unchanged. */
    enum tp_err (*bulk_load)(void *impl, int on);
    /* The importer's beneficiaries_upsert (same transaction, same digest rule), which also finds
     * a (member, rank) given twice in one file, in the database rather than in memory: every
     * row is recorded with `run` (> 0, from import_run_begin) and its line in the file,
     * lines[i], unchanged rows included (the row itself is then left alone); a row whose
     * (member, rank) was already recorded with `run` is not written. changed[i] receives
     * TP_BEN_UNCHANGED, TP_BEN_WRITTEN or TP_BEN_DUPLICATE, and then first[i] the line recorded by
     * the run's earlier row (0 otherwise). Of two rows of one call with the same key, the one
     * earlier in rows[] is the first. lines, changed and first: n entries each, required. */
    enum tp_err (*beneficiaries_import)(void *impl, const struct tp_sealed_beneficiary *rows,
                                        size_t n, int64_t run, const int64_t *lines, int *changed,
                                        int64_t *first);
    /* A new import run number, greater than every earlier one (for beneficiaries_import). */
    enum tp_err (*import_run_begin)(void *impl, int64_t *run);
    /* By the NIR index, among beneficiaries whose own NIR it is (children on a parent's NIR
     * are found by birth date and rank). TP_ERR_NOT_FOUND when none. */
    enum tp_err (*beneficiary_find_by_nir)(void *impl, const uint8_t bidx[TP_BIDX_LEN],
                                           struct tp_beneficiary_found *out);
    enum tp_err (*beneficiary_find_by_birth)(void *impl, const uint8_t bidx[TP_BIDX_LEN],
                                             struct tp_beneficiary_found *out);
    enum tp_err (*token_insert)(void *impl, int64_t ps_id, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                const char *label, uint32_t scopes, int64_t expires_at, int64_t now,
                                int64_t *id);
    enum tp_err (*token_find)(void *impl, const uint8_t hash[TP_TOKEN_HASH_LEN],
                              struct tp_token_info *out);
    enum tp_err (*token_revoke)(void *impl, int64_t id, int64_t now);
    enum tp_err (*token_list)(void *impl, int64_t ps_id, struct tp_token_row *rows, size_t max,
                              size_t *n);
    /* Applies a batch of write intents in one transaction. Durable on return unless the
     * backend has a sync operation. */
    enum tp_err (*apply_batch)(void *impl, struct tp_write_intent *const *items, size_t n);
    /* Optional: makes every batch applied so far durable (one fsync for many batches).
     * With it, the store pipelines: the next batch is applied while the previous ones are
     * being synced, and intents are acknowledged only after their sync. */
    enum tp_err (*sync)(void *impl);
    enum tp_err (*count)(void *impl, const char *what, int64_t *n);

    /* Accounts and sessions. account_insert: TP_ERR_CONFLICT when the login exists. */
    enum tp_err (*account_insert)(void *impl, const struct tp_account_row *a, int64_t *id);
    enum tp_err (*account_find)(void *impl, const char *login, struct tp_account_row *out);
    enum tp_err (*account_get)(void *impl, int64_t id, struct tp_account_row *out);
    enum tp_err (*account_set_password)(void *impl, int64_t id, const char *hash, int must_reset);
    enum tp_err (*account_set_must_reset)(void *impl, int64_t id, int must_reset);
    /* Suspends (1) or reinstates (0) an account: a disabled account cannot sign in and its
     * sessions stop working (detection's containment, the security console). */
    enum tp_err (*account_set_disabled)(void *impl, int64_t id, int disabled);
    /* Records `step` as the last TOTP step used, only if it is newer than the recorded one:
     * TP_ERR_CONFLICT otherwise (a replayed code), atomically. */
    enum tp_err (*account_use_totp_step)(void *impl, int64_t id, int64_t step);
    enum tp_err (*recovery_codes_set)(void *impl, int64_t account_id, const uint8_t (*hashes)[32],
                                      size_t n);
    /* Marks the unused code with this hash as used; TP_ERR_NOT_FOUND if none. */
    enum tp_err (*recovery_code_use)(void *impl, int64_t account_id, const uint8_t hash[32],
                                     int64_t now_ms);
    enum tp_err (*session_insert)(void *impl, int64_t account_id,
                                  const uint8_t hash[TP_TOKEN_HASH_LEN], int64_t now_ms,
                                  int64_t expires_ms, int64_t stepup_ms, const char *source,
                                  int64_t *id);
    enum tp_err (*session_find)(void *impl, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                struct tp_session_row *out);
    enum tp_err (*session_touch)(void *impl, int64_t id, int64_t now_ms);
    enum tp_err (*session_step_up)(void *impl, int64_t id, int64_t now_ms);
    enum tp_err (*session_revoke)(void *impl, int64_t id, int64_t now_ms);
    /* Revokes every session of the account, except `keep` (0 = none); *n = how many. */
    enum tp_err (*sessions_revoke_all)(void *impl, int64_t account_id, int64_t keep, int64_t now_ms,
                                       int64_t *n);
    enum tp_err (*auth_event_insert)(void *impl, const struct tp_auth_event *e);
    enum tp_err (*token_get)(void *impl, int64_t id, struct tp_token_row *out);
    /* Enrols TOTP on an account that has none: TP_ERR_CONFLICT if it already has one. */
    enum tp_err (*account_set_totp)(void *impl, int64_t id, const uint8_t *sealed, size_t len);
    enum tp_err (*beneficiary_id_by_member)(void *impl, const uint8_t bidx_member[TP_BIDX_LEN],
                                            int rank, int64_t *id);
    /* Kill switches (core/switches.h): the switched-off ones, and one change (durable on
     * return). scope is "channel", "ps" (key: the PS id) or "amc" (key: its number). */
    enum tp_err (*switches_load)(void *impl, struct tp_switch_state *out);
    enum tp_err (*switch_set)(void *impl, const char *scope, const char *key, int off,
                              const char *reason, int64_t by_account, int64_t at_ms);
    /* TP_ERR_NOT_FOUND when no beneficiary has that reference (any more). */
    enum tp_err (*beneficiary_by_ref)(void *impl, const uint8_t ref[TP_BIDX_LEN],
                                      struct tp_beneficiary_by_ref *out);
    enum tp_err (*beneficiary_ref_of)(void *impl, int64_t id, uint8_t ref[TP_BIDX_LEN]);
};

struct tp_store_stats {
    uint64_t batches, intents, max_batch, failed_batches;
    uint64_t commit_us_total;      /* time spent in apply_batch, summed */
    uint64_t syncs, sync_us_total; /* pipelined fsyncs (backends with sync) */
    uint64_t commit_us_max;
};

/* Opens a store from a location: a path to an SQLite file (created and migrated if needed).
 * The group-commit writer starts with it. */
enum tp_err tp_store_open(const char *location, struct tp_store **out, char *msg,
                          size_t msglen) TP_MUST_USE;

/* Stops the writer after draining the queue, then closes the backend. NULL is fine. */
void tp_store_close(struct tp_store *s);

/* Attaches the access log that receives the events of write intents (has_event): the writer
 * appends them after its batch is applied and the syncer commits (fdatasync) the log together
 * with the database, so an intent is acknowledged only once its event is durable in the log.
 * Call before the first tp_store_submit; the log must outlive the store. An intent with an
 * event submitted to a store without a log fails (TP_ERR_INTERNAL): events are never dropped. */
struct tp_audit_log;
void tp_store_set_audit(struct tp_store *s, struct tp_audit_log *log);

/* Benchmarks only (bench/audit_append.sh measures the rights check with and without the log):
 * events are dropped instead of logged. `opentp serve` allows it only on a data directory
 * marked as a benchmark platform (DIR/BENCHMARK), never on a real one. */
void tp_store_discard_events(struct tp_store *s);

/* Direct access to the backend's operations and state (for the synchronous calls). */
const struct tp_store_ops *tp_store_ops(const struct tp_store *s);
void *tp_store_impl(const struct tp_store *s);

/* Queues a write intent. Returns TP_ERR_BUSY when the queue holds too many (back-pressure);
 * otherwise wi->done is called exactly once, later, from the writer thread. */
enum tp_err tp_store_submit(struct tp_store *s, struct tp_write_intent *wi) TP_MUST_USE;

/* Submits and waits for durability (for the CLI and tests; the server uses callbacks). */
enum tp_err tp_store_write_sync(struct tp_store *s, struct tp_write_intent *wi) TP_MUST_USE;

void tp_store_get_stats(struct tp_store *s, struct tp_store_stats *out);

/* Cached reads for the request path (store/cache.h): a token's state is at most
 * TP_TOKEN_CACHE_MS old (a revocation takes effect within that delay, in every process), a
 * contract at most TP_CONTRACT_CACHE_MS. Unknown tokens are not cached. */
#define TP_TOKEN_CACHE_MS 1000
#define TP_CONTRACT_CACHE_MS 10000
enum tp_err tp_store_token_find(struct tp_store *s, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                struct tp_token_info *out) TP_MUST_USE;
enum tp_err tp_store_contract_get(struct tp_store *s, int64_t id,
                                  struct tp_contract *out) TP_MUST_USE;

/* Beneficiary lookups by blind index (the backend's, completed with the AMC number and the
 * contract code from the cached contract). */
enum tp_err tp_store_beneficiary_find_by_nir(struct tp_store *s, const uint8_t bidx[TP_BIDX_LEN],
                                             struct tp_beneficiary_found *out) TP_MUST_USE;
enum tp_err tp_store_beneficiary_find_by_birth(struct tp_store *s, const uint8_t bidx[TP_BIDX_LEN],
                                               struct tp_beneficiary_found *out) TP_MUST_USE;

/* Seals a beneficiary for storage (blind indexes, digest, encrypted identity). */
enum tp_err tp_beneficiary_seal(const struct tp_keys *k, const struct tp_beneficiary *b,
                                struct tp_sealed_beneficiary *out) TP_MUST_USE;

/* Backend constructors. */
enum tp_err tp_store_sqlite_open(const char *path, const struct tp_store_ops **ops, void **impl,
                                 char *msg, size_t msglen) TP_MUST_USE;

#endif
