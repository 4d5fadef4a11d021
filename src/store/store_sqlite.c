/* SQLite backend of the store (store.h).
 *
 * One writer connection (WAL; durability by an explicit fdatasync, see sq_sync) used under a mutex
 * by the group-commit writer and by the synchronous upserts; a pool of read-only connections, each
 * with its prepared statements, handed out to concurrent readers. Schema changes are numbered
 * migrations applied in order at open; the current number is in schema_version. All SQL uses bound
 * parameters. */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/claims.h"
#include "store/store.h"

/* Migrations: append only, never edit one that has shipped. */
static const char *const migrations[] = {
    /* 1: the core data model (PRODUCT §2). */
    "CREATE TABLE amc("
    " id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, name TEXT NOT NULL,"
    " convention TEXT NOT NULL, routing TEXT NOT NULL, dpo_name TEXT NOT NULL,"
    " dpo_email TEXT NOT NULL, dpo_address TEXT NOT NULL, iban TEXT NOT NULL,"
    " bic TEXT NOT NULL) STRICT;"
    "CREATE TABLE contract("
    " id INTEGER PRIMARY KEY, amc_id INTEGER NOT NULL REFERENCES amc(id), code TEXT NOT NULL,"
    " name TEXT NOT NULL, responsable INTEGER NOT NULL CHECK (responsable IN (0, 1)),"
    " level INTEGER NOT NULL, valid_from INTEGER NOT NULL, UNIQUE (amc_id, code)) STRICT;"
    "CREATE TABLE guarantee("
    " id INTEGER PRIMARY KEY,"
    " contract_id INTEGER NOT NULL REFERENCES contract(id) ON DELETE CASCADE,"
    " domain TEXT NOT NULL, act TEXT NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('pct_br', 'forfait', 'frais_reels')),"
    " rate_bp INTEGER NOT NULL, includes_amo INTEGER NOT NULL, amount_cents INTEGER NOT NULL,"
    " period_months INTEGER NOT NULL, per_family INTEGER NOT NULL) STRICT;"
    "CREATE INDEX guarantee_contract ON guarantee(contract_id);"
    /* Personal data only as blind indexes and a sealed identity. */
    "CREATE TABLE beneficiary("
    " id INTEGER PRIMARY KEY, amc_id INTEGER NOT NULL REFERENCES amc(id),"
    " contract_id INTEGER NOT NULL REFERENCES contract(id),"
    " bidx_member BLOB NOT NULL, rank INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 99),"
    " quality TEXT NOT NULL, nir_own INTEGER NOT NULL, bidx_nir BLOB NOT NULL,"
    " bidx_birth BLOB NOT NULL, ref BLOB NOT NULL, digest BLOB NOT NULL,"
    " identity BLOB NOT NULL, coverage_start INTEGER NOT NULL, coverage_end INTEGER NOT NULL,"
    " tp_domains INTEGER NOT NULL, UNIQUE (bidx_member, rank)) STRICT;"
    "CREATE INDEX beneficiary_nir ON beneficiary(bidx_nir);"
    "CREATE INDEX beneficiary_birth ON beneficiary(bidx_birth);"
    "CREATE TABLE ps("
    " id INTEGER PRIMARY KEY, identifier TEXT NOT NULL UNIQUE, profession TEXT NOT NULL,"
    " finess TEXT NOT NULL, rpps TEXT NOT NULL, am_number TEXT NOT NULL, name TEXT NOT NULL,"
    " address TEXT NOT NULL, iban TEXT NOT NULL, bic TEXT NOT NULL) STRICT;"
    "CREATE TABLE api_token("
    " id INTEGER PRIMARY KEY, ps_id INTEGER NOT NULL REFERENCES ps(id),"
    " hash BLOB NOT NULL UNIQUE, label TEXT NOT NULL, scopes INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    " revoked_at INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE engagement("
    " id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE,"
    " beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id),"
    " ps_id INTEGER NOT NULL REFERENCES ps(id), domain TEXT NOT NULL,"
    " date_of_care INTEGER NOT NULL, valid_until INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL) STRICT;"
    "CREATE TABLE access_event("
    " id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, request_id TEXT NOT NULL,"
    " actor TEXT NOT NULL, ps_id INTEGER, beneficiary_ref BLOB, operation TEXT NOT NULL,"
    " outcome TEXT NOT NULL, fields TEXT NOT NULL, source TEXT NOT NULL) STRICT;",
    /* 2: identity and access (accounts, TOTP, sessions, recovery codes, auth events). */
    "CREATE TABLE account("
    " id INTEGER PRIMARY KEY, login TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK (role IN ('ps', 'member', 'insurer', 'operator', 'security',"
    " 'dpo')),"
    " ps_id INTEGER REFERENCES ps(id), amc_id INTEGER REFERENCES amc(id),"
    " beneficiary_id INTEGER REFERENCES beneficiary(id),"
    " password_hash TEXT NOT NULL, must_reset INTEGER NOT NULL DEFAULT 0,"
    " totp_sealed BLOB, totp_last_step INTEGER NOT NULL DEFAULT 0,"
    " disabled INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    " CHECK ((role = 'ps') = (ps_id IS NOT NULL)),"
    " CHECK ((role = 'insurer') = (amc_id IS NOT NULL)),"
    " CHECK ((role = 'member') = (beneficiary_id IS NOT NULL))) STRICT;"
    "CREATE TABLE recovery_code("
    " account_id INTEGER NOT NULL REFERENCES account(id), hash BLOB NOT NULL,"
    " used_ms INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account_id, hash)) STRICT;"
    "CREATE TABLE session("
    " id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES account(id),"
    " token_hash BLOB NOT NULL UNIQUE, created_ms INTEGER NOT NULL,"
    " last_seen_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    " stepup_ms INTEGER NOT NULL DEFAULT 0, revoked_ms INTEGER NOT NULL DEFAULT 0,"
    " source TEXT NOT NULL) STRICT;"
    "CREATE INDEX session_account ON session(account_id);"
    "CREATE TABLE auth_event("
    " id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, account_id INTEGER,"
    " login_ref TEXT NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL,"
    " detail TEXT NOT NULL, source TEXT NOT NULL, request_id TEXT NOT NULL) STRICT;",
    /* 3: import runs (docs/IMPORT.md). A beneficiary row records the import run and the line
     * of the file that last wrote it (4: or found it unchanged), so that a (member, rank) given
     * twice in one file is found in the database, with the line of its first occurrence. */
    "CREATE TABLE import_run("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, started_ms INTEGER NOT NULL) STRICT;"
    "ALTER TABLE beneficiary ADD COLUMN import_run INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE beneficiary ADD COLUMN import_line INTEGER NOT NULL DEFAULT 0;",
    /* 4: the run and line of an import that found a beneficiary unchanged, apart from the row:
     * recording them in the row rewrote its page (wide rows, one in ~13 per page), which a
     * re-import in another order than the first did for most pages of the table at every
     * batch; this narrow table is ~30 times smaller (docs/IMPORT.md). */
    "CREATE TABLE import_seen("
    " beneficiary_id INTEGER PRIMARY KEY REFERENCES beneficiary(id) ON DELETE CASCADE,"
    " run INTEGER NOT NULL, line INTEGER NOT NULL) STRICT;",
    /* 5: access events live in the tamper-evident access log, apart from this database
     * (docs/AUDIT-LOG.md); the table that held them before the log existed goes. */
    "DROP TABLE access_event;",
    /* 6: payment runs (docs/PAYMENTS.md, "Payment runs"). A run is 'building' from the
     * transaction that assigns its claims until the one that marks them paid; at most one run
     * is unfinished, and the next `opentp pay` completes it. What the files say is copied
     * here at assignment (PS name and bank details, the paying account, per-AMC lines), so
     * that a restarted run writes the same files. */
    "CREATE TABLE pay_account("
    " id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, iban TEXT NOT NULL,"
    " bic TEXT NOT NULL) STRICT;"
    "CREATE TABLE payment_run("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, msg_id TEXT NOT NULL UNIQUE,"
    " status TEXT NOT NULL CHECK (status IN ('building', 'done')),"
    " created_ms INTEGER NOT NULL, execution_date INTEGER NOT NULL, account_id INTEGER,"
    " debtor_name TEXT NOT NULL, debtor_iban TEXT NOT NULL, debtor_bic TEXT NOT NULL,"
    " claims INTEGER NOT NULL DEFAULT 0, claims_cents INTEGER NOT NULL DEFAULT 0,"
    " held_ps INTEGER NOT NULL DEFAULT 0, done_ms INTEGER) STRICT;"
    "CREATE UNIQUE INDEX payment_run_unfinished ON payment_run(status)"
    " WHERE status = 'building';"
    "CREATE TABLE pay_transfer("
    " run_id INTEGER NOT NULL REFERENCES payment_run(id), ps_id INTEGER NOT NULL,"
    " ps_ident TEXT NOT NULL, ps_name TEXT NOT NULL, iban TEXT NOT NULL, bic TEXT NOT NULL,"
    " claims INTEGER NOT NULL DEFAULT 0, gross_cents INTEGER NOT NULL DEFAULT 0,"
    " deducted_cents INTEGER NOT NULL DEFAULT 0, net_cents INTEGER NOT NULL DEFAULT 0,"
    " balance_before_cents INTEGER NOT NULL DEFAULT 0,"
    " balance_after_cents INTEGER NOT NULL DEFAULT 0,"
    " advance_cents INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, ps_id)) STRICT;"
    "CREATE INDEX pay_transfer_ps ON pay_transfer(ps_id);"
    "CREATE TABLE pay_line("
    " run_id INTEGER NOT NULL REFERENCES payment_run(id), amc TEXT NOT NULL,"
    " ps_id INTEGER NOT NULL, claims INTEGER NOT NULL, amount_cents INTEGER NOT NULL,"
    " by_advance_cents INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (run_id, amc, ps_id)) STRICT;"
    "CREATE INDEX pay_line_ps ON pay_line(ps_id);"
    "CREATE TABLE pay_statement("
    " run_id INTEGER NOT NULL REFERENCES payment_run(id), amc TEXT NOT NULL,"
    " amc_name TEXT NOT NULL, granted_cents INTEGER NOT NULL,"
    " outstanding_cents INTEGER NOT NULL, PRIMARY KEY (run_id, amc)) STRICT;"
    "CREATE TABLE advance("
    " id INTEGER PRIMARY KEY, ps_id INTEGER NOT NULL REFERENCES ps(id),"
    " amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),"
    " proposed_cents INTEGER NOT NULL, granted_ms INTEGER NOT NULL, account_id INTEGER,"
    " paid_run INTEGER REFERENCES payment_run(id)) STRICT;"
    "CREATE INDEX advance_ps ON advance(ps_id);"
    "CREATE INDEX advance_run ON advance(paid_run);",
    /* Kill switches (docs/SECURITY.md "Kill switches"): the current state, one row per switch
     * that was ever set; every change is also an auth_event (kind kill_switch). */
    "CREATE TABLE kill_switch("
    " scope TEXT NOT NULL CHECK (scope IN ('channel', 'ps', 'amc')), key TEXT NOT NULL,"
    " off INTEGER NOT NULL CHECK (off IN (0, 1)), reason TEXT NOT NULL,"
    " by_account INTEGER, at_ms INTEGER NOT NULL, PRIMARY KEY (scope, key)) STRICT;",
    /* Claims and PECs (docs/CLAIMS.md). Guarantee-language texts per contract version; the
     * counters the benefits engine consumes (per beneficiary: owner = its reference; per family:
     * owner = the member blind index), equipment dates and yearly PF/franchise totals, and what
     * each claim or PEC added to the counters, so that a cancellation gives it back. Payment
     * runs read claim(status, payment_run). */
    "CREATE TABLE contract_version("
    " contract_id INTEGER NOT NULL REFERENCES contract(id), valid_from INTEGER NOT NULL,"
    " text TEXT NOT NULL, PRIMARY KEY (contract_id, valid_from)) STRICT;"
    "CREATE TABLE claim("
    " id INTEGER PRIMARY KEY, ps_id INTEGER NOT NULL REFERENCES ps(id),"
    " invoice TEXT NOT NULL, content_digest BLOB NOT NULL,"
    " beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id), amc_number TEXT NOT NULL,"
    " engagement TEXT, pec TEXT, date_of_care INTEGER NOT NULL, submitted_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('accepted','rejected','cancelled','paid')),"
    " total_cents INTEGER NOT NULL, amo_cents INTEGER NOT NULL, amc_cents INTEGER NOT NULL,"
    " patient_cents INTEGER NOT NULL, reasons TEXT NOT NULL, payment_run INTEGER,"
    /* Equipment dates before and after the claim, what it added to the year's PF and
     * franchises (for a cancellation); -2147483648 = no date (TP_DAY_NONE). */
    " cancelled_ms INTEGER, prev_frame INTEGER NOT NULL DEFAULT -2147483648,"
    " prev_lenses INTEGER NOT NULL DEFAULT -2147483648,"
    " prev_aid_l INTEGER NOT NULL DEFAULT -2147483648,"
    " prev_aid_r INTEGER NOT NULL DEFAULT -2147483648,"
    " new_frame INTEGER NOT NULL DEFAULT -2147483648,"
    " new_lenses INTEGER NOT NULL DEFAULT -2147483648,"
    " new_aid_l INTEGER NOT NULL DEFAULT -2147483648,"
    " new_aid_r INTEGER NOT NULL DEFAULT -2147483648, pf_delta INTEGER NOT NULL DEFAULT 0,"
    " franchise_delta INTEGER NOT NULL DEFAULT 0, UNIQUE (ps_id, invoice)) STRICT;"
    "CREATE INDEX claim_status_run ON claim(status, payment_run);"
    "CREATE INDEX claim_ps ON claim(ps_id, id);"
    "CREATE TABLE pec("
    " id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE,"
    " ps_id INTEGER NOT NULL REFERENCES ps(id),"
    " beneficiary_id INTEGER NOT NULL REFERENCES beneficiary(id), amc_number TEXT NOT NULL,"
    " engagement TEXT, domain INTEGER NOT NULL, date_of_quote INTEGER NOT NULL,"
    " valid_until INTEGER NOT NULL, submitted_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('accepted','partially_accepted','refused',"
    " 'cancelled','used','expired')),"
    " total_cents INTEGER NOT NULL, amo_cents INTEGER NOT NULL, amc_cents INTEGER NOT NULL,"
    " patient_cents INTEGER NOT NULL, reasons TEXT NOT NULL, claim_id INTEGER,"
    " new_frame INTEGER NOT NULL, new_lenses INTEGER NOT NULL, new_aid_l INTEGER NOT NULL,"
    " new_aid_r INTEGER NOT NULL, pf_delta INTEGER NOT NULL,"
    " franchise_delta INTEGER NOT NULL) STRICT;"
    "CREATE INDEX pec_beneficiary ON pec(beneficiary_id, status);"
    /* The lines of a claim (kind 0) or of a PEC (kind 1): as sent, then as computed. */
    "CREATE TABLE claim_line("
    " kind INTEGER NOT NULL, object_id INTEGER NOT NULL, line INTEGER NOT NULL,"
    " code TEXT NOT NULL, quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL,"
    " br_in INTEGER NOT NULL, amo_rate_in INTEGER NOT NULL, amo_in INTEGER NOT NULL,"
    " side INTEGER NOT NULL, vision_changed INTEGER NOT NULL, price_cents INTEGER NOT NULL,"
    " br_cents INTEGER NOT NULL, amo_cents INTEGER NOT NULL, deduction_cents INTEGER NOT NULL,"
    " amc_cents INTEGER NOT NULL, patient_cents INTEGER NOT NULL, reasons INTEGER NOT NULL,"
    " status INTEGER NOT NULL, PRIMARY KEY (kind, object_id, line)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE benefit_counter("
    " owner BLOB NOT NULL, scope INTEGER NOT NULL, key TEXT NOT NULL, side INTEGER NOT NULL,"
    " period_start INTEGER NOT NULL, used_cents INTEGER NOT NULL,"
    " PRIMARY KEY (owner, scope, key, side, period_start)) STRICT, WITHOUT ROWID;"
    /* What a claim (kind 0) or a PEC's hold (kind 1) added to a counter. */
    "CREATE TABLE benefit_use("
    " kind INTEGER NOT NULL, object_id INTEGER NOT NULL, owner BLOB NOT NULL,"
    " scope INTEGER NOT NULL, key TEXT NOT NULL, side INTEGER NOT NULL,"
    " period_start INTEGER NOT NULL, delta_cents INTEGER NOT NULL) STRICT;"
    "CREATE INDEX benefit_use_object ON benefit_use(kind, object_id);"
    "CREATE TABLE benefit_history("
    " beneficiary_id INTEGER PRIMARY KEY REFERENCES beneficiary(id),"
    " last_frame INTEGER NOT NULL, last_lenses INTEGER NOT NULL, last_aid_l INTEGER NOT NULL,"
    " last_aid_r INTEGER NOT NULL, pf_year INTEGER NOT NULL, pf_cents INTEGER NOT NULL,"
    " franchise_cents INTEGER NOT NULL) STRICT;",
    /* Beneficiaries by their pseudonymous reference: what the access log names, for a
     * member's own accesses and an incident's exact list of exposed people. */
    "CREATE INDEX beneficiary_ref ON beneficiary(ref);",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* Statements of a read connection. */
enum {
    R_BEN_BY_NIR,
    R_BEN_BY_BIRTH,
    R_TOKEN_FIND,
    R_CONTRACT,
    R_GUARANTEES,
    R_AMC_FIND,
    R_PS_GET,
    R_PS_FIND,
    R_TOKEN_LIST,
    R_CONTRACT_CODES,
    R_ACCOUNT_BY_LOGIN,
    R_ACCOUNT_BY_ID,
    R_SESSION_FIND,
    R_TOKEN_GET,
    R_BEN_ID_BY_MEMBER,
    R_COUNT
};

/* Index seek plus one row: no join, since every read transaction after a commit starts with
 * an empty page cache and each joined table costs page reads. The AMC number and contract
 * code come from the (cached) contract, in store.c. */
#define BEN_COLUMNS                                                                                \
    "SELECT id, ref, bidx_nir, rank, quality, nir_own, coverage_start, coverage_end,"              \
    " tp_domains, contract_id FROM beneficiary "

static const char *const read_sql[R_COUNT] = {
    [R_BEN_BY_NIR] = BEN_COLUMNS "WHERE bidx_nir = ?1 AND nir_own = 1 LIMIT 2",
    [R_BEN_BY_BIRTH] = BEN_COLUMNS "WHERE bidx_birth = ?1 LIMIT 2",
    [R_TOKEN_FIND] = "SELECT t.id, t.ps_id, p.profession, t.expires_at, t.revoked_at, t.scopes"
                     " FROM api_token t JOIN ps p ON p.id = t.ps_id WHERE t.hash = ?1",
    [R_CONTRACT] = "SELECT a.number, c.code, c.name, c.responsable, c.level, c.valid_from"
                   " FROM contract c JOIN amc a ON a.id = c.amc_id WHERE c.id = ?1",
    [R_GUARANTEES] = "SELECT domain, act, kind, rate_bp, includes_amo, amount_cents,"
                     " period_months, per_family FROM guarantee WHERE contract_id = ?1"
                     " ORDER BY id",
    [R_AMC_FIND] = "SELECT id, number, name, convention, routing, dpo_name, dpo_email,"
                   " dpo_address, iban, bic FROM amc WHERE number = ?1",
    [R_PS_GET] = "SELECT profession, finess, rpps, am_number, name, address, iban, bic"
                 " FROM ps WHERE id = ?1",
    [R_PS_FIND] = "SELECT id FROM ps WHERE identifier = ?1",
#define ACCOUNT_COLUMNS                                                                            \
    "SELECT id, login, role, coalesce(ps_id, 0), coalesce(amc_id, 0),"                             \
    " coalesce(beneficiary_id, 0), password_hash, must_reset, totp_sealed, totp_last_step,"        \
    " disabled, created_ms FROM account "
    [R_ACCOUNT_BY_LOGIN] = ACCOUNT_COLUMNS "WHERE login = ?1",
    [R_ACCOUNT_BY_ID] = ACCOUNT_COLUMNS "WHERE id = ?1",
    [R_SESSION_FIND] = "SELECT id, account_id, created_ms, last_seen_ms, expires_ms, stepup_ms,"
                       " revoked_ms FROM session WHERE token_hash = ?1",
    [R_BEN_ID_BY_MEMBER] = "SELECT id FROM beneficiary WHERE bidx_member = ?1 AND rank = ?2",
    [R_TOKEN_GET] = "SELECT id, ps_id, label, created_at, expires_at, revoked_at, scopes"
                    " FROM api_token WHERE id = ?1",
    [R_TOKEN_LIST] = "SELECT id, ps_id, label, created_at, expires_at, revoked_at, scopes"
                     " FROM api_token WHERE ps_id = ?1 ORDER BY id",
    [R_CONTRACT_CODES] = "SELECT c.code FROM contract c JOIN amc a ON a.id = c.amc_id"
                         " WHERE a.number = ?1 ORDER BY c.code",
};

struct reader {
    sqlite3 *db;
    sqlite3_stmt *st[R_COUNT];
    struct reader *next;
};

/* Statements of the writer connection. */
enum {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_AMC_UPSERT,
    W_CONTRACT_UPSERT,
    W_GUAR_DELETE,
    W_GUAR_INSERT,
    W_PS_UPSERT,
    W_BEN_DIGEST,
    W_BEN_INSERT,
    W_BEN_UPDATE,
    W_BEN_MARK,
    W_BEN_MARK_NEW,
    W_BEN_SEEN,
    W_AMC_ID,
    W_CONTRACT_ID,
    W_TOKEN_INSERT,
    W_TOKEN_REVOKE,
    W_ENGAGEMENT,
    W_ACCOUNT_INSERT,
    W_ACCOUNT_PASSWORD,
    W_ACCOUNT_MUST_RESET,
    W_ACCOUNT_DISABLED,
    W_ACCOUNT_TOTP_STEP,
    W_RECOVERY_DELETE,
    W_RECOVERY_INSERT,
    W_RECOVERY_USE,
    W_SESSION_INSERT,
    W_SESSION_TOUCH,
    W_SESSION_STEP_UP,
    W_SESSION_REVOKE,
    W_SESSIONS_REVOKE_ALL,
    W_AUTH_EVENT,
    W_ACCOUNT_TOTP,
    W_COUNT
};

static const char *const write_sql[W_COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_AMC_UPSERT] =
        "INSERT INTO amc(number, name, convention, routing, dpo_name, dpo_email, dpo_address,"
        " iban, bic) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT(number) DO UPDATE SET name = ?2, convention = ?3, routing = ?4,"
        " dpo_name = ?5, dpo_email = ?6, dpo_address = ?7, iban = ?8, bic = ?9"
        " RETURNING id",
    [W_CONTRACT_UPSERT] =
        "INSERT INTO contract(amc_id, code, name, responsable, level, valid_from)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(amc_id, code) DO UPDATE SET name = ?3,"
        " responsable = ?4, level = ?5, valid_from = ?6 RETURNING id",
    [W_GUAR_DELETE] = "DELETE FROM guarantee WHERE contract_id = ?1",
    [W_GUAR_INSERT] = "INSERT INTO guarantee(contract_id, domain, act, kind, rate_bp,"
                      " includes_amo, amount_cents, period_months, per_family)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [W_PS_UPSERT] =
        "INSERT INTO ps(identifier, profession, finess, rpps, am_number, name, address, iban,"
        " bic) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(identifier) DO UPDATE"
        " SET profession = ?2, finess = ?3, rpps = ?4, am_number = ?5, name = ?6,"
        " address = ?7, iban = ?8, bic = ?9 RETURNING id",
    [W_BEN_DIGEST] = "SELECT digest, id, import_run, import_line FROM beneficiary"
                     " WHERE bidx_member = ?1 AND rank = ?2",
    /* Only for a row that exists and was not written by this run: a LEFT JOIN in the digest
     * lookup opened a second cursor for every row, new ones included (~0.5 s per 1M). */
    [W_BEN_SEEN] = "SELECT run, line FROM import_seen WHERE beneficiary_id = ?1",
    /* Insert and update are separate statements, chosen by the digest lookup: a one-row INSERT
     * needs no statement journal, whereas an upsert (INSERT ... ON CONFLICT DO UPDATE) makes
     * SQLite copy every page it touches into one, for every row: a third of a bulk import's
     * time. */
    [W_BEN_INSERT] =
        "INSERT INTO beneficiary(amc_id, contract_id, bidx_member, rank, quality, nir_own,"
        " bidx_nir, bidx_birth, ref, digest, identity, coverage_start, coverage_end, tp_domains,"
        " import_run, import_line)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    [W_BEN_UPDATE] =
        "UPDATE beneficiary SET contract_id = ?2, quality = ?5, nir_own = ?6, bidx_nir = ?7,"
        " bidx_birth = ?8, digest = ?10, identity = ?11, coverage_start = ?12,"
        " coverage_end = ?13, tp_domains = ?14, import_run = ?15, import_line = ?16"
        " WHERE id = ?17",
    /* An unchanged row seen by an import: the run and the line, beside the row. */
    [W_BEN_MARK] = "UPDATE import_seen SET run = ?2, line = ?3 WHERE beneficiary_id = ?1",
    [W_BEN_MARK_NEW] = "INSERT INTO import_seen(beneficiary_id, run, line) VALUES (?1, ?2, ?3)",
    [W_AMC_ID] = "SELECT id FROM amc WHERE number = ?1",
    [W_CONTRACT_ID] = "SELECT id FROM contract WHERE amc_id = ?1 AND code = ?2",
    [W_TOKEN_INSERT] = "INSERT INTO api_token(ps_id, hash, label, scopes, created_at,"
                       " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [W_TOKEN_REVOKE] = "UPDATE api_token SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0",
    [W_ENGAGEMENT] = "INSERT INTO engagement(number, beneficiary_id, ps_id, domain,"
                     " date_of_care, valid_until, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [W_ACCOUNT_INSERT] =
        "INSERT INTO account(login, role, ps_id, amc_id, beneficiary_id, password_hash,"
        " must_reset, totp_sealed, totp_last_step, disabled, created_ms)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9)",
    [W_ACCOUNT_PASSWORD] = "UPDATE account SET password_hash = ?2, must_reset = ?3 WHERE id = ?1",
    [W_ACCOUNT_MUST_RESET] = "UPDATE account SET must_reset = ?2 WHERE id = ?1",
    [W_ACCOUNT_DISABLED] = "UPDATE account SET disabled = ?2 WHERE id = ?1",
    [W_ACCOUNT_TOTP_STEP] =
        "UPDATE account SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
    [W_RECOVERY_DELETE] = "DELETE FROM recovery_code WHERE account_id = ?1",
    [W_RECOVERY_INSERT] = "INSERT INTO recovery_code(account_id, hash) VALUES (?1, ?2)",
    [W_RECOVERY_USE] = "UPDATE recovery_code SET used_ms = ?3"
                       " WHERE account_id = ?1 AND hash = ?2 AND used_ms = 0",
    [W_SESSION_INSERT] = "INSERT INTO session(account_id, token_hash, created_ms, last_seen_ms,"
                         " expires_ms, stepup_ms, source) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6)",
    [W_SESSION_TOUCH] = "UPDATE session SET last_seen_ms = ?2 WHERE id = ?1",
    [W_SESSION_STEP_UP] = "UPDATE session SET stepup_ms = ?2 WHERE id = ?1",
    [W_SESSION_REVOKE] = "UPDATE session SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms = 0",
    [W_SESSIONS_REVOKE_ALL] = "UPDATE session SET revoked_ms = ?2"
                              " WHERE account_id = ?1 AND revoked_ms = 0 AND id != ?3",
    [W_AUTH_EVENT] = "INSERT INTO auth_event(at_ms, account_id, login_ref, kind, outcome,"
                     " detail, source, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [W_ACCOUNT_TOTP] = "UPDATE account SET totp_sealed = ?2, totp_last_step = 0"
                       " WHERE id = ?1 AND totp_sealed IS NULL",
};

