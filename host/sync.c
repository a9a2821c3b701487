/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Offline sync and pass commits (sync.h).  PROTOCOL.md "Semantics": every
 * pass gets the next log seq and stays on the roller until ACK(up_to);
 * the host commits first, then acks, and de-duplicates by (roller, seq).
 */
#define G_LOG_DOMAIN "dermaroll-sync"

#include <string.h>

#include "anchor.h"
#include "sync.h"
#include "zones.h"

/* A batch never grows past this before it is committed, even while the
 * link keeps the main loop busy. */
#define BATCH_MAX 512

#define EPOCH_MS (DP_EPOCH_UNIX_S * 1000)

struct sync {
	struct store *store;
	const struct engine_clock *clock;
	const struct sync_ops *ops;
	void *user_data;
	struct anchor *anchor;

	struct link *link;           /* while connected */
	struct dp_info info;
	int64_t roller_id, head_id;
	int64_t connected_at_ms;
	int64_t unset_offset_ms;     /* host UTC - device clock, when the clock was unset */
	bool clock_was_set;
	int64_t latest_seen;

	uint32_t stored_through;
	GHashTable *ahead;           /* seqs > stored_through already stored */
	GArray *pending;             /* struct store_pass, not yet committed */
	guint flush_source;

	bool ack_in_flight;
	uint32_t ack_target;         /* highest ACK sent on this connection */
	uint32_t sync_end;           /* next_seq of the last sync answered */
	bool log_mismatch;           /* the roller's log is behind the store: no ACK */

	struct sync_stats stats;
};

struct sync *sync_new(struct store *store, const struct engine_clock *clock,
		      const struct sync_ops *ops, void *user_data)
{
	struct sync *sync = g_new0(struct sync, 1);

	sync->store = store;
	sync->clock = clock;
	sync->ops = ops;
	sync->user_data = user_data;
	sync->anchor = anchor_new(sync);
	sync->ahead = g_hash_table_new(NULL, NULL);
	sync->pending = g_array_new(FALSE, TRUE, sizeof(struct store_pass));
	return sync;
}

void sync_free(struct sync *sync)
{
	if (!sync)
		return;
	g_clear_handle_id(&sync->flush_source, g_source_remove);
	anchor_cut(sync->anchor);
	if (sync->link)
		link_unref(sync->link);
	g_hash_table_unref(sync->ahead);
	g_array_unref(sync->pending);
	g_free(sync);
}

int64_t sync_roller_id(const struct sync *sync)
{
	return sync->roller_id;
}

int64_t sync_head_id(const struct sync *sync)
{
	return sync->head_id;
}

int64_t sync_latest_seen(const struct sync *sync)
{
	return sync->latest_seen;
}

const struct sync_stats *sync_stats(const struct sync *sync)
{
	return &sync->stats;
}

bool sync_idle(const struct sync *sync)
{
	return !sync->stats.syncing && sync->pending->len == 0 &&
	       !sync->ack_in_flight && sync->stats.synced &&
	       sync->stats.acked_seq >= sync->stored_through;
}

int64_t sync_pass_time(const struct sync *sync, const struct dp_pass *pass)
{
	if (!(pass->flags & DP_PASS_CLOCK_UNSET))
		return EPOCH_MS + (int64_t)pass->start_ms;
	/* PROTOCOL.md "Semantics": offset = host UTC - clock_ms read at
	 * connect.  If the clock was already set then, the pass is from an
	 * earlier power-up and its time cannot be known: the connect time is
	 * the best we have. */
	if (sync->clock_was_set)
		return sync->connected_at_ms;
	return (int64_t)pass->start_ms + sync->unset_offset_ms;
}

/* ---- Zone results from stored passes ---- */

struct zone_acc {
	struct store_zone_result r;
	double force_ms;             /* sum of mean force x duration */
	uint64_t duration_ms;
};

