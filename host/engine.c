/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session engine (engine.h).  One roller session (START_SESSION) covers
 * the whole routine; later zones move it with SET_ZONE, so the head's use
 * count goes up once per routine (PROTOCOL.md "Sessions").
 */
#define G_LOG_DOMAIN "dermaroll-engine"

#include <string.h>

#include "anchor.h"
#include "engine.h"

#define EPOCH_MS (DP_EPOCH_UNIX_S * 1000)

G_DEFINE_QUARK(dermaroll-engine-error-quark, engine_error)

struct pending_override {
	uint8_t zone;
	enum store_override_kind kind;
	char *reason;
	int64_t at_ms;
};

struct zone_state {
	struct engine_zone_counts c;
	struct policy_verdict verdict;
	bool have_verdict;
	double force_ms;             /* sum of mean force x duration */
	uint64_t duration_ms;
	bool target_reached;
};

struct engine {
	const struct policy *policy;
	struct store *store;
	const struct engine_clock *clock;
	const struct engine_handler *handler;
	void *user_data;
	struct anchor *anchor;
	struct sync *sync;

	struct link *link;
	bool connected;              /* link up, roller info read */
	bool synced;                 /* ... and the connect-time sync done */
	struct dp_info info;
	struct dp_status status;
	bool have_status;
	bool warned_log_full;

	enum engine_state state;
	enum engine_state paused_from;
	struct engine_options opts;

	struct policy_checklist checklist;
	int64_t answered_at[POLICY_CHECKLIST_MAX]; /* 0: not answered */
	GPtrArray *overrides;        /* struct pending_override, not yet stored */

	int64_t session_id;
	int64_t started_ms;
	unsigned int head_uses;      /* at routine start: sessions before this one */
	GArray *device_sessions;     /* uint16_t: the roller's numbers for this session */
	bool roller_session;         /* the roller has our session running */
	bool starting;               /* START_SESSION in flight */
	/* PROTOCOL.md §8.7: a START_SESSION whose answer was lost may have
	 * run.  Until that is settled, a roller session numbered after the
	 * one the roller reported before it (start_before), on the zone it
	 * asked for, that no stored session claims, is this routine's. */
	bool start_unanswered;
	uint8_t start_zone;
	bool start_before_known;
	uint16_t start_before;
	bool stopping;               /* STOP_SESSION in flight */
	bool restarted;              /* a stale roller session was stopped once */
	bool aborted;                /* finished before the last zone */

	unsigned int order;          /* guidance position of the current zone */
	int zone;                    /* current zone, 0 outside the zones */
	struct zone_state zones[ZONE_COUNT + 1];
	GHashTable *counted;         /* seqs counted in this session */
};

static int64_t system_now(void *user_data)
{
	return g_get_real_time() / 1000;
}

static int32_t system_offset(int64_t at_ms, void *user_data)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_local();
	gint interval = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, at_ms / 1000);

	return interval < 0 ? 0 : g_time_zone_get_offset(tz, interval);
}

static const struct engine_clock system_clock = {
	.now_ms = system_now,
	.utc_offset_s = system_offset,
};

const struct engine_clock *engine_clock_system(void)
{
	return &system_clock;
}

const char *engine_state_name(enum engine_state state)
{
	static const char *const names[] = {
		[ENGINE_STATE_IDLE] = "idle",
		[ENGINE_STATE_CHECKLIST] = "checklist",
		[ENGINE_STATE_WAITING] = "waiting",
		[ENGINE_STATE_ZONE_LOCKED] = "zone-locked",
		[ENGINE_STATE_ROLLING] = "rolling",
		[ENGINE_STATE_PAUSED] = "paused",
		[ENGINE_STATE_AFTERCARE] = "aftercare",
		[ENGINE_STATE_FINISHED] = "finished",
	};

	return (unsigned int)state < G_N_ELEMENTS(names) ? names[state] : NULL;
}

static void pending_override_free(gpointer data)
{
	struct pending_override *po = data;

	g_free(po->reason);
	g_free(po);
}

/* ---- Events ---- */

static void set_state(struct engine *e, enum engine_state state)
{
	if (e->state == state)
		return;
	g_debug("engine: %s -> %s", engine_state_name(e->state), engine_state_name(state));
	e->state = state;
	if (e->handler && e->handler->state_changed)
		e->handler->state_changed(e, state, e->user_data);
}

static void warn(struct engine *e, enum engine_warning_kind kind, int zone,
		 enum zone_dir dir, uint32_t seq, const char *message)
{
	struct engine_warning w = {
		.kind = kind, .zone = zone, .dir = dir, .seq = seq, .message = message,
	};

	g_info("engine: warning: %s", message);
	if (e->handler && e->handler->warning)
		e->handler->warning(e, &w, e->user_data);
}

static void warn_error(struct engine *e, enum engine_warning_kind kind,
		       const GError *error)
{
	warn(e, kind, 0, ZONE_DIR_HORIZONTAL, 0, error->message);
}

static int64_t now_ms(const struct engine *e)
{
	return engine_clock_now(e->clock);
}