struct sq {
    char path[4096];
    int wal_fd; /* our own descriptor of the WAL file, for fdatasync (-1 until opened) */
    pthread_mutex_t wal_fd_mu;
    pthread_mutex_t wmu; /* serialises use of the writer connection */
    sqlite3 *w;
    sqlite3_stmt *ws[W_COUNT];
    pthread_mutex_t pool_mu;
    struct reader *pool;
    /* Checkpointer: copies WAL frames into the database from its own connection, so that the
     * writer's commits never wait for the database file's fsync. */
    pthread_t ckpt;
    int ckpt_started;
    pthread_mutex_t ckpt_mu;
    pthread_cond_t ckpt_cv;
    int ckpt_stop;
    int bulk; /* in bulk-load mode (sq_bulk_load); under ckpt_mu */
    /* store_claims.c's state on the writer connection (claims.h) */
    void *claims;
};

#define CHECKPOINT_EVERY_MS 200
#define WAL_RESTART_PAGES 16000 /* 64 MB of 4 KiB pages */
/* A RESTART waits for the writer's transaction to end, then holds the next one back while it
 * copies the frames just committed and syncs the database: at every batch of a bulk load
 * (~15,000 frames each once the table holds a million rows), ~0.1 s a batch, 15 % of the
 * import. Restarting every few batches instead bounds the WAL at ~350 MB during the load. */
