/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session engine with a pinned clock, against an in-process virtual
 * roller (autopilot, high speed) over a socketpair, and a history store in
 * a temporary folder.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "dp/link-msg.h"

#include "engine.h"
#include "virtual-roller.h"

/* 2026-03-02T09:00:00Z */
#define T0_MS G_GINT64_CONSTANT(1772442000000)
#define DAY_MS G_GINT64_CONSTANT(86400000)
#define SPEED 100.0
/* Only an upper bound for a failing test: meson's own limit (longer under
 * valgrind, --setup valgrind) normally ends a hung test first. */
#define WAIT_S 600

#define ZB(z) POLICY_ZONE_BIT(z)

typedef struct store_session StoreSession;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreSession, store_session_free)

struct fixture {
	char *dir;
	struct policy *policy;
	struct store *store;
	struct virtual_roller *vr;
	struct engine *engine;
	struct engine_clock clock;
	int64_t now_ms;

	GString *states;             /* "checklist,waiting,..." */
	unsigned int warnings[ENGINE_WARNING_STORE + 1];
	unsigned int warned_zone[ZONE_COUNT + 1];
	unsigned int counts_events;
	unsigned int connections, disconnections;
	unsigned int force_events;
	GArray *too_hard_seqs;       /* uint32_t */
	GArray *too_light_seqs;
	GArray *max_seqs;
	void *data;                  /* the test's own */
};

static int64_t pinned_now(void *user_data)
{
	return ((struct fixture *)user_data)->now_ms;
}

static int32_t pinned_offset(int64_t at_ms, void *user_data)
{
	return 3600;
}

static void on_state(struct engine *e, enum engine_state state, void *data)
{
	struct fixture *f = data;

	if (f->states->len)
		g_string_append_c(f->states, ',');
	g_string_append(f->states, engine_state_name(state));
}

static void on_counts(struct engine *e, const struct engine_zone_counts *c, void *data)
{
	((struct fixture *)data)->counts_events++;
}

static void on_warning(struct engine *e, const struct engine_warning *w, void *data)
{
	struct fixture *f = data;

	g_assert_cmpint(w->kind, <=, ENGINE_WARNING_STORE);
	g_assert_nonnull(w->message);
	g_assert_cmpuint(strlen(w->message), >, 10);
	f->warnings[w->kind]++;
	f->warned_zone[w->zone]++;
	if (w->kind == ENGINE_WARNING_TOO_HARD)
		g_array_append_val(f->too_hard_seqs, w->seq);
	else if (w->kind == ENGINE_WARNING_TOO_LIGHT)
		g_array_append_val(f->too_light_seqs, w->seq);
	else if (w->kind == ENGINE_WARNING_MAX_PASSES)
		g_array_append_val(f->max_seqs, w->seq);
}

static void on_force(struct engine *e, const struct engine_force *force, void *data)
{
	g_assert_cmpuint(force->peak_cn, >=, force->last_cn);
	((struct fixture *)data)->force_events++;
}

static void on_connection(struct engine *e, bool connected, const char *message, void *data)
{
	struct fixture *f = data;

	if (connected) {
		g_assert_null(message);
		f->connections++;
	} else {
		g_assert_nonnull(message);
		f->disconnections++;
	}
}

static const struct engine_handler handler = {
	.state_changed = on_state,
	.counts_changed = on_counts,
	.warning = on_warning,
	.force = on_force,
	.connection = on_connection,
};

static struct link *attach(struct fixture *f)
{
	g_autoptr(GError) error = NULL;
	struct link *link;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_true(virtual_roller_attach(f->vr, sv[0], &error));
	g_assert_no_error(error);
	link = link_socket_new(sv[1], &error);
	g_assert_no_error(error);
	g_assert_nonnull(link);
	return link;
}

/* A link that loses START_SESSION's answer (PROTOCOL.md §8.7): the link
 * talks to this proxy, the proxy to the roller.  Everything is passed on
 * until START_SESSION has gone to the roller; then its RESPONSE indication
 * is dropped (and, with mute, every STREAM notification too), and the test
 * cuts the link when it likes, as a radio would. */
struct proxy {
	int host_fd;                 /* the link's peer */
	int roller_fd;               /* the roller's peer */
	guint host_watch, roller_watch;
	bool mute;
	bool start_sent;
	unsigned int responses_dropped;
	unsigned int stream_dropped;
};

static void proxy_cut(struct proxy *p)
{
	g_clear_handle_id(&p->host_watch, g_source_remove);
	g_clear_handle_id(&p->roller_watch, g_source_remove);
	if (p->host_fd >= 0)
		close(p->host_fd);
	if (p->roller_fd >= 0)
		close(p->roller_fd);
	p->host_fd = p->roller_fd = -1;
}

