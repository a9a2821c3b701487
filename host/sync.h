/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Offline sync and pass commits: the one place that turns passes from the
 * roller into rows in the history store and frees them on the roller.
 *
 * On connect it records the roller and its head, folds the roller's clock
 * into the latest time seen (SAFETY.md: the roller's clock is the second
 * witness), sets the roller's clock (SET_TIME) and pulls the offline log
 * from the store's acked sequence + 1 (SYNC_HISTORY).  Every pass, live or
 * from the log, is buffered and committed in one transaction per batch (the
 * records that arrived in one main-loop dispatch); only after the commit
 * returned is the roller sent ACK, and only up to the highest sequence below
 * which every pass is stored (PROTOCOL.md "Semantics": commit, then ack).
 * Duplicates by (roller, seq) are the store's job.
 *
 * A pass belongs to the session the owner names (session_for), else to the
 * stored session the roller numbered pass->session; a pass with zone 0 or
 * no such session is kept as unassigned.  Sessions left open by a host that
 * died are closed as interrupted once the connect-time sync is done, with
 * their zone results recomputed from their passes.
 *
 * The engine drives it (engine.c); it never prints: g_log and GError only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "engine-clock.h"
#include "link.h"
#include "store.h"

struct sync;

struct sync_stats {
	uint32_t stored_through;     /* every pass up to this seq is in the store */
	uint32_t acked_seq;          /* the roller answered ACK up to this */
	uint16_t log_count;          /* unacked records the roller reported at that ACK */
	bool syncing;                /* a SYNC_HISTORY is running */
	bool synced;                 /* the connect-time sync has finished */
	unsigned int syncs;          /* SYNC_HISTORY commands answered OK */
	uint64_t commits;            /* transactions committed */
	uint64_t passes_new;         /* passes the store did not have */
	uint64_t passes_duplicate;   /* passes it had already */
	uint64_t commit_failures;
};

struct sync_ops {
	/* The stored session a pass of the roller's session @device_session
	 * belongs to, or 0 to let sync look it up in the store. */
	int64_t (*session_for)(void *user_data, uint16_t device_session);
	/* TRUE for a session the owner is still running (never closed as
	 * interrupted). */
	bool (*owns_session)(void *user_data, int64_t session_id);
	/* The connect-time sync has finished (or could not run: see error). */
	void (*synced)(void *user_data, const GError *error);
	/* A commit or an ACK failed; nothing was acked that is not stored. */
	void (*failed)(void *user_data, const GError *error);
};

struct sync *sync_new(struct store *store, const struct engine_clock *clock,
		      const struct sync_ops *ops, void *user_data);
void sync_free(struct sync *sync);

/*
 * The link is up: records the roller and its head, the clock witness, then
 * queues SET_TIME and SYNC_HISTORY on @link.  FALSE (with @error) if the
 * store refused; then nothing is sent.
 */
gboolean sync_connected(struct sync *sync, struct link *link,
			const struct dp_info *info, GError **error);
/* Feed from the link handler. */
void sync_pass(struct sync *sync, const struct dp_pass *pass, bool from_history);
void sync_log_end(struct sync *sync, const struct dp_log_end *end);
/* The link is down: commits what arrived (nothing is acked). */
void sync_disconnected(struct sync *sync);
/* Commits buffered passes now and acks them if the link is up.  Returns
 * FALSE if the commit failed. */
gboolean sync_flush(struct sync *sync, GError **error);

/* Valid after sync_connected(). */
int64_t sync_roller_id(const struct sync *sync);
int64_t sync_head_id(const struct sync *sync);
/* The host's UTC (ms) for a pass's start (PROTOCOL.md "Semantics": a pass
 * with an unset clock maps through the clock read at connect). */
int64_t sync_pass_time(const struct sync *sync, const struct dp_pass *pass);
/* The latest time seen (ms), store and roller clock folded in. */
int64_t sync_latest_seen(const struct sync *sync);
const struct sync_stats *sync_stats(const struct sync *sync);
/* TRUE when no sync is running, nothing waits to be committed and every
 * stored pass has been acked. */
bool sync_idle(const struct sync *sync);

/* Zone results of @session_id recomputed from its stored passes. */
gboolean sync_recompute_zone_results(struct store *store, int64_t session_id,
				     GError **error);