#define WAL_RESTART_PAGES_BULK 64000

/* The database file grows as rows are added; growing it 64 MiB at a time (rather than a
 * page at a time) spares the checkpointer's fsyncs a metadata update for nearly every
 * extension. */
static void grow_in_chunks(sqlite3 *db)
{
    int chunk = 64 << 20;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
}

/* A RESTART checkpoint holds the writer back while it waits for readers still on the old
 * WAL (each for well under a millisecond). SQLite's default busy handler sleeps 1, 2, 5,
 * 10... ms between tries, which showed up as 20+ ms stalls of every pending request; poll
 * every 50 us instead, for at most 2 s. */
static int checkpoint_busy(void *arg, int count)
{
    (void)arg;
    if (count >= 40000)
        return 0;
    usleep(50);
    return 1;
}

static void *checkpointer_main(void *arg)
{
    struct sq *s = arg;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "opentp: store: checkpointer cannot open the database\n");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
    sqlite3_busy_handler(db, checkpoint_busy, NULL);
    grow_in_chunks(db);
    pthread_mutex_lock(&s->ckpt_mu);
    while (!s->ckpt_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += CHECKPOINT_EVERY_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->ckpt_cv, &s->ckpt_mu, &until);
        if (s->ckpt_stop)
            break;
        int restart_pages = s->bulk ? WAL_RESTART_PAGES_BULK : WAL_RESTART_PAGES;
        pthread_mutex_unlock(&s->ckpt_mu);
        /* PASSIVE: copies what no reader still needs, never blocks readers or the writer. */
        int log = 0, done = 0;
        sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        /* Under sustained writes a concurrent checkpoint never reaches the WAL's moving end,
         * and only a checkpoint that did lets the WAL restart from its beginning. Past
         * WAL_RESTART_PAGES, RESTART: it briefly holds the writer back (the PASSIVE runs have
         * already copied nearly everything) and bounds the WAL's size. */
        if (log > restart_pages)
            sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        pthread_mutex_lock(&s->ckpt_mu);
    }
    pthread_mutex_unlock(&s->ckpt_mu);
    sqlite3_close(db);
    return NULL;
}