static bool proxy_pass_on(struct proxy *p, int from, int to, bool from_host)
{
	uint8_t buf[DP_MSG_MAX + 16];
	struct dp_msg msg;
	ssize_t n = recv(from, buf, sizeof(buf), 0);

	if (n <= 0)
		return false;
	g_assert_cmpint(dp_msg_decode(buf, (size_t)n, &msg), ==, DP_OK);
	if (from_host && msg.op == DP_MSG_WRITE && msg.chr == DP_CHAR_CONTROL) {
		struct dp_command cmd;

		g_assert_cmpint(dp_command_decode(msg.value, msg.value_len, &cmd), ==, DP_OK);
		if (cmd.opcode == DP_OP_START_SESSION)
			p->start_sent = true;
	} else if (!from_host && p->start_sent && msg.op == DP_MSG_INDICATE &&
		   msg.chr == DP_CHAR_CONTROL) {
		p->responses_dropped++;
		return true;
	} else if (!from_host && p->start_sent && p->mute && msg.op == DP_MSG_NOTIFY &&
		   msg.chr == DP_CHAR_STREAM) {
		p->stream_dropped++;
		return true;
	}
	g_assert_cmpint(send(to, buf, (size_t)n, MSG_NOSIGNAL), ==, n);
	return true;
}

static gboolean proxy_from_host(int fd, GIOCondition cond, gpointer data)
{
	struct proxy *p = data;

	if (proxy_pass_on(p, p->host_fd, p->roller_fd, true))
		return G_SOURCE_CONTINUE;
	p->host_watch = 0;
	proxy_cut(p);
	return G_SOURCE_REMOVE;
}

static gboolean proxy_from_roller(int fd, GIOCondition cond, gpointer data)
{
	struct proxy *p = data;

	if (proxy_pass_on(p, p->roller_fd, p->host_fd, false))
		return G_SOURCE_CONTINUE;
	p->roller_watch = 0;
	proxy_cut(p);
	return G_SOURCE_REMOVE;
}

static struct link *attach_through(struct fixture *f, struct proxy *p)
{
	g_autoptr(GError) error = NULL;
	struct link *link;
	int to_host[2], to_roller[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, to_host), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, to_roller), ==, 0);
	p->host_fd = to_host[0];
	p->roller_fd = to_roller[1];
	p->host_watch = g_unix_fd_add(p->host_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
				      proxy_from_host, p);
	p->roller_watch = g_unix_fd_add(p->roller_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
					proxy_from_roller, p);
	g_assert_true(virtual_roller_attach(f->vr, to_roller[0], &error));
	g_assert_no_error(error);
	link = link_socket_new(to_host[1], &error);
	g_assert_no_error(error);
	return link;
}

static void fixture_roller(struct fixture *f, gboolean autopilot)
{
	struct virtual_roller_options opts;
	g_autoptr(GError) error = NULL;

	virtual_roller_options_default(&opts);
	opts.speed = SPEED;
	opts.seed = 7;
	opts.autopilot = autopilot;
	f->vr = virtual_roller_new(&opts, &error);
	g_assert_no_error(error);
}