static bool zone_selected(const struct engine *e, int zone)
{
	return e->zones[zone].c.status != ENGINE_ZONE_NOT_SELECTED;
}

/* ---- The stored session ---- */

static bool owns_device_session(const struct engine *e, uint16_t device_session)
{
	for (guint i = 0; i < e->device_sessions->len; i++)
		if (g_array_index(e->device_sessions, uint16_t, i) == device_session)
			return true;
	return false;
}

static gboolean store_pending(struct engine *e, GError **error)
{
	unsigned int n = policy_checklist_count(e->policy);

	for (unsigned int i = 0; i < n && i < POLICY_CHECKLIST_MAX; i++) {
		const struct policy_checklist_item *item = policy_checklist_item(e->policy, i);

		if (!e->answered_at[i])
			continue;
		if (!store_checklist_set(e->store, e->session_id, item->id,
					 e->checklist.answer[i] == POLICY_ANSWER_YES,
					 e->answered_at[i], error))
			return FALSE;
	}
	while (e->overrides->len) {
		struct pending_override *po = g_ptr_array_index(e->overrides, 0);

		if (!store_override_add(e->store, e->session_id, po->zone, po->kind,
					po->reason, po->at_ms, error))
			return FALSE;
		g_ptr_array_remove_index(e->overrides, 0);
	}
	return TRUE;
}

/* The stored session begins when the roller has numbered it, so that
 * passes it logs while no host listens find their way back to it. */
static gboolean begin_session(struct engine *e, uint16_t device_session, GError **error)
{
	struct store_session_start start = {
		.roller_id = sync_roller_id(e->sync),
		.head_id = sync_head_id(e->sync),
		.device_session = device_session,
		.started_ms = e->started_ms,
		.utc_offset_s = engine_clock_offset(e->clock, e->started_ms),
		.plan_name = e->opts.plan ? plan_path(e->opts.plan) : NULL,
		.plan_date = e->opts.plan ? plan_signed(e->opts.plan) : NULL,
	};

	if (!e->session_id &&
	    !store_session_begin(e->store, &start, &e->session_id, error))
		return FALSE;
	return store_pending(e, error);
}

static void record_zone(struct engine *e, int zone)
{
	const struct engine_zone_counts *c = &e->zones[zone].c;
	struct store_zone_result r = {
		.zone = (uint8_t)zone,
		.mean_force_cn = c->mean_force_cn,
		.peak_force_cn = c->peak_force_cn,
		.over_warn_ms = c->over_warn_ms,
		.started_ms = c->started_ms,
		.ended_ms = c->ended_ms,
	};
	g_autoptr(GError) error = NULL;

	if (!e->session_id || c->total == 0)
		return;
	for (int d = 0; d < ZONE_DIR_COUNT; d++)
		r.passes[d] = (uint16_t)MIN(c->passes[d], G_MAXUINT16);
	if (!store_zone_result_record(e->store, e->session_id, &r, &error))
		warn_error(e, ENGINE_WARNING_STORE, error);
}

/* ---- Zones ---- */

static void enter_zone(struct engine *e);
static void end_routine(struct engine *e, bool aborted);

static bool zone_target_reached(const struct engine *e, int zone)
{
	struct policy_passes pp;

	policy_get_passes(e->policy, zone, &pp);
	for (int d = 0; d < ZONE_DIR_COUNT; d++)
		if (e->zones[zone].c.passes[d] < pp.target_per_direction)
			return false;
	return true;
}

/* The next selected zone at or after guidance position @from, or 0. */
static int next_selected(const struct engine *e, unsigned int from, unsigned int *order)
{
	for (unsigned int o = from; o < ZONE_COUNT; o++) {
		const struct zone_info *zi = zone_by_order(o);

		if (zi && zone_selected(e, zi->id) &&
		    e->zones[zi->id].c.status == ENGINE_ZONE_PENDING) {
			*order = o;
			return zi->id;
		}
	}
	return 0;
}

static void leave_zone(struct engine *e, enum engine_zone_status status)
{
	int zone = e->zone;
	unsigned int order;

	if (zone) {
		e->zones[zone].c.status = status;
		record_zone(e, zone);
	}
	e->zone = next_selected(e, e->order, &order);
	if (!e->zone) {
		end_routine(e, false);
		return;
	}
	e->order = order;
	enter_zone(e);
}

static void maybe_advance(struct engine *e)
{
	if (e->opts.auto_advance && e->state == ENGINE_STATE_ROLLING && e->zone &&
	    zone_target_reached(e, e->zone))
		leave_zone(e, ENGINE_ZONE_DONE);
}

static void start_roller_session(struct engine *e);
static void session_stopped(struct link *link, const struct dp_response *rsp,
			    const GError *error, void *user_data);

static void session_started(struct link *link, const struct dp_response *rsp,
			    const GError *error, void *user_data);
static void session_running(struct engine *e, uint16_t number, bool found);
static void count_pass(struct engine *e, const struct dp_pass *p);

static void stopped_then_start(struct link *link, const struct dp_response *rsp,
			       const GError *error, void *user_data)
{
	struct engine *e = ((struct anchor *)user_data)->target;

	if (!e)
		return;
	e->starting = false;
	if (error)
		return;
	start_roller_session(e);
}