gboolean sync_recompute_zone_results(struct store *store, int64_t session_id,
				     GError **error)
{
	g_autoptr(GArray) passes = store_session_passes(store, session_id, error);
	struct zone_acc acc[DP_ZONE_MAX + 1];

	if (!passes)
		return FALSE;
	memset(acc, 0, sizeof(acc));
	for (guint i = 0; i < passes->len; i++) {
		const struct store_pass *p = &g_array_index(passes, struct store_pass, i);
		struct zone_acc *a;
		int64_t end;

		if (p->dev.zone == DP_ZONE_NONE || p->dev.zone > DP_ZONE_MAX)
			continue;
		a = &acc[p->dev.zone];
		end = p->started_ms + p->dev.duration_ms;
		if (a->r.passes[0] + a->r.passes[1] + a->r.passes[2] == 0) {
			a->r.started_ms = p->started_ms;
			a->r.ended_ms = end;
		}
		a->r.started_ms = MIN(a->r.started_ms, p->started_ms);
		a->r.ended_ms = MAX(a->r.ended_ms, end);
		if (a->r.passes[p->dir_class] < G_MAXUINT16)
			a->r.passes[p->dir_class]++;
		a->r.peak_force_cn = MAX(a->r.peak_force_cn, p->dev.peak_force_cn);
		a->r.over_warn_ms += p->dev.over_warn_ms;
		a->force_ms += (double)p->dev.mean_force_cn * p->dev.duration_ms;
		a->duration_ms += p->dev.duration_ms;
	}
	for (int z = 1; z <= DP_ZONE_MAX; z++) {
		struct zone_acc *a = &acc[z];

		if (a->r.passes[0] + a->r.passes[1] + a->r.passes[2] == 0)
			continue;
		a->r.zone = (uint8_t)z;
		a->r.mean_force_cn = a->duration_ms ?
			(uint16_t)(a->force_ms / (double)a->duration_ms + 0.5) : 0;
		if (!store_zone_result_record(store, session_id, &a->r, error))
			return FALSE;
	}
	return TRUE;
}

/* Sessions of this roller a dead host left open: closed as interrupted at
 * the end of their last pass, their zone results rebuilt from the passes
 * (which now include the ones the roller logged after the host died). */
static void close_interrupted(struct sync *sync)
{
	struct store_history_filter filter = { .roller_id = sync->roller_id };
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) sessions = store_history(sync->store, &filter, &error);

	if (!sessions) {
		g_warning("sync: cannot look for interrupted sessions: %s", error->message);
		return;
	}
	for (guint i = 0; i < sessions->len; i++) {
		struct store_session *ss = g_ptr_array_index(sessions, i);
		g_autoptr(GArray) passes = NULL;
		int64_t end = ss->started_ms;

		if (ss->state != STORE_SESSION_OPEN ||
		    (sync->ops->owns_session &&
		     sync->ops->owns_session(sync->user_data, ss->id)))
			continue;
		passes = store_session_passes(sync->store, ss->id, &error);
		if (!passes)
			break;
		for (guint j = 0; j < passes->len; j++) {
			const struct store_pass *p = &g_array_index(passes, struct store_pass, j);

			end = MAX(end, p->started_ms + p->dev.duration_ms);
		}
		if (!sync_recompute_zone_results(sync->store, ss->id, &error) ||
		    !store_session_end(sync->store, ss->id, end,
				       STORE_SESSION_INTERRUPTED, &error))
			break;
		g_info("sync: session %" G_GINT64_FORMAT " (roller session %u) was left open "
		       "and is now closed as interrupted", ss->id, ss->device_session);
	}
	if (error)
		g_warning("sync: cannot close an interrupted session: %s", error->message);
}

/* ---- ACK and SYNC_HISTORY ---- */

static void maybe_ack(struct sync *sync);
static void maybe_resync(struct sync *sync);

static void send_command(struct sync *sync, const struct dp_command *cmd,
			 link_command_func func)
{
	/* Once the link took the command it calls anchor_unref, whatever
	 * happens; it refuses only a link already down, checked here. */
	if (!sync->link || !link_is_connected(sync->link))
		return;
	link_command(sync->link, cmd, func, anchor_ref(sync->anchor), anchor_unref);
}

static void fail(struct sync *sync, GError *error)
{
	g_warning("sync: %s", error->message);
	if (sync->ops->failed)
		sync->ops->failed(sync->user_data, error);
	g_error_free(error);
}