static void fixture_engine(struct fixture *f)
{
	struct link *link;

	g_string_truncate(f->states, 0);
	memset(f->warnings, 0, sizeof(f->warnings));
	memset(f->warned_zone, 0, sizeof(f->warned_zone));
	g_array_set_size(f->too_hard_seqs, 0);
	g_array_set_size(f->too_light_seqs, 0);
	g_array_set_size(f->max_seqs, 0);
	f->engine = engine_new(f->policy, f->store, &f->clock, &handler, f);
	link = attach(f);
	engine_set_link(f->engine, link);
	link_unref(link);
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	f->dir = g_dir_make_tmp("test-engine-XXXXXX", &error);
	g_assert_no_error(error);
	path = g_build_filename(f->dir, "history.db", NULL);
	f->store = store_open(path, STORE_OPEN_CREATE, &error);
	g_assert_no_error(error);
	f->policy = policy_load_default(&error);
	g_assert_no_error(error);
	f->now_ms = T0_MS;
	f->clock = (struct engine_clock) { pinned_now, pinned_offset, f };
	f->states = g_string_new(NULL);
	f->too_hard_seqs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	f->too_light_seqs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	f->max_seqs = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	fixture_roller(f, data == NULL);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autofree char *db = g_build_filename(f->dir, "history.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	engine_free(f->engine);
	virtual_roller_unref(f->vr);
	store_close(f->store);
	policy_free(f->policy);
	g_unlink(db);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(f->dir);
	g_string_free(f->states, TRUE);
	g_array_unref(f->too_hard_seqs);
	g_array_unref(f->too_light_seqs);
	g_array_unref(f->max_seqs);
	/* Sources the link and the roller left must not leak into the next
	 * test. */
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static gboolean timed_out(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

typedef gboolean (*cond_func)(struct fixture *f);

static void run_until(struct fixture *f, cond_func cond, const char *what)
{
	gboolean expired = FALSE;
	guint id = g_timeout_add_seconds(WAIT_S, timed_out, &expired);

	while (!cond(f) && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (expired)
		g_error("timed out waiting for %s (states: %s)", what, f->states->str);
	g_source_remove(id);
}

static gboolean is_checklist_ready(struct fixture *f)
{
	return engine_is_connected(f->engine);
}

static gboolean is_aftercare(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_AFTERCARE;
}

static gboolean is_rolling(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_ROLLING;
}

static gboolean is_locked(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_ZONE_LOCKED;
}

static gboolean is_detached(struct fixture *f)
{
	return !virtual_roller_is_attached(f->vr);
}

static gboolean is_sync_idle(struct fixture *f)
{
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);

	return engine_sync_idle(f->engine) && dp_log_count(&fw->log) == 0;
}

/* Answers every question the safe way, except @yes_item (or -1) with
 * @zones. */
static void answer_checklist(struct fixture *f, int yes_item, guint32 zones)
{
	unsigned int n = policy_checklist_count(f->policy);
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(n, >=, 8);
	for (unsigned int i = 0; i < n; i++) {
		const struct policy_checklist_item *it = policy_checklist_item(f->policy, i);
		bool yes = (int)i == yes_item ? true : !it->refuse_if_yes;

		g_assert_true(engine_answer_checklist(f->engine, i, yes,
						      (int)i == yes_item ? zones : 0, &error));
		g_assert_no_error(error);
	}
	g_assert_true(engine_checklist_done(f->engine, &error));
	g_assert_no_error(error);
}

static void start_routine(struct fixture *f, guint32 zones, bool auto_advance)
{
	struct engine_options opts = { .zones = zones, .auto_advance = auto_advance };
	g_autoptr(GError) error = NULL;

	g_assert_true(engine_start(f->engine, &opts, &error));
	g_assert_no_error(error);
	run_until(f, is_checklist_ready, "the roller to connect and sync");
}

static void finish(struct fixture *f)
{
	g_autoptr(GError) error = NULL;

	run_until(f, is_aftercare, "aftercare");
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_FINISHED);
	run_until(f, is_sync_idle, "the last passes to be committed and acked");
}

static struct store_session *stored_session(struct fixture *f, int64_t id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = store_history(f->store, &(struct store_history_filter){ 0 },
						  &error);

	g_assert_no_error(error);
	for (guint i = 0; i < list->len; i++) {
		struct store_session *ss = g_ptr_array_index(list, i);

		if (ss->id == id)
			return g_ptr_array_steal_index(list, i);
	}
	g_assert_not_reached();
}

static const struct store_zone_result *zone_result(const struct store_session *ss, int zone)
{
	for (guint i = 0; i < ss->zones->len; i++) {
		const struct store_zone_result *r =
			&g_array_index(ss->zones, struct store_zone_result, i);

		if (r->zone == zone)
			return r;
	}
	return NULL;
}

/* The counts of @zone agree with the stored passes of the session, figure
 * by figure, and the stored zone result with both. */
static void check_zone_against_store(struct fixture *f, int zone, const GArray *passes)
{
	const struct engine_zone_counts *c = engine_zone_counts(f->engine, zone);
	g_autoptr(StoreSession) ss = stored_session(f, engine_session_id(f->engine));
	const struct store_zone_result *r = zone_result(ss, zone);
	unsigned int dirs[ZONE_DIR_COUNT] = { 0 }, total = 0, hard = 0, light = 0;
	uint16_t peak = 0;
	uint32_t over = 0;

	for (guint i = 0; i < passes->len; i++) {
		const struct store_pass *p = &g_array_index(passes, struct store_pass, i);

		if (p->dev.zone != zone)
			continue;
		g_assert_cmpint(p->dir_class, ==, zone_classify_angle(p->dev.angle_deg));
		dirs[p->dir_class]++;
		total++;
		peak = MAX(peak, p->dev.peak_force_cn);
		over += p->dev.over_warn_ms;
		hard += p->dev.peak_force_cn > 500 || p->dev.over_warn_ms > 0;
		light += p->dev.mean_force_cn < 100;
	}
	g_assert_nonnull(r);
	for (int d = 0; d < ZONE_DIR_COUNT; d++) {
		g_assert_cmpuint(c->passes[d], ==, dirs[d]);
		g_assert_cmpuint(r->passes[d], ==, dirs[d]);
	}
	g_assert_cmpuint(c->total, ==, total);
	g_assert_cmpuint(c->peak_force_cn, ==, peak);
	g_assert_cmpuint(r->peak_force_cn, ==, peak);
	g_assert_cmpuint(c->over_warn_ms, ==, over);
	g_assert_cmpuint(r->over_warn_ms, ==, over);
	g_assert_cmpuint(r->mean_force_cn, ==, c->mean_force_cn);
	g_assert_cmpuint(c->too_hard, ==, hard);
	g_assert_cmpuint(c->too_light, ==, light);
}

/* Every seq from 1 to the roller's next seq - 1 is stored once, and the
 * roller has freed them all. */
static GArray *check_all_stored(struct fixture *f)
{
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);
	g_autoptr(GError) error = NULL;
	GArray *passes = store_session_passes(f->store, engine_session_id(f->engine), &error);
	g_autoptr(GArray) loose = NULL;
	g_autoptr(GPtrArray) rollers = store_rollers(f->store, true, &error);
	guint expect = fw->log.next_seq - 1, total;

	g_assert_no_error(error);
	g_assert_cmpuint(rollers->len, ==, 1);
	loose = store_unassigned_passes(f->store,
					((struct store_roller *)rollers->pdata[0])->id, &error);
	g_assert_no_error(error);
	total = passes->len + loose->len;
	g_assert_cmpuint(total, ==, expect);
	for (guint i = 0; i < passes->len; i++)
		g_assert_cmpuint(g_array_index(passes, struct store_pass, i).dev.seq, ==,
				 i + 1 + loose->len);
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 0);
	g_assert_cmpuint(engine_sync_stats(f->engine)->stored_through, ==, expect);
	g_assert_cmpuint(engine_sync_stats(f->engine)->acked_seq, ==, expect);
	return passes;
}