static enum tp_err sq_error(sqlite3 *db, const char *what)
{
    /* The message names the operation, never the data. */
    fprintf(stderr, "opentp: store: %s: %s\n", what, sqlite3_errmsg(db));
    int code = sqlite3_errcode(db) & 0xff;
    if (code == SQLITE_CONSTRAINT)
        return TP_ERR_CONFLICT;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
        return TP_ERR_BUSY;
    return TP_ERR_IO;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static enum tp_err open_conn(const char *path, int readonly, sqlite3 **out)
{
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        if (db)
            sqlite3_close(db);
        return TP_ERR_IO;
    }
    sqlite3_busy_timeout(db, 10000);
    exec(db, "PRAGMA foreign_keys = ON");
    /* No mmap: SQLite drops a connection's whole mapping whenever the database changed since
     * its last read, that is after every group commit here; re-mapping hundreds of megabytes
     * and faulting pages back in cost far more than reading the few pages of a lookup. */
    *out = db;
    return TP_OK;
}

static enum tp_err migrate(sqlite3 *db, char *msg, size_t msglen)
{
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (exec(db, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL) STRICT") !=
        SQLITE_OK)
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot create schema_version: %s",
                       sqlite3_errmsg(db));
    if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > N_MIGRATIONS)
        return tp_fail(msg, msglen, TP_ERR_INVALID,
                       "database schema %d is newer than this program (%d)", version, N_MIGRATIONS);
    for (int v = version; v < N_MIGRATIONS; v++) {
        char ins[64];
        snprintf(ins, sizeof ins, "INSERT INTO schema_version VALUES (%d)", v + 1);
        if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK || exec(db, migrations[v]) != SQLITE_OK ||
            exec(db, ins) != SQLITE_OK) {
            enum tp_err rc = tp_fail(msg, msglen, TP_ERR_IO, "migration %d failed: %s", v + 1,
                                     sqlite3_errmsg(db));
            exec(db, "ROLLBACK");
            return rc;
        }
        if (exec(db, "COMMIT") != SQLITE_OK)
            return tp_fail(msg, msglen, TP_ERR_IO, "migration %d: commit failed", v + 1);
    }
    return TP_OK;
}

static void sq_close(void *impl)
{
    struct sq *s = impl;
    if (!s)
        return;
    if (s->ckpt_started) {
        pthread_mutex_lock(&s->ckpt_mu);
        s->ckpt_stop = 1;
        pthread_cond_signal(&s->ckpt_cv);
        pthread_mutex_unlock(&s->ckpt_mu);
        pthread_join(s->ckpt, NULL);
    }
    while (s->pool) {
        struct reader *r = s->pool;
        s->pool = r->next;
        for (int i = 0; i < R_COUNT; i++)
            sqlite3_finalize(r->st[i]);
        sqlite3_close(r->db);
        free(r);
    }
    for (int i = 0; i < W_COUNT; i++)
        sqlite3_finalize(s->ws[i]);
    tp_claims_sqlite_free(s->claims);
    if (s->w) {
        exec(s->w, "PRAGMA optimize");
        sqlite3_close(s->w);
    }
    if (s->wal_fd >= 0)
        close(s->wal_fd);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->wal_fd_mu);
    pthread_mutex_destroy(&s->ckpt_mu);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_mutex_destroy(&s->pool_mu);
    free(s);
}

static struct reader *reader_get(struct sq *s)
{
    pthread_mutex_lock(&s->pool_mu);
    struct reader *r = s->pool;
    if (r)
        s->pool = r->next;
    pthread_mutex_unlock(&s->pool_mu);
    if (r)
        return r;
    r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (open_conn(s->path, 1, &r->db) != TP_OK)
        goto fail;
    for (int i = 0; i < R_COUNT; i++)
        if (sqlite3_prepare_v3(r->db, read_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i],
                               NULL) != SQLITE_OK) {
            sq_error(r->db, "prepare read statement");
            goto fail;
        }
    return r;
fail:
    for (int i = 0; i < R_COUNT; i++)
        sqlite3_finalize(r->st[i]);
    if (r->db)
        sqlite3_close(r->db);
    free(r);
    return NULL;
}

static void reader_put(struct sq *s, struct reader *r)
{
    pthread_mutex_lock(&s->pool_mu);
    r->next = s->pool;
    s->pool = r;
    pthread_mutex_unlock(&s->pool_mu);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t v);

static sqlite3_stmt *wst(struct sq *s, int i)
{
    sqlite3_reset(s->ws[i]);
    sqlite3_clear_bindings(s->ws[i]);
    return s->ws[i];
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* Runs a statement that returns one integer column (RETURNING id, SELECT id). */
static enum tp_err step_id(struct sq *s, sqlite3_stmt *st, int64_t *id, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (id)
            *id = sqlite3_column_int64(st, 0);
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
        return TP_OK;
    }
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return TP_ERR_NOT_FOUND;
    }
    enum tp_err e = sq_error(s->w, what);
    sqlite3_reset(st);
    return e;
}

static enum tp_err step_done(struct sq *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? TP_OK : sq_error(s->w, what);
}

static enum tp_err begin(struct sq *s)
{
    return step_done(s, wst(s, W_BEGIN), "begin");
}

/* The writer commits with synchronous=NORMAL: COMMIT writes the WAL frames but does not
 * fsync them. Durability comes from sq_sync, an fdatasync of the WAL through a descriptor of
 * our own (fsync acts on the file, whatever the descriptor), which covers every transaction
 * committed before it. WAL recovery keeps only transactions whose frames are all intact, so
 * a crash before the fsync loses exactly the transactions nobody was told about. */
static enum tp_err sq_sync(void *impl)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wal_fd_mu);
    if (s->wal_fd < 0) {
        char wal[4200];
        snprintf(wal, sizeof wal, "%s-wal", s->path);
        s->wal_fd = open(wal, O_RDONLY | O_CLOEXEC);
    }
    int fd = s->wal_fd;
    pthread_mutex_unlock(&s->wal_fd_mu);
    if (fd < 0) {
        fprintf(stderr, "opentp: store: cannot open the WAL for syncing\n");
        return TP_ERR_IO;
    }
    if (fdatasync(fd) != 0) {
        fprintf(stderr, "opentp: store: fdatasync of the WAL failed\n");
        return TP_ERR_IO;
    }
    return TP_OK;
}

/* Commits (or rolls back) the writer's transaction. */
static enum tp_err commit_or_rollback(struct sq *s, enum tp_err rc)
{
    if (rc == TP_OK)
        rc = step_done(s, wst(s, W_COMMIT), "commit");
    if (rc != TP_OK && !sqlite3_get_autocommit(s->w))
        step_done(s, wst(s, W_ROLLBACK), "rollback");
    return rc;
}

/* Commits and makes durable: for the synchronous operations, whose callers take a return of
 * TP_OK as "on disk". */
static enum tp_err finish(struct sq *s, enum tp_err rc)
{
    rc = commit_or_rollback(s, rc);
    return rc == TP_OK ? sq_sync(s) : rc;
}

static enum tp_err sq_amc_upsert(void *impl, const struct tp_amc *a, int64_t *id)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_AMC_UPSERT);
    bind_text(st, 1, a->number);
    bind_text(st, 2, a->name);
    bind_text(st, 3, a->convention);
    bind_text(st, 4, a->routing);
    bind_text(st, 5, a->dpo_name);
    bind_text(st, 6, a->dpo_email);
    bind_text(st, 7, a->dpo_address);
    bind_text(st, 8, a->iban);
    bind_text(st, 9, a->bic);
    enum tp_err rc = step_id(s, st, id, "amc upsert");
    if (rc == TP_OK)
        rc = sq_sync(s);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static const char *kind_name(enum tp_guarantee_kind k)
{
    switch (k) {
    case TP_GUAR_PCT_BR:
        return "pct_br";
    case TP_GUAR_FORFAIT:
        return "forfait";
    case TP_GUAR_FRAIS_REELS:
        return "frais_reels";
    }
    return "pct_br";
}

static enum tp_guarantee_kind kind_parse(const char *s)
{
    if (strcmp(s, "forfait") == 0)
        return TP_GUAR_FORFAIT;
    if (strcmp(s, "frais_reels") == 0)
        return TP_GUAR_FRAIS_REELS;
    return TP_GUAR_PCT_BR;
}

static enum tp_err sq_contract_upsert(void *impl, const struct tp_contract *c, int64_t *id)
{
    struct sq *s = impl;
    int64_t amc_id = 0, cid = 0;
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc = begin(s);
    if (rc == TP_OK) {
        sqlite3_stmt *st = wst(s, W_AMC_ID);
        bind_text(st, 1, c->amc);
        rc = step_id(s, st, &amc_id, "amc id");
    }
    if (rc == TP_OK) {
        sqlite3_stmt *st = wst(s, W_CONTRACT_UPSERT);
        sqlite3_bind_int64(st, 1, amc_id);
        bind_text(st, 2, c->code);
        bind_text(st, 3, c->name);
        sqlite3_bind_int(st, 4, c->responsable);
        sqlite3_bind_int(st, 5, c->level);
        sqlite3_bind_int(st, 6, c->valid_from);
        rc = step_id(s, st, &cid, "contract upsert");
    }
    if (rc == TP_OK) {
        sqlite3_stmt *st = wst(s, W_GUAR_DELETE);
        sqlite3_bind_int64(st, 1, cid);
        rc = step_done(s, st, "guarantee delete");
    }
    for (int i = 0; rc == TP_OK && i < c->n_guarantees; i++) {
        const struct tp_guarantee *g = &c->guarantees[i];
        sqlite3_stmt *st = wst(s, W_GUAR_INSERT);
        sqlite3_bind_int64(st, 1, cid);
        bind_text(st, 2, tp_domain_name(g->domain));
        bind_text(st, 3, g->act);
        bind_text(st, 4, kind_name(g->kind));
        sqlite3_bind_int(st, 5, g->rate_bp);
        sqlite3_bind_int(st, 6, g->includes_amo);
        sqlite3_bind_int64(st, 7, g->amount_cents);
        sqlite3_bind_int(st, 8, g->period_months);
        sqlite3_bind_int(st, 9, g->per_family);
        rc = step_done(s, st, "guarantee insert");
    }
    rc = finish(s, rc);
    pthread_mutex_unlock(&s->wmu);
    if (rc == TP_OK && id)
        *id = cid;
    return rc;
}