static void prune_ahead(struct sync *sync)
{
	GHashTableIter it;
	gpointer key;

	g_hash_table_iter_init(&it, sync->ahead);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (GPOINTER_TO_UINT(key) <= sync->stored_through)
			g_hash_table_iter_remove(&it);
}

static void ack_done(struct link *link, const struct dp_response *rsp,
		     const GError *error, void *user_data)
{
	struct sync *sync = ((struct anchor *)user_data)->target;

	if (!sync)
		return;
	sync->ack_in_flight = false;
	if (error)
		return;
	if (rsp->result != DP_RES_OK) {
		fail(sync, g_error_new(LINK_ERROR, LINK_ERROR_REFUSED,
			"The roller refused to free passes up to number %u (result %u); "
			"they stay on the roller and are synced again next time.",
			sync->ack_target, rsp->result));
		return;
	}
	sync->stats.acked_seq = MAX(sync->stats.acked_seq, sync->ack_target);
	sync->stats.log_count = rsp->u.log_count;
	maybe_ack(sync);
}

static void maybe_ack(struct sync *sync)
{
	struct dp_command cmd = { .opcode = DP_OP_ACK };

	if (sync->ack_in_flight || sync->log_mismatch || !sync->link ||
	    !link_is_connected(sync->link) ||
	    sync->stored_through == 0 || sync->stored_through <= sync->ack_target)
		return;
	sync->ack_target = sync->stored_through;
	sync->ack_in_flight = true;
	cmd.u.seq = sync->ack_target;
	send_command(sync, &cmd, ack_done);
	if (!sync->link || !link_is_connected(sync->link))
		sync->ack_in_flight = false;
}

static void finish_sync(struct sync *sync, const GError *error)
{
	bool first = !sync->stats.synced;

	sync->stats.syncing = false;
	sync->stats.synced = true;
	if (first && !error)
		close_interrupted(sync);
	maybe_ack(sync);
	if (first && sync->ops->synced)
		sync->ops->synced(sync->user_data, error);
	if (!error)
		maybe_resync(sync);
}

static void sync_answered(struct link *link, const struct dp_response *rsp,
			  const GError *error, void *user_data)
{
	struct sync *sync = ((struct anchor *)user_data)->target;
	g_autoptr(GError) err = NULL;

	if (!sync || error)
		return;
	if (rsp->result != DP_RES_OK) {
		/* OUT_OF_RANGE: the roller's log is behind what we stored (a
		 * roller reset, or a second roller with this serial). */
		err = g_error_new(LINK_ERROR, LINK_ERROR_REFUSED,
			"The roller refused to send its offline log from pass %u "
			"(result %u): its log does not match this history.",
			sync->stored_through + 1, rsp->result);
		g_warning("sync: %s", err->message);
		sync->log_mismatch = true;
		finish_sync(sync, err);
		return;
	}
	sync->stats.syncs++;
	sync->sync_end = rsp->u.sync.next_seq;
	if (rsp->u.sync.first_seq > sync->stored_through + 1) {
		/* The roller freed these already: acked by another computer's
		 * dermaroll.  They are not ours to wait for. */
		g_info("sync: passes %u..%u were already freed on the roller",
		       sync->stored_through + 1, rsp->u.sync.first_seq - 1);
		sync->stored_through = rsp->u.sync.first_seq - 1;
		prune_ahead(sync);
		while (g_hash_table_contains(sync->ahead,
					     GUINT_TO_POINTER(sync->stored_through + 1)))
			g_hash_table_remove(sync->ahead,
					    GUINT_TO_POINTER(++sync->stored_through));
		if (!store_acked_seq_set(sync->store, sync->roller_id,
					 sync->stored_through, &err))
			fail(sync, g_steal_pointer(&err));
	}
}

static void start_sync(struct sync *sync)
{
	struct dp_command cmd = { .opcode = DP_OP_SYNC_HISTORY };

	cmd.u.seq = sync->stored_through + 1;
	sync->stats.syncing = true;
	send_command(sync, &cmd, sync_answered);
}

/* A live pass beyond a hole (stream frames lost, or passes rolled while
 * the link was down) waits in `ahead'; the hole is filled from the log. */