/* ---- Tests ---- */

static void test_routine(struct fixture *f, gconstpointer data)
{
	static const int zones[] = { DP_ZONE_FOREHEAD, DP_ZONE_LEFT_CHEEK, DP_ZONE_NOSE };
	g_autoptr(GArray) passes = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreSession) ss = NULL;
	g_autoptr(GPtrArray) answers = NULL;
	unsigned int hard = 0, light = 0;

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_FOREHEAD) | ZB(DP_ZONE_LEFT_CHEEK) | ZB(DP_ZONE_NOSE),
		      true);
	g_assert_cmpstr(f->states->str, ==, "checklist");
	answer_checklist(f, -1, 0);
	finish(f);
	g_assert_cmpstr(f->states->str, ==, "checklist,waiting,rolling,aftercare,finished");
	g_assert_cmpuint(f->connections, ==, 1);
	g_assert_cmpuint(f->disconnections, ==, 0);
	g_assert_cmpuint(f->force_events, >, 100);

	passes = check_all_stored(f);
	/* The autopilot rolls 4 passes in each direction on each zone: the
	 * target, so each zone advanced by itself. */
	g_assert_cmpuint(passes->len, ==, 36);
	for (guint i = 0; i < G_N_ELEMENTS(zones); i++) {
		const struct engine_zone_counts *c = engine_zone_counts(f->engine, zones[i]);

		g_assert_cmpint(c->status, ==, ENGINE_ZONE_DONE);
		g_assert_cmpuint(c->passes[ZONE_DIR_HORIZONTAL], ==, 4);
		g_assert_cmpuint(c->passes[ZONE_DIR_VERTICAL], ==, 4);
		g_assert_cmpuint(c->passes[ZONE_DIR_DIAGONAL], ==, 4);
		g_assert_cmpuint(c->total, ==, 12);
		g_assert_false(c->overridden);
		g_assert_cmpint(c->started_ms, <, c->ended_ms);
		check_zone_against_store(f, zones[i], passes);
		hard += c->too_hard;
		light += c->too_light;
	}
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_CHIN)->status, ==,
			ENGINE_ZONE_NOT_SELECTED);
	g_assert_cmpuint(f->counts_events, ==, 36);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_TOO_HARD], ==, hard);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_TOO_LIGHT], ==, light);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_MAX_PASSES], ==, 0);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_ZONE_LOCKED], ==, 0);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_STORE], ==, 0);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_LINK], ==, 0);
	for (guint i = 0; i < passes->len; i++) {
		const struct store_pass *p = &g_array_index(passes, struct store_pass, i);

		g_assert_cmpint(p->source, ==, STORE_SOURCE_LIVE);
		g_assert_false(p->dev.flags & DP_PASS_CLOCK_UNSET);
		/* The roller's clock was set to the pinned clock at connect. */
		g_assert_cmpint(p->started_ms, >=, T0_MS);
		g_assert_cmpint(p->started_ms, <, T0_MS + 10 * 60 * 1000);
	}

	ss = stored_session(f, engine_session_id(f->engine));
	g_assert_cmpint(ss->state, ==, STORE_SESSION_COMPLETED);
	g_assert_cmpint(ss->started_ms, ==, T0_MS);
	g_assert_cmpint(ss->ended_ms, ==, T0_MS);
	g_assert_cmpint(ss->utc_offset_s, ==, 3600);
	g_assert_cmpuint(ss->device_session, ==, 1);
	g_assert_cmpuint(ss->zones->len, ==, 3);
	answers = store_checklist(f->store, ss->id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(answers->len, ==, policy_checklist_count(f->policy));
	g_assert_cmpint(virtual_roller_firmware(f->vr)->state, ==, DP_STATE_IDLE);
}

static gboolean zone1_has_passes(struct fixture *f)
{
	return engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->total >= 3;
}

static uint32_t detached_from;

static gboolean rolled_while_away(struct fixture *f)
{
	return virtual_roller_firmware(f->vr)->log.next_seq >= detached_from + 3;
}

static gboolean is_paused(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_PAUSED;
}

/* A dropped link pauses the routine; the passes rolled meanwhile come from
 * the offline log on reconnect, are counted once, and the routine goes on. */