static void send_command(struct engine *e, const struct dp_command *cmd,
			 link_command_func func)
{
	/* As in sync.c: a link that is up takes the command and unrefs the
	 * anchor whatever happens. */
	if (!e->link || !link_is_connected(e->link))
		return;
	link_command(e->link, cmd, func, anchor_ref(e->anchor), anchor_unref);
}

static void start_roller_session(struct engine *e)
{
	struct dp_command cmd = { .opcode = DP_OP_START_SESSION };

	if (e->starting || !e->connected || !e->synced)
		return;
	if (!e->start_unanswered) {
		e->start_before_known = e->have_status;
		e->start_before = e->have_status ? e->status.session : 0;
	}
	e->starting = true;
	e->start_zone = (uint8_t)e->zone;
	cmd.u.zone = (uint8_t)e->zone;
	send_command(e, &cmd, session_started);
}

/* PROTOCOL.md §8.7: could the roller's session @number be the one an
 * unanswered START_SESSION of this routine started? */
static bool started_by_us(struct engine *e, uint16_t number, uint8_t zone)
{
	int64_t id = 0;

	if (!(e->starting || e->start_unanswered) || number == 0 ||
	    zone != e->start_zone || owns_device_session(e, number))
		return false;
	/* Running before our START: a session a host that died left. */
	if (e->start_before_known && number == e->start_before)
		return false;
	/* A session another run of dermaroll began is stored with its
	 * number; ours is not stored yet. */
	if (!sync_roller_id(e->sync) ||
	    !store_session_find(e->store, sync_roller_id(e->sync), number, &id, NULL))
		return false;
	return id == 0;
}

/* Passes of the roller's session @number stored before the engine knew
 * it was this routine's (its START_SESSION answer was lost): into the
 * session, and counted. */
static void claim_passes(struct engine *e, uint16_t number)
{
	int64_t roller = sync_roller_id(e->sync);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) loose = NULL;
	g_autoptr(GArray) mine = NULL;

	if (!e->session_id || !roller)
		return;
	/* What is still buffered goes in with session_for(), now ours. */
	if (!sync_flush(e->sync, &error))
		goto fail;
	loose = store_unassigned_passes(e->store, roller, &error);
	if (!loose)
		goto fail;
	for (guint i = 0; i < loose->len; i++) {
		const struct store_pass *p = &g_array_index(loose, struct store_pass, i);

		if (p->dev.session == number &&
		    !store_pass_assign(e->store, roller, p->dev.seq, e->session_id,
				       p->dev.zone, &error))
			goto fail;
	}
	mine = store_session_passes(e->store, e->session_id, &error);
	if (!mine)
		goto fail;
	for (guint i = 0; i < mine->len; i++) {
		const struct store_pass *p = &g_array_index(mine, struct store_pass, i);

		if (p->dev.session == number &&
		    g_hash_table_add(e->counted, GUINT_TO_POINTER(p->dev.seq)))
			count_pass(e, &p->dev);
	}
	return;
fail:
	warn_error(e, ENGINE_WARNING_STORE, error);
}

static void session_started(struct link *link, const struct dp_response *rsp,
			    const GError *error, void *user_data)
{
	struct engine *e = ((struct anchor *)user_data)->target;
	struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };
	g_autofree char *msg = NULL;

	if (!e)
		return;
	e->starting = false;
	if (error) {
		/* Link lost: resumed on reconnect.  The roller may have
		 * started the session all the same (§8.7). */
		if (!e->roller_session)
			e->start_unanswered = true;
		return;
	}
	switch (rsp->result) {
	case DP_RES_OK:
		break;
	case DP_RES_INVALID_STATE:
		/* §8.7: our earlier START ran; STATUS shows its session. */
		if (e->have_status && e->status.state == DP_STATE_SESSION &&
		    started_by_us(e, e->status.session, e->status.zone)) {
			session_running(e, e->status.session, true);
			return;
		}
		if (e->restarted)
			goto refused;
		/* A session a host that died left running on the roller:
		 * stop it (its passes keep its number), then start ours. */
		e->restarted = true;
		g_info("engine: the roller still runs a session: stopping it first");
		e->starting = true;
		send_command(e, &stop, stopped_then_start);
		return;
	default:
	refused:
		msg = g_strdup_printf(rsp->result == DP_RES_LOG_FULL ?
			"The roller's memory is full, so it cannot start a session. "
			"Keep it connected until its history is saved, then try again." :
			"The roller refused to start the session (result %u).", rsp->result);
		warn(e, ENGINE_WARNING_ROLLER, e->zone, ZONE_DIR_HORIZONTAL, 0, msg);
		if (e->state == ENGINE_STATE_ROLLING || e->state == ENGINE_STATE_WAITING)
			set_state(e, ENGINE_STATE_ZONE_LOCKED);
		return;
	}
	session_running(e, rsp->u.start.session, false);
}

/* The roller runs this routine's session @number: from START_SESSION's
 * answer, or found after that answer was lost (@found, §8.7). */
