/* The access log on disk: append-only leaf files, signed tree heads, verification and proofs
 * (docs/AUDIT-LOG.md "On disk").
 *
 * A log is a directory of its own, apart from the main database:
 *
 *   leaves-<first index, 16 digits>   segments of leaves, in index order
 *   heads                             signed tree heads, appended (112 bytes each)
 *   sth.pub                           the heads' Ed25519 public key, hex (for auditors)
 *
 * A segment starts with a header (magic, its first index, the tree's frontier at that index,
 * a tag) and holds records `u16 length | leaf bytes | 16-byte tag`, the tag being keyed
 * BLAKE2b of (index, leaf hash) under a subkey of the master key. Tags let the platform's own
 * verifier name the first bad entry exactly; the signed heads let anyone holding only the
 * public key check the tree. A new segment starts when one reaches the configured number of
 * events or the UTC day changes; retention drops whole segments whose last event is older than
 * the retention period, and the next segment's header carries the frontier at the cut, so that
 * what is kept stays verifiable against the signed heads.
 *
 * Durability: tp_audit_log_append only buffers; tp_audit_log_commit writes and fdatasyncs
 * everything appended before it and only then counts it durable. Heads sign durable sizes
 * only. One appender and one committer may run at the same time (the store's writer and
 * syncer threads); everything else is serialised by the log's own lock. */
#ifndef TP_AUDIT_LOG_H
#define TP_AUDIT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "audit/merkle.h"
#include "audit/sth.h"
#include "core/err.h"

#define TP_AUDIT_TAG_LEN 16
#define TP_AUDIT_KEY_LEN 32
#define TP_AUDIT_HEAD_RECORD 112 /* 8 size + 8 timestamp + 32 root + 64 signature */

struct tp_audit_config {
    uint64_t segment_events;  /* start a new segment past this many events (default 1,000,000) */
    int64_t head_interval_ms; /* sign a head at most this often when the log grew (1000) */
    int64_t retention_ms;     /* drop segments older than this; 0 keeps everything */
};

/* Defaults: 1,000,000 events per segment, a head every second, one year of retention (CNIL
 * délibération 2021-122: six months to a year). */
void tp_audit_config_default(struct tp_audit_config *cfg);

struct tp_audit_log;

/* Opens (creating it, mode 0700, when absent) the log in dir. mac_key and sign_seed come from
 * the master key (tp_keys_audit_mac_key, tp_keys_audit_sign_seed). Rebuilds the frontier from
 * the last segment, drops a torn record at its very end (never acknowledged: a crash during
 * its write) and checks the result against the last signed head: a log that does not match
 * its own heads is refused (TP_ERR_CRYPTO, msg says where) — run `opentp audit verify`. */
enum tp_err tp_audit_log_open(const char *dir, const uint8_t mac_key[TP_AUDIT_KEY_LEN],
                              const uint8_t sign_seed[TP_STH_SEED_LEN],
                              const struct tp_audit_config *cfg, struct tp_audit_log **out,
                              char *msg, size_t msglen) TP_MUST_USE;

/* Commits what is pending, signs a last head and closes. NULL is a no-op. */
void tp_audit_log_close(struct tp_audit_log *log, int64_t now_ms);

/* Buffers one leaf (at most TP_EVENT_LEAF_MAX bytes); *index gets its position. Not durable
 * until the next tp_audit_log_commit returns TP_OK. */
enum tp_err tp_audit_log_append(struct tp_audit_log *log, const uint8_t *leaf, size_t len,
                                uint64_t *index) TP_MUST_USE;

/* Writes and fdatasyncs every leaf appended before the call; signs and appends a head when
 * head_interval_ms has passed since the last one and the log grew. On failure nothing
 * appended since the last successful commit may be counted durable (the log then refuses
 * further appends: TP_ERR_IO, until reopened). */
enum tp_err tp_audit_log_commit(struct tp_audit_log *log, int64_t now_ms) TP_MUST_USE;