static void test_pause_resume(struct fixture *f, gconstpointer data)
{
	g_autoptr(GArray) passes = NULL;
	struct link *link;
	unsigned int offline = 0;

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_FOREHEAD) | ZB(DP_ZONE_CHIN), true);
	answer_checklist(f, -1, 0);
	run_until(f, zone1_has_passes, "passes on the forehead");

	detached_from = virtual_roller_firmware(f->vr)->log.next_seq;
	virtual_roller_detach(f->vr);
	run_until(f, is_paused, "the pause");
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_LINK], ==, 1);
	g_assert_cmpuint(f->disconnections, ==, 1);
	g_assert_false(engine_is_connected(f->engine));
	run_until(f, rolled_while_away, "passes rolled with no host");

	link = attach(f);
	engine_set_link(f->engine, link);
	link_unref(link);
	finish(f);
	g_assert_cmpstr(f->states->str, ==,
			"checklist,waiting,rolling,paused,rolling,aftercare,finished");
	g_assert_cmpuint(f->connections, ==, 2);

	passes = check_all_stored(f);
	g_assert_cmpuint(passes->len, ==, 24);
	for (guint i = 0; i < passes->len; i++)
		offline += g_array_index(passes, struct store_pass, i).source ==
			   STORE_SOURCE_OFFLINE;
	g_assert_cmpuint(offline, >=, 3);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->total, ==, 12);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_CHIN)->total, ==, 12);
	g_assert_cmpuint(f->counts_events, ==, 24);
	check_zone_against_store(f, DP_ZONE_FOREHEAD, passes);
	check_zone_against_store(f, DP_ZONE_CHIN, passes);
	g_assert_cmpuint(engine_sync_stats(f->engine)->syncs, >=, 2);
}

/* SAFETY.md "Before each session": a yes in the area locks only the zones
 * named; the routine goes on with the next one. */
static void test_checklist_lock(struct fixture *f, gconstpointer data)
{
	const struct policy_verdict *v;
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreSession) ss = NULL;
	g_autoptr(GPtrArray) answers = NULL;
	int sunburn = policy_checklist_find(f->policy, "sunburn");

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_FOREHEAD) | ZB(DP_ZONE_LEFT_CHEEK), false);
	g_assert_false(engine_checklist_done(f->engine, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_CHECKLIST);
	g_clear_error(&error);
	g_assert_cmpint(sunburn, >=, 0);
	answer_checklist(f, sunburn, ZB(DP_ZONE_FOREHEAD));

	run_until(f, is_locked, "the forehead to be locked");
	g_assert_cmpint(engine_current_zone(f->engine), ==, DP_ZONE_FOREHEAD);
	v = engine_zone_verdict(f->engine, DP_ZONE_FOREHEAD);
	g_assert_nonnull(v);
	g_assert_false(v->allowed);
	g_assert_cmpint(v->reason, ==, POLICY_REASON_CHECKLIST);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_ZONE_LOCKED], ==, 1);
	g_assert_cmpuint(f->warned_zone[DP_ZONE_FOREHEAD], ==, 1);
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->status, ==,
			ENGINE_ZONE_LOCKED);

	g_assert_true(engine_skip_zone(f->engine, &error));
	g_assert_no_error(error);
	run_until(f, is_rolling, "the left cheek");
	g_assert_cmpint(engine_current_zone(f->engine), ==, DP_ZONE_LEFT_CHEEK);
	g_assert_true(engine_zone_verdict(f->engine, DP_ZONE_LEFT_CHEEK)->allowed);
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->status, ==,
			ENGINE_ZONE_SKIPPED);

	/* Finishing early: aftercare, then an aborted session. */
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	finish(f);
	g_assert_cmpstr(f->states->str, ==,
			"checklist,waiting,zone-locked,rolling,aftercare,finished");
	ss = stored_session(f, engine_session_id(f->engine));
	g_assert_cmpint(ss->state, ==, STORE_SESSION_ABORTED);
	answers = store_checklist(f->store, ss->id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(answers->len, ==, policy_checklist_count(f->policy));
	for (guint i = 0; i < answers->len; i++) {
		struct store_checklist_answer *a = answers->pdata[i];

		g_assert_cmpint(a->yes, ==, g_str_equal(a->item, "sunburn") ||
				g_str_equal(a->item, "sanitised"));
	}
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_LEFT_CHEEK)->status, ==,
			ENGINE_ZONE_SKIPPED);
}

/* SAFETY.md intervals: a zone treated yesterday (0.5 mm: 21 days) is locked;
 * a short reason does not pass it, one typed in full does, and is stored. */