static void session_running(struct engine *e, uint16_t number, bool found)
{
	struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };
	g_autoptr(GError) err = NULL;

	if (found)
		g_info("engine: the roller's session %u is the one our unanswered "
		       "START_SESSION started", number);
	if (!owns_device_session(e, number))
		g_array_append_val(e->device_sessions, number);
	e->roller_session = true;
	e->start_unanswered = false;
	if (!begin_session(e, number, &err))
		warn_error(e, ENGINE_WARNING_STORE, err);
	else if (found)
		claim_passes(e, number);
	if (e->state == ENGINE_STATE_AFTERCARE || e->state == ENGINE_STATE_FINISHED) {
		/* Finished while the answer was on its way. */
		if (e->connected && !e->stopping) {
			e->stopping = true;
			send_command(e, &stop, session_stopped);
		}
		return;
	}
	/* While the link comes back, on_synced() goes on. */
	if (!e->synced)
		return;
	if (e->zone && (e->state == ENGINE_STATE_WAITING ||
			e->state == ENGINE_STATE_ZONE_LOCKED)) {
		set_state(e, ENGINE_STATE_ROLLING);
		maybe_advance(e);
	}
}

static void zone_set(struct link *link, const struct dp_response *rsp,
		     const GError *error, void *user_data)
{
	struct engine *e = ((struct anchor *)user_data)->target;

	if (!e || error)
		return;
	if (rsp->result == DP_RES_INVALID_STATE) {
		/* The roller lost our session (restarted): a new one, which
		 * the stored session also owns. */
		e->roller_session = false;
		if (e->state == ENGINE_STATE_ROLLING)
			start_roller_session(e);
	} else if (rsp->result != DP_RES_OK) {
		g_info("engine: the roller refused SET_ZONE (result %u)", rsp->result);
	}
}

/* The roller rolls for the current zone. */
static void activate_zone(struct engine *e)
{
	struct dp_command cmd = { .opcode = DP_OP_SET_ZONE };

	e->zones[e->zone].c.status = ENGINE_ZONE_ACTIVE;
	if (!e->roller_session) {
		start_roller_session(e);
		return;
	}
	cmd.u.zone = (uint8_t)e->zone;
	send_command(e, &cmd, zone_set);
	set_state(e, ENGINE_STATE_ROLLING);
	maybe_advance(e);
}

static void query_zone(struct engine *e, int zone, const char *override_reason,
		       struct policy_verdict *out)
{
	struct policy_query q = {
		.zone = zone,
		.needle_um = e->info.needle_um,
		.head_uses = e->head_uses,
		.head_fitted = POLICY_TIME_NONE,
		.last_session = POLICY_TIME_NONE,
		.now = now_ms(e) / 1000,
		.latest_seen = POLICY_TIME_NONE,
		.checklist = &e->checklist,
		.override_reason = override_reason,
		.plan = e->opts.plan,
		.tz = e->opts.tz,
	};
	struct store_head head = { 0 };
	struct store_zone_last last = { 0 };
	g_autoptr(GError) error = NULL;
	int64_t latest = 0;

	/* The interval counts from the end of the last pass on the zone:
	 * the stricter of the store's two answers (SAFETY.md). */
	/* Every pass stored on the zone counts, however its time compares with
	 * ours: a roller whose clock runs ahead must not hide a session.  The
	 * zone is queried before this routine rolls on it. */
	if (!store_zone_last_treated(e->store, (uint8_t)zone, 0, &last, &error) ||
	    !store_time_seen_bump(e->store, now_ms(e), &latest, &error) ||
	    !store_head_current(e->store, sync_roller_id(e->sync), &head, &error)) {
		/* Without the history the interval cannot be checked: refuse. */
		warn_error(e, ENGINE_WARNING_STORE, error);
		q.now = -1;
	}
	if (last.treated_ms)
		q.last_session = last.treated_ms / 1000;
	latest = MAX(latest, sync_latest_seen(e->sync));
	if (latest)
		q.latest_seen = latest / 1000;
	if (head.id && head.fitted_ms)
		q.head_fitted = head.fitted_ms / 1000;
	store_head_clear(&head);
	policy_check_zone(e->policy, &q, out);
}

static void enter_zone(struct engine *e)
{
	struct zone_state *zs = &e->zones[e->zone];

	query_zone(e, e->zone, NULL, &zs->verdict);
	zs->have_verdict = true;
	if (zs->verdict.allowed) {
		activate_zone(e);
		return;
	}
	zs->c.status = ENGINE_ZONE_LOCKED;
	set_state(e, ENGINE_STATE_ZONE_LOCKED);
	warn(e, ENGINE_WARNING_ZONE_LOCKED, e->zone, ZONE_DIR_HORIZONTAL, 0,
	     zs->verdict.message);
}

static void begin_routine(struct engine *e)
{
	unsigned int order;
	int64_t latest = 0;

	/* A clock set back must not hide earlier sessions (SAFETY.md): the
	 * routine starts at the latest time seen, and the interval queries
	 * count the passes that started before it. */
	if (store_time_seen(e->store, &latest, NULL))
		latest = MAX(latest, sync_latest_seen(e->sync));
	e->started_ms = MAX(now_ms(e), latest);
	e->head_uses = e->info.head_uses;
	e->zone = next_selected(e, 0, &order);
	if (!e->zone) {
		end_routine(e, false);
		return;
	}
	e->order = order;
	enter_zone(e);
}