static enum tp_err sq_contract_get(void *impl, int64_t id, struct tp_contract *out)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = r->st[R_CONTRACT];
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        copy_col(out->amc, sizeof out->amc, st, 0);
        copy_col(out->code, sizeof out->code, st, 1);
        copy_col(out->name, sizeof out->name, st, 2);
        out->responsable = sqlite3_column_int(st, 3);
        out->level = sqlite3_column_int(st, 4);
        out->valid_from = sqlite3_column_int(st, 5);
        rc = TP_OK;
    }
    sqlite3_reset(st);
    if (rc == TP_OK) {
        st = r->st[R_GUARANTEES];
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW && out->n_guarantees < TP_GUARANTEES_MAX) {
            struct tp_guarantee *g = &out->guarantees[out->n_guarantees++];
            const char *dom = (const char *)sqlite3_column_text(st, 0);
            int d = dom ? tp_domain_parse(dom, strlen(dom)) : -1;
            g->domain = d < 0 ? TP_DOM_PHARMACIE : (enum tp_domain)d;
            copy_col(g->act, sizeof g->act, st, 1);
            const char *k = (const char *)sqlite3_column_text(st, 2);
            g->kind = kind_parse(k ? k : "");
            g->rate_bp = sqlite3_column_int(st, 3);
            g->includes_amo = sqlite3_column_int(st, 4);
            g->amount_cents = sqlite3_column_int64(st, 5);
            g->period_months = sqlite3_column_int(st, 6);
            g->per_family = sqlite3_column_int(st, 7);
        }
        sqlite3_reset(st);
    }
    reader_put(s, r);
    return rc;
}

static enum tp_err sq_contract_codes(void *impl, const char *amc, char (*codes)[TP_CODE_MAX],
                                     size_t max, size_t *n)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_OK;
    int step;
    *n = 0;
    sqlite3_stmt *st = r->st[R_CONTRACT_CODES];
    bind_text(st, 1, amc);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == max) {
            rc = TP_ERR_TOO_BIG;
            break;
        }
        copy_col(codes[(*n)++], TP_CODE_MAX, st, 0);
    }
    if (rc == TP_OK && step != SQLITE_DONE)
        rc = sq_error(r->db, "contract codes");
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

static enum tp_err sq_amc_find(void *impl, const char *number, int64_t *id, struct tp_amc *out)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    sqlite3_stmt *st = r->st[R_AMC_FIND];
    bind_text(st, 1, number);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (id)
            *id = sqlite3_column_int64(st, 0);
        if (out) {
            memset(out, 0, sizeof *out);
            copy_col(out->number, sizeof out->number, st, 1);
            copy_col(out->name, sizeof out->name, st, 2);
            copy_col(out->convention, sizeof out->convention, st, 3);
            copy_col(out->routing, sizeof out->routing, st, 4);
            copy_col(out->dpo_name, sizeof out->dpo_name, st, 5);
            copy_col(out->dpo_email, sizeof out->dpo_email, st, 6);
            copy_col(out->dpo_address, sizeof out->dpo_address, st, 7);
            copy_col(out->iban, sizeof out->iban, st, 8);
            copy_col(out->bic, sizeof out->bic, st, 9);
        }
        rc = TP_OK;
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

static const char *ps_identifier(const struct tp_ps *p)
{
    return p->finess[0] ? p->finess : p->rpps;
}

static enum tp_err sq_ps_upsert(void *impl, const struct tp_ps *p, int64_t *id)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_PS_UPSERT);
    bind_text(st, 1, ps_identifier(p));
    bind_text(st, 2, tp_profession_name(p->profession));
    bind_text(st, 3, p->finess);
    bind_text(st, 4, p->rpps);
    bind_text(st, 5, p->am_number);
    bind_text(st, 6, p->name);
    bind_text(st, 7, p->address);
    bind_text(st, 8, p->iban);
    bind_text(st, 9, p->bic);
    enum tp_err rc = step_id(s, st, id, "ps upsert");
    if (rc == TP_OK)
        rc = sq_sync(s);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_ps_get(void *impl, int64_t id, struct tp_ps *out)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    sqlite3_stmt *st = r->st[R_PS_GET];
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        const char *prof = (const char *)sqlite3_column_text(st, 0);
        int pi = prof ? tp_profession_parse(prof, strlen(prof)) : -1;
        out->profession = pi < 0 ? TP_PROF_MEDECIN : (enum tp_profession)pi;
        copy_col(out->finess, sizeof out->finess, st, 1);
        copy_col(out->rpps, sizeof out->rpps, st, 2);
        copy_col(out->am_number, sizeof out->am_number, st, 3);
        copy_col(out->name, sizeof out->name, st, 4);
        copy_col(out->address, sizeof out->address, st, 5);
        copy_col(out->iban, sizeof out->iban, st, 6);
        copy_col(out->bic, sizeof out->bic, st, 7);
        rc = TP_OK;
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

static enum tp_err sq_ps_find(void *impl, const char *identifier, int64_t *id)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    sqlite3_stmt *st = r->st[R_PS_FIND];
    bind_text(st, 1, identifier);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = TP_OK;
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

/* Per-transaction cache of (amc number -> id) and (amc id, contract code -> id): an import
 * batch touches few of each. */
struct id_cache {
    char amc[10];
    int64_t amc_id;
    char contract[TP_CODE_MAX];
    int64_t contract_id;
};

static enum tp_err resolve_ids(struct sq *s, struct id_cache *c, const struct tp_beneficiary *b)
{
    enum tp_err rc = TP_OK;
    if (strcmp(c->amc, b->amc) != 0) {
        sqlite3_stmt *st = wst(s, W_AMC_ID);
        bind_text(st, 1, b->amc);
        rc = step_id(s, st, &c->amc_id, "amc id");
        if (rc != TP_OK)
            return rc;
        snprintf(c->amc, sizeof c->amc, "%s", b->amc);
        c->contract[0] = '\0';
    }
    if (strcmp(c->contract, b->contract) != 0) {
        sqlite3_stmt *st = wst(s, W_CONTRACT_ID);
        sqlite3_bind_int64(st, 1, c->amc_id);
        bind_text(st, 2, b->contract);
        rc = step_id(s, st, &c->contract_id, "contract id");
        if (rc != TP_OK)
            return rc;
        snprintf(c->contract, sizeof c->contract, "%s", b->contract);
    }
    return TP_OK;
}

/* The writes of beneficiaries_upsert (run 0) and beneficiaries_import (run > 0): one
 * transaction, a digest lookup by (member, rank) per row, then an INSERT, an UPDATE, or
 * nothing for an unchanged row. With a run, every row records (run, its line): in the row
 * when it is written, in import_seen when it is unchanged; and a row whose (member, rank)
 * already carries the run, in either place, is a duplicate: not written. Within the
 * transaction the rows are seen in order, so of two rows with the same key in one batch the
 * first (rows[] order) is written and the second is the duplicate. */
static enum tp_err ben_write(struct sq *s, const struct tp_sealed_beneficiary *rows, size_t n,
                             int64_t run, const int64_t *lines, int *changed, int64_t *first)
{
    struct id_cache cache = {.amc = "", .contract = ""};
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc = begin(s);
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        const struct tp_sealed_beneficiary *r = &rows[i];
        const struct tp_beneficiary *b = r->plain;
        int64_t line = run ? lines[i] : 0;
        if (changed)
            changed[i] = TP_BEN_UNCHANGED;
        if (first)
            first[i] = 0;
        rc = resolve_ids(s, &cache, b);
        if (rc != TP_OK)
            break;
        sqlite3_stmt *st = wst(s, W_BEN_DIGEST);
        sqlite3_bind_blob(st, 1, r->bidx_member, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, b->rank);
        int step = sqlite3_step(st);
        int same = 0, has_seen = 0;
        int64_t id = 0, row_run = 0, row_line = 0, seen_run = 0, seen_line = 0;
        if (step == SQLITE_ROW) {
            same = sqlite3_column_bytes(st, 0) == TP_BIDX_LEN &&
                   memcmp(sqlite3_column_blob(st, 0), r->digest, TP_BIDX_LEN) == 0;
            id = sqlite3_column_int64(st, 1);
            row_run = sqlite3_column_int64(st, 2);
            row_line = sqlite3_column_int64(st, 3);
        }
        sqlite3_reset(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            rc = sq_error(s->w, "beneficiary digest");
            break;
        }
        if (run && step == SQLITE_ROW && row_run != run) {
            sqlite3_stmt *q = wst(s, W_BEN_SEEN);
            sqlite3_bind_int64(q, 1, id);
            int qs = sqlite3_step(q);
            if (qs == SQLITE_ROW) {
                has_seen = 1;
                seen_run = sqlite3_column_int64(q, 0);
                seen_line = sqlite3_column_int64(q, 1);
            }
            sqlite3_reset(q);
            if (qs != SQLITE_ROW && qs != SQLITE_DONE) {
                rc = sq_error(s->w, "beneficiary seen");
                break;
            }
        }
        if (run && step == SQLITE_ROW && (row_run == run || seen_run == run)) {
            changed[i] = TP_BEN_DUPLICATE;
            first[i] = row_run == run ? row_line : seen_line;
            continue;
        }
        if (same) {
            /* Unchanged row (same digest): leave it, ciphertext included, untouched; an
             * import records that it saw it, and where. */
            if (run) {
                st = wst(s, has_seen ? W_BEN_MARK : W_BEN_MARK_NEW);
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int64(st, 2, run);
                sqlite3_bind_int64(st, 3, line);
                rc = step_done(s, st, "beneficiary mark");
            }
            continue;
        }
        st = wst(s, step == SQLITE_ROW ? W_BEN_UPDATE : W_BEN_INSERT);
        sqlite3_bind_int64(st, 1, cache.amc_id);
        sqlite3_bind_int64(st, 2, cache.contract_id);
        sqlite3_bind_blob(st, 3, r->bidx_member, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, b->rank);
        bind_text(st, 5, tp_quality_name(b->quality));
        sqlite3_bind_int(st, 6, b->nir_own);
        sqlite3_bind_blob(st, 7, r->bidx_nir, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, r->bidx_birth, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 9, r->ref, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 10, r->digest, TP_BIDX_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 11, r->sealed, (int)r->sealed_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 12, b->coverage_start);
        sqlite3_bind_int(st, 13, b->coverage_end);
        sqlite3_bind_int64(st, 14, b->tp_domains);
        sqlite3_bind_int64(st, 15, run);
        sqlite3_bind_int64(st, 16, line);
        if (step == SQLITE_ROW)
            sqlite3_bind_int64(st, 17, id);
        rc = step_done(s, st, "beneficiary upsert");
        if (rc == TP_OK && changed)
            changed[i] = TP_BEN_WRITTEN;
    }
    rc = finish(s, rc);
    pthread_mutex_unlock(&s->wmu);
    if (rc != TP_OK && changed)
        memset(changed, 0, n * sizeof *changed);
    if (rc != TP_OK && first)
        memset(first, 0, n * sizeof *first);
    return rc;
}