static void test_interval_override(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) overrides = NULL;
	const struct policy_verdict *v;
	struct store_override *o;
	const char *reason = "Dermatologist asked for a second pass this week";

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_NOSE), true);
	answer_checklist(f, -1, 0);
	finish(f);
	engine_free(f->engine);
	f->engine = NULL;
	run_until(f, is_detached, "the roller to see the host leave");

	f->now_ms = T0_MS + DAY_MS;
	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_NOSE), true);
	answer_checklist(f, -1, 0);
	run_until(f, is_locked, "the nose to be locked");
	v = engine_zone_verdict(f->engine, DP_ZONE_NOSE);
	g_assert_cmpint(v->reason, ==, POLICY_REASON_INTERVAL);
	g_assert_true(v->override_possible);
	g_assert_cmpint(v->interval_s, ==, 21 * 86400);
	g_assert_cmpuint(engine_session_id(f->engine), ==, 0);

	g_assert_false(engine_override(f->engine, "ok", &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_OVERRIDE);
	g_clear_error(&error);
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_ZONE_LOCKED);
	g_assert_true(engine_override(f->engine, reason, &error));
	g_assert_no_error(error);
	finish(f);
	g_assert_cmpstr(f->states->str, ==,
			"checklist,waiting,zone-locked,rolling,aftercare,finished");
	g_assert_true(engine_zone_counts(f->engine, DP_ZONE_NOSE)->overridden);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_NOSE)->total, ==, 12);

	overrides = store_overrides(f->store, engine_session_id(f->engine), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(overrides->len, ==, 1);
	o = overrides->pdata[0];
	g_assert_cmpint(o->kind, ==, STORE_OVERRIDE_INTERVAL);
	g_assert_cmpuint(o->zone, ==, DP_ZONE_NOSE);
	g_assert_cmpstr(o->reason, ==, reason);
	g_assert_cmpint(o->at_ms, ==, T0_MS + DAY_MS);
}

/* SAFETY.md: after a session, a clock set back 30 days does not open the
 * zone's lock; the earlier session still counts. */
static void test_clock_set_back(struct fixture *f, gconstpointer data)
{
	const struct policy_verdict *v;

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_NOSE), true);
	answer_checklist(f, -1, 0);
	finish(f);
	engine_free(f->engine);
	f->engine = NULL;
	run_until(f, is_detached, "the roller to see the host leave");

	f->now_ms = T0_MS - 30 * DAY_MS;
	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_NOSE), true);
	answer_checklist(f, -1, 0);
	run_until(f, is_locked, "the nose to be locked");
	v = engine_zone_verdict(f->engine, DP_ZONE_NOSE);
	g_assert_cmpint(v->reason, ==, POLICY_REASON_INTERVAL);
	g_assert_false(v->allowed);
}

/* SAFETY.md "Passes" and "Pressure": rolled by hand (no autopilot) — six
 * horizontal passes (the sixth beyond the maximum of 5: counted, stored,
 * warned), one too light, one too hard. */
static void test_max_passes_and_pressure(struct fixture *f, gconstpointer data)
{
	struct dp_stroke strokes[16];
	g_autoptr(GArray) passes = NULL;
	g_autoptr(GError) error = NULL;
	unsigned int n = 0;

	for (int i = 0; i < 6; i++) {
		strokes[n++] = (struct dp_stroke) {
			.kind = DP_STROKE_ROLL, .zone = DP_ZONE_FOREHEAD,
			.direction = i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD,
			.angle_deg = 90, .distance_mm = 40, .speed_mm_s = 60,
			.force_cn = i == 2 ? 620 : 250,
		};
	}
	strokes[n++] = (struct dp_stroke) {
		.kind = DP_STROKE_ROLL, .zone = DP_ZONE_FOREHEAD, .direction = DP_DIR_FORWARD,
		.angle_deg = 0, .distance_mm = 40, .speed_mm_s = 60, .force_cn = 60,
	};

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_FOREHEAD), false);
	answer_checklist(f, -1, 0);
	run_until(f, is_rolling, "the forehead");
	virtual_roller_roll(f->vr, strokes, n);
	while (engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->total < n)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(engine_next_zone(f->engine, &error));
	g_assert_no_error(error);
	finish(f);

	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->passes[ZONE_DIR_HORIZONTAL],
			 ==, 6);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->passes[ZONE_DIR_VERTICAL],
			 ==, 1);
	g_assert_cmpuint(f->max_seqs->len, ==, 1);
	g_assert_cmpuint(g_array_index(f->max_seqs, uint32_t, 0), ==, 6);
	g_assert_cmpuint(f->too_hard_seqs->len, ==, 1);
	g_assert_cmpuint(g_array_index(f->too_hard_seqs, uint32_t, 0), ==, 3);
	g_assert_cmpuint(f->too_light_seqs->len, ==, 1);
	g_assert_cmpuint(g_array_index(f->too_light_seqs, uint32_t, 0), ==, 7);
	passes = check_all_stored(f);
	g_assert_cmpuint(passes->len, ==, 7);
	check_zone_against_store(f, DP_ZONE_FOREHEAD, passes);
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->status, ==,
			ENGINE_ZONE_DONE);
}

static gboolean twelve_stored(struct fixture *f)
{
	return engine_sync_stats(f->engine)->passes_new == 12;
}

/* A roller whose log is behind what the history holds for its serial (a
 * roller reset): SYNC is refused, the user is warned once, nothing is
 * acked (the roller keeps every pass), and the routine still runs and
 * stores its passes. */