static void session_stopped(struct link *link, const struct dp_response *rsp,
			    const GError *error, void *user_data)
{
	struct engine *e = ((struct anchor *)user_data)->target;

	if (!e)
		return;
	e->stopping = false;
	if (!error)
		e->roller_session = false;
}

static void end_routine(struct engine *e, bool aborted)
{
	struct dp_command cmd = { .opcode = DP_OP_STOP_SESSION };

	e->aborted = aborted;
	if (e->zone && e->zones[e->zone].c.status == ENGINE_ZONE_ACTIVE) {
		e->zones[e->zone].c.status = aborted ? ENGINE_ZONE_SKIPPED : ENGINE_ZONE_DONE;
		record_zone(e, e->zone);
	}
	for (int z = 1; z <= ZONE_COUNT; z++)
		if (e->zones[z].c.status == ENGINE_ZONE_PENDING ||
		    e->zones[z].c.status == ENGINE_ZONE_LOCKED)
			e->zones[z].c.status = ENGINE_ZONE_SKIPPED;
	e->zone = 0;
	if (e->roller_session && e->connected && !e->stopping) {
		e->stopping = true;
		send_command(e, &cmd, session_stopped);
	}
	set_state(e, ENGINE_STATE_AFTERCARE);
}

/* ---- Passes ---- */

static void count_pass(struct engine *e, const struct dp_pass *p)
{
	struct zone_state *zs;
	struct engine_zone_counts *c;
	struct policy_pressure_bands bands;
	struct policy_pass_verdict pv;
	enum zone_dir dir = zone_classify_angle(p->angle_deg);
	int64_t start = sync_pass_time(e->sync, p);
	int zone = p->zone;
	g_autofree char *msg = NULL;
	const struct zone_info *zi;

	if (zone < 1 || zone > ZONE_COUNT)
		return;
	zi = zone_get(zone);
	zs = &e->zones[zone];
	c = &zs->c;
	if (c->total == 0 || start < c->started_ms)
		c->started_ms = start;
	c->ended_ms = MAX(c->ended_ms, start + p->duration_ms);
	c->passes[dir]++;
	c->total++;
	c->peak_force_cn = MAX(c->peak_force_cn, p->peak_force_cn);
	c->over_warn_ms += p->over_warn_ms;
	zs->force_ms += (double)p->mean_force_cn * p->duration_ms;
	zs->duration_ms += p->duration_ms;
	c->mean_force_cn = zs->duration_ms ?
		(uint16_t)(zs->force_ms / (double)zs->duration_ms + 0.5) : p->mean_force_cn;

	/* SAFETY.md "Pressure": too light under the target band, too hard
	 * over the warning band (for any part of the pass). */
	policy_get_pressure_bands(e->policy, &bands);
	if (p->mean_force_cn < bands.too_light_below_cn) {
		c->too_light++;
		msg = g_strdup_printf("That pass on the %s was too light (%.1f N): press a "
				      "little harder.", zi->phrase, p->mean_force_cn / 100.0);
		warn(e, ENGINE_WARNING_TOO_LIGHT, zone, dir, p->seq, msg);
		g_clear_pointer(&msg, g_free);
	}
	if (p->peak_force_cn > bands.warn_above_cn || p->over_warn_ms > 0) {
		c->too_hard++;
		msg = g_strdup_printf("That pass on the %s was too hard (up to %.1f N): "
				      "press more gently.", zi->phrase, p->peak_force_cn / 100.0);
		warn(e, ENGINE_WARNING_TOO_HARD, zone, dir, p->seq, msg);
	}
	/* SAFETY.md "Passes": a pass beyond the maximum is counted, recorded
	 * and warned about, never dropped. */
	policy_check_pass(e->policy, zone, dir, c->passes[dir], c->total, &pv);
	if (pv.warn)
		warn(e, ENGINE_WARNING_MAX_PASSES, zone, dir, p->seq, pv.message);
	if (e->handler && e->handler->counts_changed)
		e->handler->counts_changed(e, c, e->user_data);
	if (zone == e->zone)
		maybe_advance(e);
}

/* ---- Link events ---- */

/* The link is back (and synced) in the middle of the current zone. */
static void continue_zone(struct engine *e)
{
	struct dp_command cmd = { .opcode = DP_OP_SET_ZONE };

	if (!e->roller_session) {
		start_roller_session(e);
		return;
	}
	/* Re-assert the zone: a roller that restarted answers
	 * INVALID_STATE and gets a new session (zone_set). */
	cmd.u.zone = (uint8_t)e->zone;
	send_command(e, &cmd, zone_set);
	set_state(e, ENGINE_STATE_ROLLING);
	maybe_advance(e);
}

static void resume(struct engine *e)
{
	enum engine_state to = e->paused_from;

	g_info("engine: link back: resuming (%s)", engine_state_name(to));
	set_state(e, to);
	/* A zone being rolled, or one whose override was accepted while its
	 * START_SESSION was on its way. */
	if (to == ENGINE_STATE_ROLLING ||
	    (to == ENGINE_STATE_ZONE_LOCKED && e->zone &&
	     e->zones[e->zone].c.status == ENGINE_ZONE_ACTIVE))
		continue_zone(e);
}