static enum tp_err sq_beneficiaries_upsert(void *impl, const struct tp_sealed_beneficiary *rows,
                                           size_t n, int *changed)
{
    return ben_write(impl, rows, n, 0, NULL, changed, NULL);
}

static enum tp_err sq_beneficiaries_import(void *impl, const struct tp_sealed_beneficiary *rows,
                                           size_t n, int64_t run, const int64_t *lines,
                                           int *changed, int64_t *first)
{
    if (run <= 0 || (n > 0 && (!lines || !changed || !first)))
        return TP_ERR_INVALID;
    return ben_write(impl, rows, n, run, lines, changed, first);
}

/* A new run number: the id of a new import_run row (AUTOINCREMENT: never reused, so greater
 * than every earlier run's). Not synced on its own: a batch written with this run is synced
 * after it, and a run that wrote nothing may lose its number harmlessly. */
static enum tp_err sq_import_run_begin(void *impl, int64_t *run)
{
    struct sq *s = impl;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc;
    if (sqlite3_prepare_v2(s->w, "INSERT INTO import_run(started_ms) VALUES (?1) RETURNING id", -1,
                           &st, NULL) != SQLITE_OK) {
        rc = sq_error(s->w, "import run");
    } else {
        sqlite3_bind_int64(st, 1, now_ms);
        rc = step_id(s, st, run, "import run");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_switches_load(void *impl, struct tp_switch_state *out)
{
    struct sq *s = impl;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc = TP_OK;
    if (sqlite3_prepare_v2(s->w, "SELECT scope, key FROM kill_switch WHERE off = 1", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = sq_error(s->w, "kill switches");
    } else {
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *scope = (const char *)sqlite3_column_text(st, 0);
            const char *key = (const char *)sqlite3_column_text(st, 1);
            if (!scope || !key)
                continue;
            if (strcmp(scope, "channel") == 0) {
                int c = tp_channel_parse(key);
                if (c >= 0)
                    out->channel_off[c] = 1;
            } else if (strcmp(scope, "ps") == 0) {
                (void)tp_switch_set_ps(out, sqlite3_column_int64(st, 1), 1);
            } else {
                (void)tp_switch_set_amc(out, key, 1);
            }
        }
        if (step != SQLITE_DONE)
            rc = sq_error(s->w, "kill switches");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* Sets one switch and syncs before returning: a switch the officer saw acknowledged must
 * survive a crash. */
static enum tp_err sq_switch_set(void *impl, const char *scope, const char *key, int off,
                                 const char *reason, int64_t by_account, int64_t at_ms)
{
    struct sq *s = impl;
    sqlite3_stmt *st = NULL;
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc;
    if (sqlite3_prepare_v2(s->w,
                           "INSERT INTO kill_switch(scope, key, off, reason, by_account, at_ms)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (scope, key) DO UPDATE"
                           " SET off = ?3, reason = ?4, by_account = ?5, at_ms = ?6",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq_error(s->w, "kill switch");
    } else {
        bind_text(st, 1, scope);
        bind_text(st, 2, key);
        sqlite3_bind_int(st, 3, off ? 1 : 0);
        bind_text(st, 4, reason);
        bind_id_or_null(st, 5, by_account);
        sqlite3_bind_int64(st, 6, at_ms);
        rc = step_done(s, st, "kill switch");
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->wmu);
    if (rc == TP_OK)
        rc = sq_sync(s);
    return rc;
}

/* One beneficiary by its pseudonymous reference, with its AMC's number and the sealed
 * identity (for an incident's letters). A prepared-on-demand statement on a reader: rare. */
static enum tp_err sq_beneficiary_by_ref(void *impl, const uint8_t ref[TP_BIDX_LEN],
                                         struct tp_beneficiary_by_ref *out)
{
    struct sq *s = impl;
    memset(out, 0, sizeof *out);
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    sqlite3_stmt *st = NULL;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT b.id, a.number, b.rank, b.quality, b.identity FROM beneficiary b"
                           " JOIN amc a ON a.id = b.amc_id WHERE b.ref = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = sq_error(r->db, "beneficiary by reference");
    } else {
        sqlite3_bind_blob(st, 1, ref, TP_BIDX_LEN, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            out->id = sqlite3_column_int64(st, 0);
            const char *amc = (const char *)sqlite3_column_text(st, 1);
            snprintf(out->amc, sizeof out->amc, "%s", amc ? amc : "");
            out->rank = sqlite3_column_int(st, 2);
            const char *q = (const char *)sqlite3_column_text(st, 3);
            snprintf(out->quality, sizeof out->quality, "%s", q ? q : "");
            int n = sqlite3_column_bytes(st, 4);
            if (n > 0 && (size_t)n <= sizeof out->sealed) {
                memcpy(out->sealed, sqlite3_column_blob(st, 4), (size_t)n);
                out->sealed_len = (size_t)n;
                rc = TP_OK;
            } else {
                rc = TP_ERR_INTERNAL;
            }
        } else if (step != SQLITE_DONE) {
            rc = sq_error(r->db, "beneficiary by reference");
        }
    }
    sqlite3_finalize(st);
    reader_put(s, r);
    return rc;
}

/* The pseudonymous reference of a beneficiary (a member's own accesses). */
static enum tp_err sq_beneficiary_ref_of(void *impl, int64_t id, uint8_t ref[TP_BIDX_LEN])
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    sqlite3_stmt *st = NULL;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    if (sqlite3_prepare_v2(r->db, "SELECT ref FROM beneficiary WHERE id = ?1", -1, &st, NULL) !=
        SQLITE_OK) {
        rc = sq_error(r->db, "beneficiary reference");
    } else {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == TP_BIDX_LEN) {
            memcpy(ref, sqlite3_column_blob(st, 0), TP_BIDX_LEN);
            rc = TP_OK;
        }
    }
    sqlite3_finalize(st);
    reader_put(s, r);
    return rc;
}

/* SQLite's default page cache (2 MiB) holds a fraction of the beneficiary indexes; a bulk load
 * inserts at random places in all of them, and once its dirty pages outgrow the cache they are
 * spilled to the WAL and written again, many times per transaction. */
#define BULK_CACHE_KIB 98304
#define DEFAULT_CACHE_KIB 2000

static enum tp_err sq_bulk_load(void *impl, int on)
{
    struct sq *s = impl;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%d", on ? BULK_CACHE_KIB : DEFAULT_CACHE_KIB);
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc = exec(s->w, sql) == SQLITE_OK ? TP_OK : sq_error(s->w, "cache size");
    pthread_mutex_unlock(&s->wmu);
    pthread_mutex_lock(&s->ckpt_mu);
    s->bulk = rc == TP_OK && on;
    pthread_mutex_unlock(&s->ckpt_mu);
    return rc;
}

static enum tp_err ben_find(struct sq *s, int which, const uint8_t bidx[TP_BIDX_LEN],
                            struct tp_beneficiary_found *out)
{
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    sqlite3_stmt *st = r->st[which];
    sqlite3_bind_blob(st, 1, bidx, TP_BIDX_LEN, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == TP_BIDX_LEN)
            memcpy(out->ref, sqlite3_column_blob(st, 1), TP_BIDX_LEN);
        if (sqlite3_column_bytes(st, 2) == TP_BIDX_LEN)
            memcpy(out->bidx_nir, sqlite3_column_blob(st, 2), TP_BIDX_LEN);
        out->b.rank = sqlite3_column_int(st, 3);
        const char *q = (const char *)sqlite3_column_text(st, 4);
        int qi = q ? tp_quality_parse(q, strlen(q)) : -1;
        out->b.quality = qi < 0 ? TP_QUAL_OTHER : (enum tp_quality)qi;
        out->b.nir_own = sqlite3_column_int(st, 5);
        out->b.coverage_start = sqlite3_column_int(st, 6);
        out->b.coverage_end = sqlite3_column_int(st, 7);
        out->b.tp_domains = (uint32_t)sqlite3_column_int64(st, 8);
        out->contract_id = sqlite3_column_int64(st, 9);
        rc = TP_OK;
        /* Two rows under one blind index would be a data error (e.g. twins imported with the
         * same birth rank): refuse to guess between two people. */
        if (sqlite3_step(st) == SQLITE_ROW)
            rc = TP_ERR_CONFLICT;
    } else if (step != SQLITE_DONE) {
        rc = sq_error(r->db, "beneficiary find");
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

static enum tp_err sq_ben_by_nir(void *impl, const uint8_t bidx[TP_BIDX_LEN],
                                 struct tp_beneficiary_found *out)
{
    return ben_find(impl, R_BEN_BY_NIR, bidx, out);
}

static enum tp_err sq_ben_by_birth(void *impl, const uint8_t bidx[TP_BIDX_LEN],
                                   struct tp_beneficiary_found *out)
{
    return ben_find(impl, R_BEN_BY_BIRTH, bidx, out);
}

static enum tp_err sq_token_insert(void *impl, int64_t ps_id, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                   const char *label, uint32_t scopes, int64_t expires_at,
                                   int64_t now, int64_t *id)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_TOKEN_INSERT);
    sqlite3_bind_int64(st, 1, ps_id);
    sqlite3_bind_blob(st, 2, hash, TP_TOKEN_HASH_LEN, SQLITE_STATIC);
    bind_text(st, 3, label);
    sqlite3_bind_int64(st, 4, scopes);
    sqlite3_bind_int64(st, 5, now);
    sqlite3_bind_int64(st, 6, expires_at);
    enum tp_err rc = step_done(s, st, "token insert");
    if (rc == TP_OK && id)
        *id = sqlite3_last_insert_rowid(s->w);
    if (rc == TP_OK)
        rc = sq_sync(s);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_token_find(void *impl, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                 struct tp_token_info *out)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    enum tp_err rc = TP_ERR_NOT_FOUND;
    sqlite3_stmt *st = r->st[R_TOKEN_FIND];
    sqlite3_bind_blob(st, 1, hash, TP_TOKEN_HASH_LEN, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->token_id = sqlite3_column_int64(st, 0);
        out->ps_id = sqlite3_column_int64(st, 1);
        const char *prof = (const char *)sqlite3_column_text(st, 2);
        int pi = prof ? tp_profession_parse(prof, strlen(prof)) : -1;
        out->profession = pi < 0 ? TP_PROF_MEDECIN : (enum tp_profession)pi;
        out->expires_at = sqlite3_column_int64(st, 3);
        out->revoked = sqlite3_column_int64(st, 4) != 0;
        out->scopes = (uint32_t)sqlite3_column_int64(st, 5);
        rc = pi < 0 ? TP_ERR_INTERNAL : TP_OK;
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

static enum tp_err sq_token_revoke(void *impl, int64_t id, int64_t now)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_TOKEN_REVOKE);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    enum tp_err rc = step_done(s, st, "token revoke");
    if (rc == TP_OK && sqlite3_changes(s->w) == 0)
        rc = TP_ERR_NOT_FOUND;
    if (rc == TP_OK)
        rc = sq_sync(s);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_token_list(void *impl, int64_t ps_id, struct tp_token_row *rows, size_t max,
                                 size_t *n)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    *n = 0;
    sqlite3_stmt *st = r->st[R_TOKEN_LIST];
    sqlite3_bind_int64(st, 1, ps_id);
    while (*n < max && sqlite3_step(st) == SQLITE_ROW) {
        struct tp_token_row *t = &rows[(*n)++];
        t->id = sqlite3_column_int64(st, 0);
        t->ps_id = sqlite3_column_int64(st, 1);
        copy_col(t->label, sizeof t->label, st, 2);
        t->created_at = sqlite3_column_int64(st, 3);
        t->expires_at = sqlite3_column_int64(st, 4);
        t->revoked_at = sqlite3_column_int64(st, 5);
        t->scopes = (uint32_t)sqlite3_column_int64(st, 6);
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return TP_OK;
}

static enum tp_err write_intent(struct sq *s, const struct tp_write_intent *wi)
{
    enum tp_err rc = TP_OK;
    if (wi->has_engagement) {
        const struct tp_engagement *e = &wi->engagement;
        sqlite3_stmt *st = wst(s, W_ENGAGEMENT);
        bind_text(st, 1, e->number);
        sqlite3_bind_int64(st, 2, e->beneficiary_id);
        sqlite3_bind_int64(st, 3, e->ps_id);
        bind_text(st, 4, tp_domain_name(e->domain));
        sqlite3_bind_int(st, 5, e->date_of_care);
        sqlite3_bind_int(st, 6, e->valid_until);
        sqlite3_bind_int64(st, 7, e->created_ms);
        rc = step_done(s, st, "engagement insert");
    }
    if (rc == TP_OK && wi->claim_op)
        rc = tp_claims_sqlite_apply(s->w, &s->claims, (struct tp_write_intent *)wi);
    /* wi->event goes to the access log (store.c), not to this database. */
    if (rc == TP_OK && wi->has_auth_event) {
        const struct tp_auth_event *e = &wi->auth_event;
        sqlite3_stmt *st = wst(s, W_AUTH_EVENT);
        sqlite3_bind_int64(st, 1, e->at_ms);
        bind_id_or_null(st, 2, e->account_id);
        bind_text(st, 3, e->login_ref);
        bind_text(st, 4, e->kind);
        bind_text(st, 5, e->outcome);
        bind_text(st, 6, e->detail);
        bind_text(st, 7, e->source);
        bind_text(st, 8, e->request_id);
        rc = step_done(s, st, "auth event insert");
    }
    return rc;
}

static enum tp_err sq_apply_batch(void *impl, struct tp_write_intent *const *items, size_t n)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc = begin(s);
    for (size_t i = 0; rc == TP_OK && i < n; i++)
        rc = write_intent(s, items[i]);
    rc = commit_or_rollback(s, rc); /* durable after the store's call to sq_sync */
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_count(void *impl, const char *what, int64_t *n)
{
    static const char *const tables[] = {"amc",     "contract",   "guarantee",    "beneficiary",
                                         "ps",      "api_token",  "engagement",   "account",
                                         "session", "auth_event", "recovery_code"};
    struct sq *s = impl;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        if (strcmp(what, tables[i]) != 0)
            continue;
        /* The table name comes from the fixed list above, never from input. */
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
        struct reader *r = reader_get(s);
        if (!r)
            return TP_ERR_IO;
        sqlite3_stmt *st = NULL;
        enum tp_err rc = TP_ERR_IO;
        if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW) {
            *n = sqlite3_column_int64(st, 0);
            rc = TP_OK;
        }
        sqlite3_finalize(st);
        reader_put(s, r);
        return rc;
    }
    return TP_ERR_INVALID;
}