static void test_log_behind_history(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) passes = NULL;
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);
	int64_t roller_id;

	g_assert_true(store_roller_update(f->store, "DR-SIM-0001", "sim-0", T0_MS - DAY_MS,
					  &roller_id, &error));
	g_assert_true(store_acked_seq_set(f->store, roller_id, 100, &error));
	g_assert_no_error(error);
	g_test_expect_message("dermaroll-sync", G_LOG_LEVEL_WARNING, "*does not match*");
	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_CHIN), true);
	g_test_assert_expected_messages();
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_ROLLER], ==, 1);
	answer_checklist(f, -1, 0);
	run_until(f, is_aftercare, "aftercare");
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_CHIN)->total, ==, 12);
	run_until(f, twelve_stored, "the passes to be committed");
	g_assert_cmpuint(engine_sync_stats(f->engine)->acked_seq, ==, 0);
	g_assert_cmpuint(engine_sync_stats(f->engine)->stored_through, ==, 100);
	g_assert_false(engine_sync_idle(f->engine));
	passes = store_session_passes(f->store, engine_session_id(f->engine), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(passes->len, ==, 12);
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 12);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_ROLLER], ==, 1);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_STORE], ==, 0);
}

static gboolean roller_stopped(struct fixture *f)
{
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);

	return fw->session_counter == 1 && fw->state == DP_STATE_IDLE;
}

/* Finishing while START_SESSION is on its way: the session the roller then
 * starts is stopped at once, and stored as aborted with no zone. */
static void test_finish_while_starting(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreSession) ss = NULL;

	fixture_engine(f);
	start_routine(f, ZB(DP_ZONE_FOREHEAD), true);
	answer_checklist(f, -1, 0);
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_WAITING);
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_AFTERCARE);
	run_until(f, roller_stopped, "the roller's session to be stopped");
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(f->states->str, ==, "checklist,waiting,aftercare,finished");
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->status, ==,
			ENGINE_ZONE_SKIPPED);
	ss = stored_session(f, engine_session_id(f->engine));
	g_assert_cmpint(ss->state, ==, STORE_SESSION_ABORTED);
	g_assert_cmpuint(ss->device_session, ==, 1);
	g_assert_cmpuint(ss->zones->len, ==, 0);
}

/* PROTOCOL.md §8.7: START_SESSION ran on the roller but its answer was
 * lost with the link, as a command timeout under load does.  The session
 * the roller started is the routine's: its passes, live before the drop
 * (or, with mute, only from the offline log after it), and those rolled
 * while the host was away, are counted and stored in the session, and the
 * roller is not made to start another.  Rolled by hand: 4 passes in each
 * direction (the forehead's target), 3 before the drop, 9 after. */
static gboolean start_answer_dropped(struct fixture *f)
{
	return ((struct proxy *)f->data)->responses_dropped > 0;
}

static gboolean engine_saw_three(struct fixture *f)
{
	return engine_sync_stats(f->engine)->passes_new >= 3;
}

static gboolean roller_logged_three(struct fixture *f)
{
	return virtual_roller_firmware(f->vr)->log.next_seq >= 4;
}

static gboolean roller_logged_twelve(struct fixture *f)
{
	return virtual_roller_firmware(f->vr)->log.next_seq >= 13 &&
	       virtual_roller_is_resting(f->vr);
}

static gboolean roller_idle(struct fixture *f)
{
	return virtual_roller_firmware(f->vr)->state == DP_STATE_IDLE;
}

static gboolean is_down(struct fixture *f)
{
	return f->disconnections == 1 && is_detached(f);
}

static void roll(struct fixture *f, unsigned int from, unsigned int to)
{
	static const uint8_t angles[] = { 90, 0, 45 };   /* horizontal, vertical, diagonal */
	struct dp_stroke strokes[12];

	for (unsigned int i = from; i < to; i++)
		strokes[i - from] = (struct dp_stroke) {
			.kind = DP_STROKE_ROLL, .zone = DP_ZONE_FOREHEAD,
			.direction = i % 2 ? DP_DIR_BACKWARD : DP_DIR_FORWARD,
			.angle_deg = angles[i % 3], .distance_mm = 40, .speed_mm_s = 60,
			.force_cn = 250,
		};
	virtual_roller_roll(f->vr, strokes, to - from);
}