static void on_synced(void *user_data, const GError *error)
{
	struct engine *e = user_data;

	e->synced = true;
	if (error)
		warn_error(e, ENGINE_WARNING_ROLLER, error);
	if (e->handler && e->handler->connection)
		e->handler->connection(e, true, NULL, e->user_data);
	if (e->state == ENGINE_STATE_WAITING && e->zone) {
		/* The first zone's START_SESSION went with the link. */
		g_info("engine: link back: starting the %s again", zone_get(e->zone)->phrase);
		continue_zone(e);
	} else if (e->state == ENGINE_STATE_WAITING) {
		begin_routine(e);
	} else if (e->state == ENGINE_STATE_PAUSED) {
		resume(e);
	} else if ((e->state == ENGINE_STATE_AFTERCARE ||
		    e->state == ENGINE_STATE_FINISHED) && e->roller_session &&
		   !e->stopping) {
		/* STOP_SESSION went with the link. */
		struct dp_command stop = { .opcode = DP_OP_STOP_SESSION };

		e->stopping = true;
		send_command(e, &stop, session_stopped);
	}
}

static void on_sync_failed(void *user_data, const GError *error)
{
	warn_error(user_data, ENGINE_WARNING_STORE, error);
}

static int64_t session_for(void *user_data, uint16_t device_session)
{
	struct engine *e = user_data;

	return e->session_id && owns_device_session(e, device_session) ? e->session_id : 0;
}

static bool owns_session(void *user_data, int64_t session_id)
{
	struct engine *e = user_data;

	return e->session_id == session_id && e->state != ENGINE_STATE_FINISHED;
}

static const struct sync_ops sync_ops = {
	.session_for = session_for,
	.owns_session = owns_session,
	.synced = on_synced,
	.failed = on_sync_failed,
};

static void link_connected(struct link *link, const struct dp_info *info, void *user_data)
{
	struct engine *e = user_data;
	g_autoptr(GError) error = NULL;

	e->info = *info;
	e->connected = true;
	e->synced = false;
	if (!sync_connected(e->sync, link, info, &error))
		warn_error(e, ENGINE_WARNING_STORE, error);
}

static void link_disconnected(struct link *link, const GError *error, void *user_data)
{
	struct engine *e = user_data;

	e->connected = false;
	e->synced = false;
	e->have_status = false;
	sync_disconnected(e->sync);
	if (e->state == ENGINE_STATE_ROLLING || e->state == ENGINE_STATE_ZONE_LOCKED) {
		e->paused_from = e->state;
		set_state(e, ENGINE_STATE_PAUSED);
	}
	if (error->code != LINK_ERROR_CLOSED)
		warn_error(e, ENGINE_WARNING_LINK, error);
	if (e->handler && e->handler->connection)
		e->handler->connection(e, false, error->message, e->user_data);
}

static void link_force(struct link *link, uint64_t time_ms, const struct dp_force *force,
		       void *user_data)
{
	struct engine *e = user_data;
	struct engine_force f = { .device_ms = time_ms };

	if (!force->count)
		return;
	f.last_cn = force->cn[force->count - 1];
	for (unsigned int i = 0; i < force->count; i++)
		f.peak_cn = MAX(f.peak_cn, force->cn[i]);
	f.band = policy_classify_force(e->policy, f.last_cn);
	if (e->handler && e->handler->force)
		e->handler->force(e, &f, e->user_data);
}

static void link_pass(struct link *link, const struct dp_pass *pass, bool from_history,
		      void *user_data)
{
	struct engine *e = user_data;

	sync_pass(e->sync, pass, from_history);
	if (!e->roller_session && started_by_us(e, pass->session, pass->zone))
		session_running(e, pass->session, true);
	if (!owns_device_session(e, pass->session) ||
	    !g_hash_table_add(e->counted, GUINT_TO_POINTER(pass->seq)))
		return;
	count_pass(e, pass);
}

static void link_status(struct link *link, const struct dp_status *status, void *user_data)
{
	struct engine *e = user_data;

	e->status = *status;
	e->have_status = true;
	if (e->start_unanswered && !e->roller_session &&
	    status->state == DP_STATE_SESSION &&
	    started_by_us(e, status->session, status->zone))
		session_running(e, status->session, true);
	if ((status->flags & DP_STATUS_LOG_NEARLY_FULL) && !e->warned_log_full) {
		e->warned_log_full = true;
		warn(e, ENGINE_WARNING_ROLLER, 0, ZONE_DIR_HORIZONTAL, 0,
		     "The roller's memory is nearly full: keep it connected until its "
		     "history is saved.");
	}
}

static void link_log_end(struct link *link, const struct dp_log_end *end, void *user_data)
{
	sync_log_end(((struct engine *)user_data)->sync, end);
}

static void link_problem(struct link *link, enum link_problem problem, const char *detail,
			 void *user_data)
{
	/* Lost frames come back through the offline log (sync.c); nothing
	 * for the user to do. */
	g_info("engine: link problem: %s", detail);
}

