/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The history store: every roller, head, session, pass, override, checklist
 * answer and journal entry, in one SQLite file (DESIGN.md "The history
 * store").
 *
 * The file is $XDG_DATA_HOME/dermaroll/history.db unless the caller names
 * another.  It and its -wal/-shm companions have mode 0600; a folder the
 * store creates has mode 0700.  It never prints: failures come back as a
 * GError in STORE_ERROR whose message is a full sentence for the user that
 * names the file.
 *
 * Times are Unix milliseconds, UTC (int64_t *_ms).  Where a local time must be
 * shown later (sessions, journal), the caller also gives the UTC offset in
 * seconds that was in force then.
 *
 * Durability: the database runs in WAL mode with synchronous=FULL, so SQLite
 * fsyncs the WAL before COMMIT returns.  Every function that writes returns
 * TRUE only after its COMMIT returned; on FALSE nothing it was asked to write
 * is stored.  The engine acks the roller only after store_add_passes()
 * returned TRUE (PROTOCOL.md: the host commits first, then acks).
 *
 * Concurrency: one struct store per thread.  Several dermaroll processes may
 * open the same file: readers never wait; a writer waits up to 0.3 s for
 * another writer, then fails with STORE_ERROR_LOCKED.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "dp/proto.h"
#include "zones.h"

#define STORE_ERROR store_error_quark()
GQuark store_error_quark(void);

enum store_error {
	STORE_ERROR_IO,          /* read or write failed (disk error) */
	STORE_ERROR_PERMISSION,  /* file or folder not writable by us */
	STORE_ERROR_NOT_FOUND,   /* no history there, and not asked to create */
	STORE_ERROR_LOCKED,      /* another dermaroll is writing */
	STORE_ERROR_CORRUPT,     /* not a database, truncated, or damaged */
	STORE_ERROR_TOO_NEW,     /* written by a newer dermaroll */
	STORE_ERROR_NO_SPACE,    /* disk full */
	STORE_ERROR_INVALID,     /* a value out of range, or an unknown id */
};

struct store;

enum store_open_flags {
	STORE_OPEN_DEFAULT = 0,
	/* Create the folder (0700) and an empty history if they are missing. */
	STORE_OPEN_CREATE = 1 << 0,
};

/* $XDG_DATA_HOME/dermaroll/history.db; free with g_free(). */
char *store_default_path(void);

/*
 * Open (and, with STORE_OPEN_CREATE, create) the history at @path, or at
 * store_default_path() when @path is NULL, and bring its schema up to date.
 * A file that is not a dermaroll history, is truncated or damaged, or was
 * written by a newer dermaroll is refused and left byte for byte as it was.
 */
struct store *store_open(const char *path, enum store_open_flags flags,
				GError **error);
void store_close(struct store *s);
const char *store_path(const struct store *s);

/* Full consistency check (PRAGMA integrity_check): STORE_ERROR_CORRUPT if
 * the file is damaged anywhere.  Reads the whole file; not for every start. */
gboolean store_check(struct store *s, GError **error);

/* ---- Rollers and heads ---- */

struct store_roller {
	int64_t id;
	char *serial;
	char *name;              /* the user's name; the serial at first */
	char *firmware;
	int64_t first_seen_ms;
	int64_t last_seen_ms;
	bool forgotten;
	char *address;           /* Bluetooth identity address, NULL: none */
};
void store_roller_free(struct store_roller *r);

/* Add the roller with @serial, or update its firmware and last-seen time.
 * Seeing a forgotten roller again brings it back. */
gboolean store_roller_update(struct store *s, const char *serial,
				const char *firmware, int64_t seen_ms,
				int64_t *roller_id, GError **error);
gboolean store_roller_rename(struct store *s, int64_t roller_id,
				const char *name, GError **error);
/* Hide the roller from lists; its history stays. */
gboolean store_roller_forget(struct store *s, int64_t roller_id,
				GError **error);
/* struct store_roller *, ordered by first seen. */
GPtrArray *store_rollers(struct store *s, bool include_forgotten,
				GError **error);
/*
 * Record the roller's Bluetooth identity address ("AA:BB:CC:DD:EE:FF",
 * any case; stored upper case), as paired (PROTOCOL.md §9.5); NULL clears
 * it.  An address belongs to one roller: another roller that had it loses
 * it in the same transaction.  STORE_ERROR_INVALID for a malformed address
 * or an unknown roller.
 */
gboolean store_roller_set_address(struct store *s, int64_t roller_id,
				const char *address, GError **error);
/* The roller recorded with @address (any case), forgotten or not; NULL
 * with @error unset when none has it, NULL with @error set on failure
 * (STORE_ERROR_INVALID for a malformed address). */
struct store_roller *store_roller_by_address(struct store *s,
				const char *address, GError **error);

struct store_head {
	int64_t id;
	int64_t roller_id;
	char *serial;
	uint16_t needle_um;
	int64_t fitted_ms;
	int64_t replaced_ms;     /* 0 while fitted */
	uint16_t uses_reported;  /* head use count the roller last reported */
	unsigned int sessions;   /* sessions stored with this head */
};
void store_head_clear(struct store_head *h);

/*
 * Record that the head @serial is on the roller.  If it already is, only
 * @uses_reported is updated.  Otherwise the head fitted until now is marked
 * replaced at @fitted_ms, and @serial becomes the fitted head: a new row, or
 * the old row again if this head was fitted before (its first fitting time
 * and its sessions still count for wear).
 */
gboolean store_head_fit(struct store *s, int64_t roller_id, const char *serial,
			uint16_t needle_um, int64_t fitted_ms,
			uint16_t uses_reported, int64_t *head_id,
			GError **error);
/* The head fitted now: TRUE with h->id == 0 if none is recorded. */
gboolean store_head_current(struct store *s, int64_t roller_id,
				struct store_head *h, GError **error);

/* ---- Sessions ---- */

enum store_session_state {
	STORE_SESSION_OPEN,        /* running, or the program died during it */
	STORE_SESSION_COMPLETED,
	STORE_SESSION_ABORTED,     /* stopped early by the user */
	STORE_SESSION_INTERRUPTED, /* found open later, closed by the engine */
};

struct store_session_start {
	int64_t roller_id;
	int64_t head_id;           /* 0: unknown */
	uint16_t device_session;   /* the roller's session number, 0: none */
	int64_t started_ms;
	int32_t utc_offset_s;
	const char *plan_name;     /* dermatologist's plan file, NULL: none */
	const char *plan_date;     /* as written in the plan, NULL: none */
};
gboolean store_session_begin(struct store *s,
				const struct store_session_start *start,
				int64_t *session_id, GError **error);
gboolean store_session_end(struct store *s, int64_t session_id,
				int64_t ended_ms,
				enum store_session_state state,
				GError **error);
/* The latest session of @roller_id the roller numbered @device_session:
 * where offline records of an interrupted session belong.  TRUE with
 * *session_id == 0 if there is none. */
gboolean store_session_find(struct store *s, int64_t roller_id,
				uint16_t device_session, int64_t *session_id,
				GError **error);

/* What a session did on one zone; recording it again replaces it. */
struct store_zone_result {
	uint8_t zone;              /* 1..DP_ZONE_MAX */
	uint16_t passes[ZONE_DIR_COUNT]; /* by enum zone_dir */
	uint16_t mean_force_cn;
	uint16_t peak_force_cn;
	uint32_t over_warn_ms;
	int64_t started_ms;        /* first pass on the zone */
	int64_t ended_ms;          /* end of the last pass on the zone */
};
gboolean store_zone_result_record(struct store *s, int64_t session_id,
				const struct store_zone_result *r,
				GError **error);

/* ---- Passes and the sync state ---- */

enum store_pass_source {
	STORE_SOURCE_LIVE,         /* the live stream */
	STORE_SOURCE_OFFLINE,      /* the roller's offline log */
};

struct store_pass {
	struct dp_pass dev;        /* as the roller sent it, zone included */
	int64_t session_id;        /* 0: unassigned */
	int64_t started_ms;        /* the host's UTC for dev.start_ms */
	enum zone_dir dir_class;   /* zone_classify_angle(dev.angle_deg) */
	enum store_pass_source source;
};

/*
 * Store @n passes of @roller_id in one transaction.  A pass whose
 * (roller, dev.seq) is already stored is a duplicate: it is skipped and the
 * stored one is kept as it is.  If @ack_up_to is not 0 the roller's acked
 * sequence becomes max(stored, @ack_up_to) in the same transaction, so a
 * crash between this commit and the ACK makes the roller send those records
 * again, and they come back as duplicates.
 *
 * TRUE means every new pass and the acked sequence are on disk: only then
 * may the roller be sent ACK(@ack_up_to).  The caller must not pass an
 * @ack_up_to beyond a sequence whose pass it has not stored: ACK frees every
 * record up to it.  On FALSE nothing was stored.
 */
gboolean store_add_passes(struct store *s, int64_t roller_id,
				const struct store_pass *passes, size_t n,
				uint32_t ack_up_to, unsigned int *n_new,
				unsigned int *n_duplicate, GError **error);
/* Put a stored pass into a session and zone (e.g. an unassigned pass the
 * user placed). */
gboolean store_pass_assign(struct store *s, int64_t roller_id, uint32_t seq,
				int64_t session_id, uint8_t zone,
				GError **error);

struct store_sync_state {
	uint32_t acked_seq;        /* 0: nothing acked yet */
	bool has_device_clock;
	uint64_t device_clock_ms;  /* roller clock last read (device time) */
	int64_t device_clock_at_ms;/* host UTC when it was read */
};
gboolean store_sync_state(struct store *s, int64_t roller_id,
				struct store_sync_state *out, GError **error);
/* Raise the acked sequence alone (never lowers it). */
gboolean store_acked_seq_set(struct store *s, int64_t roller_id,
				uint32_t seq, GError **error);
gboolean store_device_clock_set(struct store *s, int64_t roller_id,
				uint64_t device_clock_ms, int64_t at_ms,
				GError **error);

/* ---- Overrides, checklist, journal ---- */

enum store_override_kind {
	STORE_OVERRIDE_INTERVAL,
	STORE_OVERRIDE_PASSES,
	STORE_OVERRIDE_HEAD_WEAR,
	STORE_OVERRIDE_CHECKLIST,
};

struct store_override {
	int64_t id;
	int64_t session_id;
	uint8_t zone;              /* 0: the whole session */
	enum store_override_kind kind;
	char *reason;
	int64_t at_ms;
};
void store_override_free(struct store_override *o);
/* @reason is what the user typed: required, kept verbatim. */
gboolean store_override_add(struct store *s, int64_t session_id, uint8_t zone,
				enum store_override_kind kind,
				const char *reason, int64_t at_ms,
				GError **error);
/* struct store_override *, in time order. */
GPtrArray *store_overrides(struct store *s, int64_t session_id,
				GError **error);

struct store_checklist_answer {
	char *item;                /* the policy table's item id */
	bool yes;
	int64_t at_ms;
};
void store_checklist_answer_free(struct store_checklist_answer *a);
/* Answering the same item again replaces the answer. */
gboolean store_checklist_set(struct store *s, int64_t session_id,
				const char *item, bool yes, int64_t at_ms,
				GError **error);
/* struct store_checklist_answer *, in the order first answered. */
GPtrArray *store_checklist(struct store *s, int64_t session_id,
				GError **error);

struct store_journal_entry {
	int64_t id;                /* set by store_journal_add */
	int64_t at_ms;
	int32_t utc_offset_s;
	uint8_t zone;              /* 0: no zone */
	uint8_t redness;           /* 0..3 */
	uint8_t swelling;          /* 0..3 */
	char *note;                /* free text, may be empty */
};
void store_journal_entry_free(struct store_journal_entry *e);
gboolean store_journal_add(struct store *s,
				const struct store_journal_entry *e,
				int64_t *id, GError **error);
/* struct store_journal_entry * with from_ms <= at_ms < to_ms, in time
 * order; 0 leaves that end open. */
GPtrArray *store_journal(struct store *s, int64_t from_ms, int64_t to_ms,
				GError **error);

/* ---- History queries ---- */

struct store_history_filter {
	int64_t from_ms;           /* started_ms >= from_ms; 0: no bound */
	int64_t to_ms;             /* started_ms < to_ms; 0: no bound */
	uint8_t zone;              /* sessions that touched this zone; 0: any */
	int64_t roller_id;         /* 0: any */
};

struct store_session {
	int64_t id;
	int64_t roller_id;
	char *roller_serial;
	char *roller_name;
	char *firmware;            /* the roller's, when the session began */
	int64_t head_id;           /* 0: none recorded */
	char *head_serial;         /* NULL when head_id is 0 */
	uint16_t needle_um;        /* 0 when head_id is 0 */
	unsigned int head_use;     /* this session was the head's n-th */
	uint16_t device_session;
	int64_t started_ms;
	int32_t utc_offset_s;
	int64_t ended_ms;          /* 0: not ended */
	enum store_session_state state;
	char *plan_name;           /* NULL: no plan */
	char *plan_date;
	GArray *zones;             /* struct store_zone_result, by zone */
};
void store_session_free(struct store_session *ss);
/* struct store_session *, by start time. */
GPtrArray *store_history(struct store *s,
				const struct store_history_filter *filter,
				GError **error);
/* struct store_pass, by seq. */
GArray *store_session_passes(struct store *s, int64_t session_id,
				GError **error);
GArray *store_unassigned_passes(struct store *s, int64_t roller_id,
				GError **error);

struct store_zone_last {
	int64_t treated_ms;        /* end of the latest pass on the zone, or
				    * of the latest zone result; 0: never */
	int64_t session_id;        /* its session; 0 for a pass in none */
	int64_t session_started_ms;/* that session's start (the pass's start
				    * for a pass in no session) */
};

/*
 * When @zone was last treated, over every roller, counting only passes
 * that started before @before_ms (0: now and ever).  treated_ms is the
 * stricter time to count an interval from; session_started_ms is "the start
 * of the last session on this zone".  Passes in no zone do not count.
 */
gboolean store_zone_last_treated(struct store *s, uint8_t zone,
				int64_t before_ms, struct store_zone_last *out,
				GError **error);

/* The latest wall-clock time dermaroll has seen (SAFETY.md: a clock moved
 * back never opens a lock early).  0 if none yet. */
gboolean store_time_seen(struct store *s, int64_t *latest_ms, GError **error);
/* Raise it to @now_ms if that is later; *latest_ms (may be NULL) gets the
 * result: the time the policy should use as "now". */
gboolean store_time_seen_bump(struct store *s, int64_t now_ms,
				int64_t *latest_ms, GError **error);

/* GLib autoptr glue. */
typedef struct store Store;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Store, store_close)