static void read_account(sqlite3_stmt *st, struct tp_account_row *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    copy_col(a->login, sizeof a->login, st, 1);
    const char *r = (const char *)sqlite3_column_text(st, 2);
    int ri = r ? tp_role_parse(r, strlen(r)) : -1;
    a->role = ri < 0 ? TP_ROLE_MEMBER : (enum tp_role)ri;
    a->ps_id = sqlite3_column_int64(st, 3);
    a->amc_id = sqlite3_column_int64(st, 4);
    a->beneficiary_id = sqlite3_column_int64(st, 5);
    copy_col(a->password_hash, sizeof a->password_hash, st, 6);
    a->must_reset = sqlite3_column_int(st, 7);
    int n = sqlite3_column_bytes(st, 8);
    if (n > 0 && (size_t)n <= sizeof a->totp_sealed) {
        memcpy(a->totp_sealed, sqlite3_column_blob(st, 8), (size_t)n);
        a->totp_sealed_len = (size_t)n;
    }
    a->totp_last_step = sqlite3_column_int64(st, 9);
    a->disabled = sqlite3_column_int(st, 10);
    a->created_ms = sqlite3_column_int64(st, 11);
}

/* Runs reader statement `which` with one key (text, blob or integer) and fills `out`. */
static enum tp_err read_one(struct sq *s, int which, const char *text, int64_t num,
                            const uint8_t *blob, int bloblen, void (*fill)(sqlite3_stmt *, void *),
                            void *out)
{
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    sqlite3_stmt *st = r->st[which];
    if (text)
        bind_text(st, 1, text);
    else if (blob)
        sqlite3_bind_blob(st, 1, blob, bloblen, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    enum tp_err rc = TP_ERR_NOT_FOUND;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        fill(st, out);
        rc = TP_OK;
    } else if (step != SQLITE_DONE) {
        rc = sq_error(r->db, "read");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    reader_put(s, r);
    return rc;
}

static void fill_account(sqlite3_stmt *st, void *out)
{
    read_account(st, out);
}

static enum tp_err sq_account_find(void *impl, const char *login, struct tp_account_row *out)
{
    return read_one(impl, R_ACCOUNT_BY_LOGIN, login, 0, NULL, 0, fill_account, out);
}

static enum tp_err sq_account_get(void *impl, int64_t id, struct tp_account_row *out)
{
    return read_one(impl, R_ACCOUNT_BY_ID, NULL, id, NULL, 0, fill_account, out);
}

static void fill_session(sqlite3_stmt *st, void *o)
{
    struct tp_session_row *out = o;
    out->id = sqlite3_column_int64(st, 0);
    out->account_id = sqlite3_column_int64(st, 1);
    out->created_ms = sqlite3_column_int64(st, 2);
    out->last_seen_ms = sqlite3_column_int64(st, 3);
    out->expires_ms = sqlite3_column_int64(st, 4);
    out->stepup_ms = sqlite3_column_int64(st, 5);
    out->revoked_ms = sqlite3_column_int64(st, 6);
}

static enum tp_err sq_session_find(void *impl, const uint8_t hash[TP_TOKEN_HASH_LEN],
                                   struct tp_session_row *out)
{
    return read_one(impl, R_SESSION_FIND, NULL, 0, hash, TP_TOKEN_HASH_LEN, fill_session, out);
}

static void fill_token(sqlite3_stmt *st, void *o)
{
    struct tp_token_row *t = o;
    t->id = sqlite3_column_int64(st, 0);
    t->ps_id = sqlite3_column_int64(st, 1);
    copy_col(t->label, sizeof t->label, st, 2);
    t->created_at = sqlite3_column_int64(st, 3);
    t->expires_at = sqlite3_column_int64(st, 4);
    t->revoked_at = sqlite3_column_int64(st, 5);
    t->scopes = (uint32_t)sqlite3_column_int64(st, 6);
}

static enum tp_err sq_token_get(void *impl, int64_t id, struct tp_token_row *out)
{
    return read_one(impl, R_TOKEN_GET, NULL, id, NULL, 0, fill_token, out);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* A single durable write statement on the writer connection (caller holds wmu). */
static enum tp_err write_one(struct sq *s, sqlite3_stmt *st, const char *what, int64_t *changes)
{
    enum tp_err rc = step_done(s, st, what);
    if (changes)
        *changes = rc == TP_OK ? sqlite3_changes(s->w) : 0;
    if (rc == TP_OK)
        rc = sq_sync(s);
    return rc;
}

static enum tp_err sq_account_insert(void *impl, const struct tp_account_row *a, int64_t *id)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_ACCOUNT_INSERT);
    bind_text(st, 1, a->login);
    bind_text(st, 2, tp_role_name(a->role));
    bind_id_or_null(st, 3, a->ps_id);
    bind_id_or_null(st, 4, a->amc_id);
    bind_id_or_null(st, 5, a->beneficiary_id);
    bind_text(st, 6, a->password_hash);
    sqlite3_bind_int(st, 7, a->must_reset);
    if (a->totp_sealed_len)
        sqlite3_bind_blob(st, 8, a->totp_sealed, (int)a->totp_sealed_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int64(st, 9, a->created_ms);
    enum tp_err rc = write_one(s, st, "account insert", NULL);
    if (rc == TP_OK && id)
        *id = sqlite3_last_insert_rowid(s->w);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_account_set_password(void *impl, int64_t id, const char *hash, int must_reset)
{
    struct sq *s = impl;
    int64_t n = 0;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_ACCOUNT_PASSWORD);
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, hash);
    sqlite3_bind_int(st, 3, must_reset);
    enum tp_err rc = write_one(s, st, "account password", &n);
    pthread_mutex_unlock(&s->wmu);
    return rc == TP_OK && n == 0 ? TP_ERR_NOT_FOUND : rc;
}