static const struct link_handler link_handler = {
	.connected = link_connected,
	.disconnected = link_disconnected,
	.force = link_force,
	.pass = link_pass,
	.status = link_status,
	.log_end = link_log_end,
	.problem = link_problem,
};

/* ---- Life cycle ---- */

struct engine *engine_new(const struct policy *policy, struct store *store,
			  const struct engine_clock *clock,
			  const struct engine_handler *handler, void *user_data)
{
	struct engine *e = g_new0(struct engine, 1);

	e->policy = policy;
	e->store = store;
	e->clock = clock ? clock : engine_clock_system();
	e->handler = handler;
	e->user_data = user_data;
	e->anchor = anchor_new(e);
	e->sync = sync_new(store, e->clock, &sync_ops, e);
	e->overrides = g_ptr_array_new_with_free_func(pending_override_free);
	e->device_sessions = g_array_new(FALSE, FALSE, sizeof(uint16_t));
	e->counted = g_hash_table_new(NULL, NULL);
	for (int z = 0; z <= ZONE_COUNT; z++)
		e->zones[z].c.zone = z;
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	/* The owner is going away: no more events while the link closes
	 * (its last passes are still committed). */
	e->handler = NULL;
	engine_set_link(e, NULL);
	anchor_cut(e->anchor);
	sync_free(e->sync);
	g_ptr_array_unref(e->overrides);
	g_array_unref(e->device_sessions);
	g_hash_table_unref(e->counted);
	g_free(e);
}

void engine_set_link(struct engine *e, struct link *link)
{
	struct link *old = e->link;

	if (old == link)
		return;
	if (old) {
		/* Closing reports the disconnect through our handler first. */
		if (link_is_connected(old))
			link_close(old);
		link_set_handler(old, NULL, NULL);
		e->link = NULL;
		link_unref(old);
	}
	if (!link)
		return;
	e->link = link_ref(link);
	link_set_handler(link, &link_handler, e);
	if (link_is_connected(link))
		link_connected(link, link_info(link), e);
}

bool engine_is_connected(const struct engine *e)
{
	return e->connected && e->synced;
}

/* ---- Requests ---- */

static gboolean wrong_state(const struct engine *e, GError **error)
{
	g_set_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE,
		    "That is not possible now (the routine is at: %s).",
		    engine_state_name(e->state));
	return FALSE;
}

gboolean engine_start(struct engine *e, const struct engine_options *opts,
		      GError **error)
{
	guint32 zones;

	if (e->state != ENGINE_STATE_IDLE)
		return wrong_state(e, error);
	e->opts = *opts;
	zones = opts->zones;
	if (!zones) {
		for (int z = 1; z <= ZONE_COUNT; z++)
			if (zone_get(z)->zclass == ZONE_CLASS_FACE)
				zones |= POLICY_ZONE_BIT(z);
	}
	if (zones & ~(((guint32)1 << (ZONE_COUNT + 1)) - 2)) {
		g_set_error_literal(error, ENGINE_ERROR, ENGINE_ERROR_INVALID,
				    "The routine names a zone that does not exist.");
		return FALSE;
	}
	for (int z = 1; z <= ZONE_COUNT; z++)
		e->zones[z].c.status = (zones & POLICY_ZONE_BIT(z)) ?
			ENGINE_ZONE_PENDING : ENGINE_ZONE_NOT_SELECTED;
	set_state(e, ENGINE_STATE_CHECKLIST);
	return TRUE;
}

gboolean engine_answer_checklist(struct engine *e, unsigned int index, bool yes,
				 guint32 zones, GError **error)
{
	if (e->state != ENGINE_STATE_CHECKLIST)
		return wrong_state(e, error);
	if (index >= policy_checklist_count(e->policy) || index >= POLICY_CHECKLIST_MAX) {
		g_set_error(error, ENGINE_ERROR, ENGINE_ERROR_INVALID,
			    "There is no checklist question number %u.", index + 1);
		return FALSE;
	}
	e->checklist.answer[index] = yes ? POLICY_ANSWER_YES : POLICY_ANSWER_NO;
	e->checklist.zones[index] = zones;
	e->answered_at[index] = now_ms(e);
	return TRUE;
}

gboolean engine_checklist_done(struct engine *e, GError **error)
{
	unsigned int n = policy_checklist_count(e->policy);

	if (e->state != ENGINE_STATE_CHECKLIST)
		return wrong_state(e, error);
	for (unsigned int i = 0; i < n && i < POLICY_CHECKLIST_MAX; i++) {
		if (!e->answered_at[i]) {
			g_set_error(error, ENGINE_ERROR, ENGINE_ERROR_CHECKLIST,
				    "Please answer every question first: \"%s\"",
				    policy_checklist_item(e->policy, i)->question);
			return FALSE;
		}
	}
	set_state(e, ENGINE_STATE_WAITING);
	if (e->connected && e->synced)
		begin_routine(e);
	return TRUE;
}