static void maybe_resync(struct sync *sync)
{
	GHashTableIter it;
	gpointer key;
	uint32_t lowest = G_MAXUINT32;

	if (sync->stats.syncing || !sync->stats.synced || !sync->link ||
	    !link_is_connected(sync->link) || g_hash_table_size(sync->ahead) == 0)
		return;
	g_hash_table_iter_init(&it, sync->ahead);
	while (g_hash_table_iter_next(&it, &key, NULL))
		lowest = MIN(lowest, GPOINTER_TO_UINT(key));
	/* Only holes the last sync did not cover: a sync answers for
	 * everything below its next_seq. */
	if (lowest <= sync->stored_through + 1 || sync->stored_through + 1 < sync->sync_end)
		return;
	g_info("sync: passes %u..%u missing from the stream: syncing them",
	       sync->stored_through + 1, lowest - 1);
	start_sync(sync);
}

/* ---- Commits ---- */

/* Adds @id to @ids (int64_t) once. */
static void add_id(GArray *ids, int64_t id)
{
	for (guint i = 0; i < ids->len; i++)
		if (g_array_index(ids, int64_t, i) == id)
			return;
	g_array_append_val(ids, id);
}

static int64_t assign_session(struct sync *sync, const struct dp_pass *pass,
			      GArray *foreign)
{
	int64_t id = 0;
	g_autoptr(GError) error = NULL;

	if (sync->ops->session_for)
		id = sync->ops->session_for(sync->user_data, pass->session);
	if (id > 0)
		return id;
	/* "Records with zone 0 ... are kept and stored as unassigned." */
	if (pass->zone == DP_ZONE_NONE || pass->session == 0)
		return 0;
	if (!store_session_find(sync->store, sync->roller_id, pass->session, &id, &error)) {
		g_warning("sync: %s", error->message);
		return 0;
	}
	if (id > 0)
		add_id(foreign, id);
	return id;
}

gboolean sync_flush(struct sync *sync, GError **error)
{
	g_autoptr(GHashTable) batch = NULL;
	g_autoptr(GArray) foreign = NULL;
	GHashTableIter it;
	gpointer key;
	uint32_t through = sync->stored_through;
	unsigned int n_new = 0, n_dup = 0;
	guint n = sync->pending->len;

	g_clear_handle_id(&sync->flush_source, g_source_remove);
	if (n == 0)
		return TRUE;
	batch = g_hash_table_new(NULL, NULL);
	foreign = g_array_new(FALSE, FALSE, sizeof(int64_t));
	for (guint i = 0; i < n; i++) {
		struct store_pass *p = &g_array_index(sync->pending, struct store_pass, i);

		p->session_id = assign_session(sync, &p->dev, foreign);
		g_hash_table_add(batch, GUINT_TO_POINTER(p->dev.seq));
	}
	while (g_hash_table_contains(batch, GUINT_TO_POINTER(through + 1)) ||
	       g_hash_table_contains(sync->ahead, GUINT_TO_POINTER(through + 1)))
		through++;

	if (!store_add_passes(sync->store, sync->roller_id,
			      (const struct store_pass *)sync->pending->data, n,
			      through > sync->stored_through ? through : 0,
			      &n_new, &n_dup, error)) {
		/* Nothing stored, nothing acked: the roller keeps them and
		 * the next sync brings them again. */
		sync->stats.commit_failures++;
		g_array_set_size(sync->pending, 0);
		return FALSE;
	}
	sync->stats.commits++;
	sync->stats.passes_new += n_new;
	sync->stats.passes_duplicate += n_dup;
	g_hash_table_iter_init(&it, batch);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (GPOINTER_TO_UINT(key) > through)
			g_hash_table_add(sync->ahead, key);
	sync->stored_through = through;
	sync->stats.stored_through = through;
	prune_ahead(sync);
	g_array_set_size(sync->pending, 0);

	for (guint i = 0; i < foreign->len; i++) {
		g_autoptr(GError) err = NULL;
		int64_t id = g_array_index(foreign, int64_t, i);

		if (!sync_recompute_zone_results(sync->store, id, &err))
			g_warning("sync: %s", err->message);
	}
	maybe_ack(sync);
	maybe_resync(sync);
	return TRUE;
}