static enum tp_err sq_recovery_codes_set(void *impl, int64_t account_id,
                                         const uint8_t (*hashes)[32], size_t n)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    enum tp_err rc = begin(s);
    if (rc == TP_OK) {
        sqlite3_stmt *st = wst(s, W_RECOVERY_DELETE);
        sqlite3_bind_int64(st, 1, account_id);
        rc = step_done(s, st, "recovery delete");
    }
    for (size_t i = 0; rc == TP_OK && i < n; i++) {
        sqlite3_stmt *st = wst(s, W_RECOVERY_INSERT);
        sqlite3_bind_int64(st, 1, account_id);
        sqlite3_bind_blob(st, 2, hashes[i], 32, SQLITE_STATIC);
        rc = step_done(s, st, "recovery insert");
    }
    rc = finish(s, rc);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_recovery_code_use(void *impl, int64_t account_id, const uint8_t hash[32],
                                        int64_t now_ms)
{
    struct sq *s = impl;
    int64_t n = 0;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_RECOVERY_USE);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    enum tp_err rc = write_one(s, st, "recovery use", &n);
    pthread_mutex_unlock(&s->wmu);
    return rc == TP_OK && n == 0 ? TP_ERR_NOT_FOUND : rc;
}

static enum tp_err sq_session_insert(void *impl, int64_t account_id,
                                     const uint8_t hash[TP_TOKEN_HASH_LEN], int64_t now_ms,
                                     int64_t expires_ms, int64_t stepup_ms, const char *source,
                                     int64_t *id)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_SESSION_INSERT);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_blob(st, 2, hash, TP_TOKEN_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, expires_ms);
    sqlite3_bind_int64(st, 5, stepup_ms);
    bind_text(st, 6, source);
    enum tp_err rc = write_one(s, st, "session insert", NULL);
    if (rc == TP_OK && id)
        *id = sqlite3_last_insert_rowid(s->w);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* UPDATE ... SET <column> = ?2 WHERE id = ?1 [AND condition], durable; TP_ERR_NOT_FOUND when
 * no row changed. Serves every single-value update keyed by id. */
static enum tp_err update_by_id(struct sq *s, int which, int64_t id, int64_t value,
                                const char *what)
{
    int64_t n = 0;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, which);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, value);
    enum tp_err rc = write_one(s, st, what, &n);
    pthread_mutex_unlock(&s->wmu);
    return rc == TP_OK && n == 0 ? TP_ERR_NOT_FOUND : rc;
}

static enum tp_err sq_account_set_must_reset(void *impl, int64_t id, int must_reset)
{
    return update_by_id(impl, W_ACCOUNT_MUST_RESET, id, must_reset, "account must_reset");
}

static enum tp_err sq_account_set_disabled(void *impl, int64_t id, int disabled)
{
    return update_by_id(impl, W_ACCOUNT_DISABLED, id, disabled ? 1 : 0, "account disabled");
}

static enum tp_err sq_account_use_totp_step(void *impl, int64_t id, int64_t step)
{
    /* No row changed: the step is not newer than the recorded one (a replayed code). */
    enum tp_err rc = update_by_id(impl, W_ACCOUNT_TOTP_STEP, id, step, "account totp step");
    return rc == TP_ERR_NOT_FOUND ? TP_ERR_CONFLICT : rc;
}

static enum tp_err sq_session_touch(void *impl, int64_t id, int64_t now_ms)
{
    return update_by_id(impl, W_SESSION_TOUCH, id, now_ms, "session touch");
}

static enum tp_err sq_session_step_up(void *impl, int64_t id, int64_t now_ms)
{
    return update_by_id(impl, W_SESSION_STEP_UP, id, now_ms, "session step-up");
}

static enum tp_err sq_session_revoke(void *impl, int64_t id, int64_t now_ms)
{
    return update_by_id(impl, W_SESSION_REVOKE, id, now_ms, "session revoke");
}

static enum tp_err sq_sessions_revoke_all(void *impl, int64_t account_id, int64_t keep,
                                          int64_t now_ms, int64_t *n)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_SESSIONS_REVOKE_ALL);
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_int64(st, 3, keep);
    enum tp_err rc = write_one(s, st, "sessions revoke", n);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_auth_event_insert(void *impl, const struct tp_auth_event *e)
{
    struct sq *s = impl;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_AUTH_EVENT);
    sqlite3_bind_int64(st, 1, e->at_ms);
    bind_id_or_null(st, 2, e->account_id);
    bind_text(st, 3, e->login_ref);
    bind_text(st, 4, e->kind);
    bind_text(st, 5, e->outcome);
    bind_text(st, 6, e->detail);
    bind_text(st, 7, e->source);
    bind_text(st, 8, e->request_id);
    enum tp_err rc = write_one(s, st, "auth event", NULL);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static enum tp_err sq_account_set_totp(void *impl, int64_t id, const uint8_t *sealed, size_t len)
{
    struct sq *s = impl;
    int64_t n = 0;
    pthread_mutex_lock(&s->wmu);
    sqlite3_stmt *st = wst(s, W_ACCOUNT_TOTP);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_blob(st, 2, sealed, (int)len, SQLITE_STATIC);
    enum tp_err rc = write_one(s, st, "account totp", &n);
    pthread_mutex_unlock(&s->wmu);
    return rc == TP_OK && n == 0 ? TP_ERR_CONFLICT : rc;
}

static enum tp_err sq_beneficiary_id_by_member(void *impl, const uint8_t bidx[TP_BIDX_LEN],
                                               int rank, int64_t *id)
{
    struct sq *s = impl;
    struct reader *r = reader_get(s);
    if (!r)
        return TP_ERR_IO;
    sqlite3_stmt *st = r->st[R_BEN_ID_BY_MEMBER];
    sqlite3_bind_blob(st, 1, bidx, TP_BIDX_LEN, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, rank);
    enum tp_err rc = TP_ERR_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = TP_OK;
    }
    sqlite3_reset(st);
    reader_put(s, r);
    return rc;
}

static const struct tp_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .amc_upsert = sq_amc_upsert,
    .amc_find = sq_amc_find,
    .contract_upsert = sq_contract_upsert,
    .contract_get = sq_contract_get,
    .contract_codes = sq_contract_codes,
    .ps_upsert = sq_ps_upsert,
    .ps_get = sq_ps_get,
    .ps_find = sq_ps_find,
    .beneficiaries_upsert = sq_beneficiaries_upsert,
    .bulk_load = sq_bulk_load,
    .beneficiaries_import = sq_beneficiaries_import,
    .import_run_begin = sq_import_run_begin,
    .beneficiary_find_by_nir = sq_ben_by_nir,
    .beneficiary_find_by_birth = sq_ben_by_birth,
    .token_insert = sq_token_insert,
    .token_find = sq_token_find,
    .token_revoke = sq_token_revoke,
    .token_list = sq_token_list,
    .apply_batch = sq_apply_batch,
    .sync = sq_sync,
    .count = sq_count,
    .switches_load = sq_switches_load,
    .switch_set = sq_switch_set,
    .beneficiary_by_ref = sq_beneficiary_by_ref,
    .beneficiary_ref_of = sq_beneficiary_ref_of,
    .account_insert = sq_account_insert,
    .account_find = sq_account_find,
    .account_get = sq_account_get,
    .account_set_password = sq_account_set_password,
    .account_set_must_reset = sq_account_set_must_reset,
    .account_set_disabled = sq_account_set_disabled,
    .account_use_totp_step = sq_account_use_totp_step,
    .recovery_codes_set = sq_recovery_codes_set,
    .recovery_code_use = sq_recovery_code_use,
    .session_insert = sq_session_insert,
    .session_find = sq_session_find,
    .session_touch = sq_session_touch,
    .session_step_up = sq_session_step_up,
    .session_revoke = sq_session_revoke,
    .sessions_revoke_all = sq_sessions_revoke_all,
    .auth_event_insert = sq_auth_event_insert,
    .token_get = sq_token_get,
    .beneficiary_id_by_member = sq_beneficiary_id_by_member,
    .account_set_totp = sq_account_set_totp,
};

enum tp_err tp_store_sqlite_open(const char *path, const struct tp_store_ops **ops, void **impl,
                                 char *msg, size_t msglen)
{
    struct sq *s = calloc(1, sizeof *s);
    if (!s)
        return TP_ERR_NOMEM;
    s->wal_fd = -1;
    pthread_mutex_init(&s->wal_fd_mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_mutex_init(&s->ckpt_mu, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    if (strlen(path) >= sizeof s->path) {
        sq_close(s);
        return tp_fail(msg, msglen, TP_ERR_INVALID, "database path too long");
    }
    snprintf(s->path, sizeof s->path, "%s", path);
    if (open_conn(path, 0, &s->w) != TP_OK) {
        sq_close(s);
        return tp_fail(msg, msglen, TP_ERR_IO, "cannot open database %s", path);
    }
    /* WAL: readers never block the writer. synchronous=NORMAL plus sq_sync after commits:
     * what was acknowledged is on disk, so an engagement survives a power cut. */
    if (exec(s->w, "PRAGMA journal_mode = WAL") != SQLITE_OK ||
        exec(s->w, "PRAGMA synchronous = NORMAL") != SQLITE_OK) {
        enum tp_err rc =
            tp_fail(msg, msglen, TP_ERR_IO, "cannot configure %s: %s", path, sqlite3_errmsg(s->w));
        sq_close(s);
        return rc;
    }
    grow_in_chunks(s->w);
    enum tp_err rc = migrate(s->w, msg, msglen);
    if (rc != TP_OK) {
        sq_close(s);
        return rc;
    }
    for (int i = 0; i < W_COUNT; i++)
        if (sqlite3_prepare_v3(s->w, write_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->ws[i],
                               NULL) != SQLITE_OK) {
            rc = tp_fail(msg, msglen, TP_ERR_IO, "prepare failed: %s", sqlite3_errmsg(s->w));
            sq_close(s);
            return rc;
        }
    /* Commits append to the WAL only; the checkpointer thread moves pages to the database. */
    exec(s->w, "PRAGMA wal_autocheckpoint = 0");
    /* A bulk load can grow the WAL far past the restart threshold between two checkpoints;
     * give the space back once it has been checkpointed. */
    exec(s->w, "PRAGMA journal_size_limit = 67108864");
    if (pthread_create(&s->ckpt, NULL, checkpointer_main, s) == 0)
        s->ckpt_started = 1;
    *ops = &sqlite_ops;
    *impl = s;
    return TP_OK;
}