static bool in_zone_state(const struct engine *e)
{
	return e->state == ENGINE_STATE_ROLLING || e->state == ENGINE_STATE_ZONE_LOCKED ||
	       (e->state == ENGINE_STATE_PAUSED && e->zone);
}

gboolean engine_next_zone(struct engine *e, GError **error)
{
	if (!in_zone_state(e) || e->state == ENGINE_STATE_PAUSED)
		return wrong_state(e, error);
	leave_zone(e, e->zones[e->zone].c.status == ENGINE_ZONE_ACTIVE ?
		   ENGINE_ZONE_DONE : ENGINE_ZONE_SKIPPED);
	return TRUE;
}

gboolean engine_skip_zone(struct engine *e, GError **error)
{
	if (!in_zone_state(e) || e->state == ENGINE_STATE_PAUSED)
		return wrong_state(e, error);
	leave_zone(e, ENGINE_ZONE_SKIPPED);
	return TRUE;
}

static const struct {
	enum policy_reason reason;
	enum store_override_kind kind;
} override_kinds[] = {
	{ POLICY_REASON_HEAD_WORN, STORE_OVERRIDE_HEAD_WEAR },
	{ POLICY_REASON_CHECKLIST, STORE_OVERRIDE_CHECKLIST },
	{ POLICY_REASON_INTERVAL, STORE_OVERRIDE_INTERVAL },
};

gboolean engine_override(struct engine *e, const char *reason, GError **error)
{
	struct zone_state *zs;
	struct policy_verdict v;
	g_autoptr(GError) why = NULL;

	if (e->state != ENGINE_STATE_ZONE_LOCKED || !e->zone)
		return wrong_state(e, error);
	zs = &e->zones[e->zone];
	if (!policy_check_override_reason(e->policy, reason, &why)) {
		g_set_error_literal(error, ENGINE_ERROR, ENGINE_ERROR_OVERRIDE, why->message);
		return FALSE;
	}
	query_zone(e, e->zone, reason, &v);
	if (!v.allowed) {
		g_set_error_literal(error, ENGINE_ERROR, ENGINE_ERROR_OVERRIDE, v.message);
		return FALSE;
	}
	/* SAFETY.md "Overrides": the reason is stored with the session, once
	 * per lock it passed. */
	for (size_t i = 0; i < G_N_ELEMENTS(override_kinds); i++) {
		struct pending_override *po;

		if (!(v.locks & POLICY_LOCK(override_kinds[i].reason)))
			continue;
		po = g_new0(struct pending_override, 1);
		po->zone = (uint8_t)e->zone;
		po->kind = override_kinds[i].kind;
		po->reason = g_strdup(reason);
		po->at_ms = now_ms(e);
		g_ptr_array_add(e->overrides, po);
	}
	zs->verdict = v;
	zs->c.overridden = true;
	if (e->session_id && !store_pending(e, &why)) {
		g_set_error_literal(error, ENGINE_ERROR, ENGINE_ERROR_STORE, why->message);
		return FALSE;
	}
	activate_zone(e);
	return TRUE;
}

gboolean engine_finish(struct engine *e, GError **error)
{
	g_autoptr(GError) err = NULL;
	int64_t end = now_ms(e);

	if (in_zone_state(e) || e->state == ENGINE_STATE_WAITING) {
		end_routine(e, true);
		return TRUE;
	}
	if (e->state != ENGINE_STATE_AFTERCARE)
		return wrong_state(e, error);
	/* A routine where no zone was treated is still a session: its
	 * checklist answers and overrides are kept. */
	if (!e->session_id && sync_roller_id(e->sync) && !begin_session(e, 0, &err))
		goto fail;
	for (int z = 1; z <= ZONE_COUNT; z++)
		record_zone(e, z);
	if (e->session_id &&
	    !store_session_end(e->store, e->session_id, end,
			       e->aborted ? STORE_SESSION_ABORTED : STORE_SESSION_COMPLETED,
			       &err))
		goto fail;
	set_state(e, ENGINE_STATE_FINISHED);
	return TRUE;

fail:
	g_set_error_literal(error, ENGINE_ERROR, ENGINE_ERROR_STORE, err->message);
	return FALSE;
}

/* ---- Queries ---- */

enum engine_state engine_state(const struct engine *e)
{
	return e->state;
}

int engine_current_zone(const struct engine *e)
{
	return e->zone;
}

const struct engine_zone_counts *engine_zone_counts(const struct engine *e, int zone)
{
	return zone >= 1 && zone <= ZONE_COUNT ? &e->zones[zone].c : NULL;
}

const struct policy_verdict *engine_zone_verdict(const struct engine *e, int zone)
{
	if (zone < 1 || zone > ZONE_COUNT || !e->zones[zone].have_verdict)
		return NULL;
	return &e->zones[zone].verdict;
}

int64_t engine_session_id(const struct engine *e)
{
	return e->session_id;
}

const struct dp_status *engine_roller_status(const struct engine *e)
{
	return e->have_status ? &e->status : NULL;
}

const struct sync_stats *engine_sync_stats(const struct engine *e)
{
	return sync_stats(e->sync);
}

bool engine_sync_idle(const struct engine *e)
{
	return e->connected && e->synced && sync_idle(e->sync);
}