/* Durable size and the last signed head (have_head = 0 if none yet). */
void tp_audit_log_state(struct tp_audit_log *log, uint64_t *durable_size, struct tp_sth *head,
                        int *have_head);

/* Drops segments whose last event is older than now_ms - retention_ms (never the current
 * one). Returns how many events were dropped in *dropped. */
enum tp_err tp_audit_log_retain(struct tp_audit_log *log, int64_t now_ms,
                                uint64_t *dropped) TP_MUST_USE;

/* ---------------------------------------------------------------------------------------
 * Reading (offline: the verifier, proofs, incident assessment, a member's accesses). These
 * open the directory read-only and may run while a server appends. */

/* Called for every leaf in index order; a non-TP_OK return stops the scan and is returned. */
typedef enum tp_err (*tp_audit_leaf_cb)(void *ctx, uint64_t index, const uint8_t *leaf, size_t len,
                                        const struct tp_merkle_hash *leaf_hash);

/* Scans the leaves from the first kept one. With mac_key, every tag is checked. Stops at the
 * first framing, continuity or tag error: TP_ERR_CRYPTO, *bad_index set and msg says what. */
enum tp_err tp_audit_scan(const char *dir, const uint8_t *mac_key, tp_audit_leaf_cb cb, void *ctx,
                          uint64_t *bad_index, char *msg, size_t msglen) TP_MUST_USE;

/* The same scan for readers that need neither tags nor hashes (incident assessment, a
 * member's accesses, listing): the callback gets leaf_hash NULL. About twice as fast. */
enum tp_err tp_audit_read(const char *dir, tp_audit_leaf_cb cb, void *ctx, uint64_t *bad_index,
                          char *msg, size_t msglen) TP_MUST_USE;

/* Reads the signed heads (in file order) into a malloc'd array (*heads, *count; free()). */
enum tp_err tp_audit_read_heads(const char *dir, struct tp_sth **heads, size_t *count, char *msg,
                                size_t msglen) TP_MUST_USE;

struct tp_audit_report {
    uint64_t first;         /* first kept index (0 unless retention dropped segments) */
    uint64_t events;        /* leaves read */
    size_t heads;           /* heads whose signature and root were checked */
    size_t heads_unchecked; /* heads older than the first kept leaf (signature checked only) */
    int ok;
    uint64_t bad_index; /* when !ok: the first bad entry (or the first index of a bad range) */
    char reason[256];   /* when !ok: what is wrong, for a human */
};

/* Checks the whole log: every head's signature under public_key, heads in order, every tag
 * (when mac_key is given), continuity of indexes, and the root at every head's size. TP_OK
 * with report->ok = 1 when everything holds; TP_OK with ok = 0 and the first bad entry named
 * when tampering is found; another error only when the log cannot be read at all. */
enum tp_err tp_audit_verify(const char *dir, const uint8_t *mac_key,
                            const uint8_t public_key[TP_STH_PUBLIC_KEY_LEN],
                            struct tp_audit_report *report, char *msg, size_t msglen) TP_MUST_USE;

/* Inclusion proof of leaf `index` in the tree of `size` leaves (size ≤ the log's size), with the
 * leaf's bytes (into leaf, TP_EVENT_LEAF_MAX bytes) and the root. Reads the log once. */
enum tp_err tp_audit_prove_inclusion(const char *dir, uint64_t index, uint64_t size, uint8_t *leaf,
                                     size_t *leaf_len, struct tp_merkle_proof *proof,
                                     struct tp_merkle_hash *root, char *msg,
                                     size_t msglen) TP_MUST_USE;

/* Consistency proof between the trees of sizes first ≤ second. */
enum tp_err tp_audit_prove_consistency(const char *dir, uint64_t first, uint64_t second,
                                       struct tp_merkle_proof *proof, struct tp_merkle_hash *root1,
                                       struct tp_merkle_hash *root2, char *msg,
                                       size_t msglen) TP_MUST_USE;

#endif