static void flush_or_report(struct sync *sync)
{
	GError *error = NULL;

	if (!sync_flush(sync, &error))
		fail(sync, error);
}

static gboolean flush_idle(gpointer data)
{
	struct sync *sync = data;

	sync->flush_source = 0;
	flush_or_report(sync);
	return G_SOURCE_REMOVE;
}

void sync_pass(struct sync *sync, const struct dp_pass *pass, bool from_history)
{
	struct store_pass sp = {
		.dev = *pass,
		.started_ms = sync_pass_time(sync, pass),
		.dir_class = zone_classify_angle(pass->angle_deg),
		.source = from_history ? STORE_SOURCE_OFFLINE : STORE_SOURCE_LIVE,
	};

	if (sync->roller_id == 0)
		return;
	g_array_append_val(sync->pending, sp);
	if (sync->pending->len >= BATCH_MAX)
		flush_or_report(sync);
	else if (!sync->flush_source)
		sync->flush_source = g_idle_add(flush_idle, sync);
}

void sync_log_end(struct sync *sync, const struct dp_log_end *end)
{
	if (!sync->stats.syncing)
		return;
	flush_or_report(sync);
	g_debug("sync: log end, %u..%u, %u sent", end->first_seq, end->next_seq, end->sent);
	finish_sync(sync, NULL);
}

void sync_disconnected(struct sync *sync)
{
	flush_or_report(sync);
	sync->stats.syncing = false;
	sync->ack_in_flight = false;
	if (sync->link) {
		link_unref(sync->link);
		sync->link = NULL;
	}
}

/* ---- Connect ---- */

static void time_set(struct link *link, const struct dp_response *rsp,
		     const GError *error, void *user_data)
{
	struct sync *sync = ((struct anchor *)user_data)->target;

	if (sync && !error && rsp->result != DP_RES_OK)
		g_warning("sync: the roller refused to set its clock (result %u)", rsp->result);
}

gboolean sync_connected(struct sync *sync, struct link *link,
			const struct dp_info *info, GError **error)
{
	struct store_sync_state state;
	struct dp_command cmd = { .opcode = DP_OP_SET_TIME };
	int64_t now = engine_clock_now(sync->clock);
	int64_t witness = now, fitted = now;

	sync->info = *info;
	sync->connected_at_ms = now;
	sync->clock_was_set = info->clock_flags & DP_STATUS_CLOCK_SET;
	sync->unset_offset_ms = now - (int64_t)info->clock_ms;
	if (!store_roller_update(sync->store, info->serial, info->firmware, now,
				 &sync->roller_id, error))
		return FALSE;
	if (sync->clock_was_set) {
		/* SAFETY.md: the roller's clock is the second witness. */
		witness = MAX(now, EPOCH_MS + (int64_t)info->clock_ms);
		if (!store_device_clock_set(sync->store, sync->roller_id, info->clock_ms,
					    now, error))
			return FALSE;
		if (info->head_fitted_ms)
			fitted = EPOCH_MS + (int64_t)info->head_fitted_ms;
	}
	if (!store_time_seen_bump(sync->store, witness, &sync->latest_seen, error) ||
	    !store_head_fit(sync->store, sync->roller_id, info->head_serial,
			    info->needle_um, fitted, info->head_uses, &sync->head_id,
			    error) ||
	    !store_sync_state(sync->store, sync->roller_id, &state, error))
		return FALSE;

	if (sync->link)
		link_unref(sync->link);
	sync->link = link_ref(link);
	/* A new process, or a sync answer that never came: from what the
	 * store holds, never from memory alone. */
	if (state.acked_seq > sync->stored_through)
		sync->stored_through = state.acked_seq;
	sync->stats.stored_through = sync->stored_through;
	prune_ahead(sync);
	sync->ack_target = 0;
	sync->ack_in_flight = false;
	sync->sync_end = 0;
	sync->log_mismatch = false;
	sync->stats.synced = false;

	if (sync->latest_seen >= EPOCH_MS) {
		cmd.u.time_ms = (uint64_t)(sync->latest_seen - EPOCH_MS);
		send_command(sync, &cmd, time_set);
	}
	start_sync(sync);
	return TRUE;
}