static void test_start_answer_lost(struct fixture *f, gconstpointer data)
{
	bool mute = g_str_equal(data, "mute");
	struct proxy p = { .host_fd = -1, .roller_fd = -1, .mute = mute };
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);
	g_autoptr(GArray) passes = NULL;
	g_autoptr(StoreSession) ss = NULL;
	struct link *link;
	unsigned int offline = 0;

	f->data = &p;
	f->engine = engine_new(f->policy, f->store, &f->clock, &handler, f);
	link = attach_through(f, &p);
	engine_set_link(f->engine, link);
	link_unref(link);
	start_routine(f, ZB(DP_ZONE_FOREHEAD), true);
	answer_checklist(f, -1, 0);
	run_until(f, start_answer_dropped, "START_SESSION's answer");
	g_assert_cmpuint(fw->session_counter, ==, 1);
	g_assert_cmpint(fw->state, ==, DP_STATE_SESSION);
	/* Passes of the roller's session reach the engine (muted: only the
	 * roller's log) while the answer never comes; then the link drops. */
	roll(f, 0, 3);
	run_until(f, mute ? roller_logged_three : engine_saw_three, "3 passes");
	proxy_cut(&p);
	run_until(f, is_down, "the link to drop");
	g_assert_cmpuint(p.responses_dropped, ==, 1);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_LINK], ==, 1);
	if (mute)
		g_assert_cmpuint(p.stream_dropped, >, 0);
	/* The roller's session goes on without a host. */
	roll(f, 3, 12);
	run_until(f, roller_logged_twelve, "9 passes rolled with no host");

	link = attach(f);
	engine_set_link(f->engine, link);
	link_unref(link);
	finish(f);
	g_assert_cmpuint(f->connections, ==, 2);
	g_assert_cmpstr(f->states->str, ==, mute ?
			"checklist,waiting,rolling,aftercare,finished" :
			"checklist,waiting,rolling,paused,rolling,aftercare,finished");
	/* One roller session, the one START_SESSION started, stopped at
	 * the end. */
	run_until(f, roller_idle, "the roller's session to be stopped");
	g_assert_cmpuint(fw->session_counter, ==, 1);
	passes = check_all_stored(f);
	g_assert_cmpuint(passes->len, ==, 12);
	for (guint i = 0; i < passes->len; i++) {
		const struct store_pass *sp = &g_array_index(passes, struct store_pass, i);

		g_assert_cmpuint(sp->dev.session, ==, 1);
		g_assert_cmpuint(sp->dev.seq, ==, i + 1);
		offline += sp->source == STORE_SOURCE_OFFLINE;
	}
	g_assert_cmpuint(offline, ==, mute ? 12 : 9);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->total, ==, 12);
	for (int d = 0; d < ZONE_DIR_COUNT; d++)
		g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->passes[d], ==, 4);
	g_assert_cmpint(engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->status, ==,
			ENGINE_ZONE_DONE);
	g_assert_cmpuint(f->counts_events, ==, 12);
	check_zone_against_store(f, DP_ZONE_FOREHEAD, passes);
	ss = stored_session(f, engine_session_id(f->engine));
	g_assert_cmpuint(ss->device_session, ==, 1);
	g_assert_cmpint(ss->state, ==, STORE_SESSION_COMPLETED);
	g_assert_cmpuint(ss->zones->len, ==, 1);
	g_assert_cmpuint(f->warnings[ENGINE_WARNING_ROLLER], ==, 0);
}

/* Requests out of turn are refused with ENGINE_ERROR_STATE and change
 * nothing. */
static void test_requests_out_of_turn(struct fixture *f, gconstpointer data)
{
	struct engine_options opts = { 0 };
	g_autoptr(GError) error = NULL;

	f->engine = engine_new(f->policy, f->store, &f->clock, &handler, f);
	g_assert_false(engine_next_zone(f->engine, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(engine_answer_checklist(f->engine, 0, false, 0, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(engine_override(f->engine, "a long enough reason for this", &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(engine_finish(f->engine, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE);
	g_clear_error(&error);

	opts.zones = 1u << (ZONE_COUNT + 1);
	g_assert_false(engine_start(f->engine, &opts, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_IDLE);

	opts.zones = 0;
	g_assert_true(engine_start(f->engine, &opts, &error));
	g_assert_no_error(error);
	/* Face zones by default, in guidance order. */
	for (int z = 1; z <= ZONE_COUNT; z++)
		g_assert_cmpint(engine_zone_counts(f->engine, z)->status, ==,
				zone_get(z)->zclass == ZONE_CLASS_FACE ?
				ENGINE_ZONE_PENDING : ENGINE_ZONE_NOT_SELECTED);
	g_assert_false(engine_start(f->engine, &opts, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_false(engine_answer_checklist(f->engine, 99, false, 0, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(engine_skip_zone(f->engine, &error));
	g_assert_error(error, ENGINE_ERROR, ENGINE_ERROR_STATE);
	g_clear_error(&error);
	g_assert_null(engine_zone_counts(f->engine, 0));
	g_assert_null(engine_zone_counts(f->engine, ZONE_COUNT + 1));
	g_assert_null(engine_zone_verdict(f->engine, DP_ZONE_FOREHEAD));
	g_assert_cmpstr(f->states->str, ==, "checklist");
	g_assert_cmpstr(engine_state_name(ENGINE_STATE_PAUSED), ==, "paused");
	g_assert_null(engine_state_name(ENGINE_STATE_FINISHED + 1));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, func, data) \
	g_test_add("/engine/" path, struct fixture, data, fixture_setup, func, fixture_teardown)
	ADD("routine/three-zones", test_routine, NULL);
	ADD("routine/pause-resume", test_pause_resume, NULL);
	ADD("checklist/zone-lock-and-skip", test_checklist_lock, NULL);
	ADD("policy/interval-override", test_interval_override, NULL);
	ADD("policy/clock-set-back", test_clock_set_back, NULL);
	ADD("passes/max-and-pressure", test_max_passes_and_pressure, "manual");
	ADD("robustness/requests-out-of-turn", test_requests_out_of_turn, NULL);
	ADD("robustness/roller-log-behind-history", test_log_behind_history, NULL);
	ADD("robustness/finish-while-starting", test_finish_while_starting, NULL);
	ADD("robustness/start-answer-lost-live", test_start_answer_lost, "live");
	ADD("robustness/start-answer-lost-mute", test_start_answer_lost, "mute");
	return g_test_run();
}
