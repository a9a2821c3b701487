/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whole routines against the virtual roller, with the stored history held
 * against what the roller sent, pass by pass (check.h): in process over
 * socketpairs, and through the real roller-sim program over a socket path;
 * with the link dropped mid-routine; with a prefilled offline log; and with
 * a host that leaves in the middle of a session.
 *
 * Every link goes through the tap (tap.h), which relays the messages and
 * records each PASS record the roller sent.
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "check.h"
#include "engine.h"
#include "tap.h"
#include "virtual-roller.h"

#define SPEED 100.0
#define WAIT_S 90

#define ZB(z) POLICY_ZONE_BIT(z)

struct fixture {
	char *dir, *db;
	struct policy *policy;
	struct store *store;
	struct virtual_roller *vr;
	struct tap *tap;
	struct engine *engine;
	GSubprocess *sim;
	GString *states;
	guint pauses;
};

static void on_state(struct engine *e, enum engine_state state, void *data)
{
	struct fixture *f = data;

	if (f->states->len)
		g_string_append_c(f->states, ',');
	g_string_append(f->states, engine_state_name(state));
	if (state == ENGINE_STATE_PAUSED)
		f->pauses++;
}

static void on_warning(struct engine *e, const struct engine_warning *w, void *data)
{
	/* The history must never fail in these tests. */
	g_assert_cmpint(w->kind, !=, ENGINE_WARNING_STORE);
}

static const struct engine_handler handler = {
	.state_changed = on_state,
	.warning = on_warning,
};

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("link-XXXXXX", &error);
	g_assert_no_error(error);
	f->db = g_build_filename(f->dir, "history.db", NULL);
	f->store = store_open(f->db, STORE_OPEN_CREATE, &error);
	g_assert_no_error(error);
	f->policy = policy_load_default(&error);
	g_assert_no_error(error);
	f->tap = tap_new();
	f->states = g_string_new(NULL);
}

static void remove_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);

		g_unlink(path);
	}
	g_rmdir(dir);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	engine_free(f->engine);
	if (f->vr)
		virtual_roller_unref(f->vr);
	tap_free(f->tap);
	if (f->sim) {
		g_subprocess_send_signal(f->sim, SIGTERM);
		g_assert_true(g_subprocess_wait(f->sim, NULL, NULL));
		g_object_unref(f->sim);
	}
	store_close(f->store);
	policy_free(f->policy);
	remove_dir(f->dir);
	g_free(f->dir);
	g_free(f->db);
	g_string_free(f->states, TRUE);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static void new_roller(struct fixture *f, guint prefill, guint64 seed)
{
	struct virtual_roller_options opts;
	g_autoptr(GError) error = NULL;

	virtual_roller_options_default(&opts);
	opts.speed = SPEED;
	opts.seed = seed;
	opts.prefill = prefill;
	f->vr = virtual_roller_new(&opts, &error);
	g_assert_no_error(error);
}

/* host <-socketpair-> tap <-socketpair-> virtual roller */
static struct link *attach(struct fixture *f)
{
	g_autoptr(GError) error = NULL;
	int host[2], roller[2];
	struct link *link;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, host), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, roller), ==, 0);
	g_assert_true(virtual_roller_attach(f->vr, roller[0], &error));
	g_assert_no_error(error);
	tap_relay(f->tap, host[1], roller[1]);
	link = link_socket_new(host[0], &error);
	g_assert_no_error(error);
	return link;
}

static void set_link(struct fixture *f, struct link *link)
{
	engine_set_link(f->engine, link);
	link_unref(link);
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

static gboolean is_aftercare(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_AFTERCARE;
}

static gboolean is_paused(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_PAUSED;
}

static gboolean is_detached(struct fixture *f)
{
	return !virtual_roller_is_attached(f->vr);
}

/* Every pass committed and acked, the roller idle with an empty log (its
 * own status record says so). */
static gboolean is_all_acked(struct fixture *f)
{
	const struct dp_status *st = engine_roller_status(f->engine);

	return engine_sync_idle(f->engine) && st && st->log_count == 0 &&
	       st->state != DP_STATE_SESSION;
}

static void start(struct fixture *f, guint32 zones)
{
	struct engine_options opts = { .zones = zones, .auto_advance = true };
	g_autoptr(GError) error = NULL;

	g_assert_true(engine_start(f->engine, &opts, &error));
	g_assert_no_error(error);
	for (unsigned int i = 0; i < policy_checklist_count(f->policy); i++)
		g_assert_true(engine_answer_checklist(f->engine, i,
			!policy_checklist_item(f->policy, i)->refuse_if_yes, 0, &error));
	g_assert_true(engine_checklist_done(f->engine, &error));
	g_assert_no_error(error);
}

static void finish(struct fixture *f)
{
	g_autoptr(GError) error = NULL;

	run_until(f, is_aftercare, "aftercare");
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	run_until(f, is_all_acked, "every pass stored and acked");
}

/* The store against the tap; then each selected zone has its 12 passes,
 * 4 per direction, in the engine and in the stored zone result. */
static void check_routine(struct fixture *f, guint32 zones, struct check_result *res)
{
	g_autoptr(GArray) sent = tap_passes(f->tap);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) history = NULL;
	struct store_history_filter filter = { 0 };
	struct store_session *ss = NULL;
	guint n_zones = 0;

	g_assert_cmpuint(tap_conflicts(f->tap), ==, 0);
	check_store(f->db, sent, res);
	g_assert_cmpuint(res->unassigned, ==, 0);
	g_assert_cmpuint(res->open_sessions, ==, 0);

	history = store_history(f->store, &filter, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < history->len; i++)
		if (((struct store_session *)history->pdata[i])->id == engine_session_id(f->engine))
			ss = history->pdata[i];
	g_assert_nonnull(ss);
	g_assert_cmpint(ss->state, ==, STORE_SESSION_COMPLETED);
	for (int z = 1; z <= ZONE_COUNT; z++) {
		const struct engine_zone_counts *c = engine_zone_counts(f->engine, z);

		if (!(zones & ZB(z)))
			continue;
		n_zones++;
		g_assert_cmpint(c->status, ==, ENGINE_ZONE_DONE);
		for (int d = 0; d < ZONE_DIR_COUNT; d++)
			g_assert_cmpuint(c->passes[d], ==, 4);
	}
	g_assert_cmpuint(ss->zones->len, ==, n_zones);
	for (guint i = 0; i < ss->zones->len; i++) {
		const struct store_zone_result *r =
			&g_array_index(ss->zones, struct store_zone_result, i);
		const struct engine_zone_counts *c = engine_zone_counts(f->engine, r->zone);

		for (int d = 0; d < ZONE_DIR_COUNT; d++)
			g_assert_cmpuint(r->passes[d], ==, 4);
		g_assert_cmpuint(r->peak_force_cn, ==, c->peak_force_cn);
		g_assert_cmpuint(r->mean_force_cn, ==, c->mean_force_cn);
		g_assert_cmpuint(r->over_warn_ms, ==, c->over_warn_ms);
	}
	g_assert_cmpuint(sent->len, ==, 12 * n_zones);
}

/* ---- Tests ---- */

static void test_in_process(struct fixture *f, gconstpointer data)
{
	guint32 zones = 0;
	struct check_result res;

	for (int z = 1; z <= ZONE_COUNT; z++)
		if (zone_get(z)->zclass == ZONE_CLASS_FACE)
			zones |= ZB(z);
	new_roller(f, 0, 11);
	f->engine = engine_new(f->policy, f->store, engine_clock_system(), &handler, f);
	set_link(f, attach(f));
	start(f, 0);
	finish(f);
	g_assert_cmpstr(f->states->str, ==, "checklist,waiting,rolling,aftercare,finished");
	check_routine(f, zones, &res);
	g_assert_cmpuint(res.passes, ==, 84);
	g_assert_cmpuint(res.live, ==, 84);
	g_test_message("in process: %u passes, all live, each stored once", res.passes);
}

static gboolean sim_ready(const char *path)
{
	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* host -> tap (socket path) -> roller-sim (socket path): the real program. */
static void test_roller_sim(struct fixture *f, gconstpointer data)
{
	const char *exe = g_getenv("ROLLER_SIM");
	g_autofree char *sim_sock = g_build_filename(f->dir, "roller.sock", NULL);
	g_autofree char *tap_sock = g_build_filename(f->dir, "tap.sock", NULL);
	/* A flash of its own: never the user's ($XDG_STATE_HOME). */
	g_autofree char *state = g_build_filename(f->dir, "roller.state", NULL);
	g_autoptr(GError) error = NULL;
	guint32 zones = ZB(DP_ZONE_FOREHEAD) | ZB(DP_ZONE_RIGHT_CHEEK) | ZB(DP_ZONE_CHIN);
	struct check_result res;
	struct link *link;
	gint64 deadline;

	g_assert_nonnull(exe);
	f->sim = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, exe,
				  "--socket", sim_sock, "--state", state, "--speed", "100",
				  "--seed", "5", NULL);
	g_assert_no_error(error);
	deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (!sim_ready(sim_sock) && g_get_monotonic_time() < deadline)
		g_usleep(10000);
	g_assert_true(sim_ready(sim_sock));
	g_assert_true(tap_listen(f->tap, tap_sock, sim_sock, &error));
	g_assert_no_error(error);

	f->engine = engine_new(f->policy, f->store, engine_clock_system(), &handler, f);
	link = link_socket_connect(tap_sock, &error);
	g_assert_no_error(error);
	set_link(f, link);
	start(f, zones);
	finish(f);
	check_routine(f, zones, &res);
	g_assert_cmpuint(res.passes, ==, 36);
	g_test_message("roller-sim: %u passes, each stored once", res.passes);
}

static guint drop_after;

static gboolean passes_reached(struct fixture *f)
{
	guint total = 0;

	for (int z = 1; z <= ZONE_COUNT; z++)
		total += engine_zone_counts(f->engine, z)->total;
	return total >= drop_after || engine_state(f->engine) == ENGINE_STATE_AFTERCARE;
}

static guint64 away_until;

static gboolean away_long_enough(struct fixture *f)
{
	return virtual_roller_time(f->vr) >= away_until;
}

/* The link drops at three random points (seeded: printed), stays down a
 * random while as the roller keeps rolling, then comes back. */
static void test_drops(struct fixture *f, gconstpointer data)
{
	guint32 zones = ZB(DP_ZONE_FOREHEAD) | ZB(DP_ZONE_LEFT_CHEEK) | ZB(DP_ZONE_NOSE) |
			ZB(DP_ZONE_NECK);
	guint32 seed = g_test_rand_int();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	struct check_result res;
	guint drops = 0;

	g_test_message("drop points seeded with %u", seed);
	new_roller(f, 0, 13);
	f->engine = engine_new(f->policy, f->store, engine_clock_system(), &handler, f);
	set_link(f, attach(f));
	start(f, zones);
	for (int i = 0; i < 3; i++) {
		drop_after = (guint)g_rand_int_range(rand, i * 14 + 1, i * 14 + 12);
		run_until(f, passes_reached, "the drop point");
		if (engine_state(f->engine) == ENGINE_STATE_AFTERCARE)
			break;
		g_test_message("drop %d after %u passes", i + 1, drop_after);
		virtual_roller_detach(f->vr);
		run_until(f, is_paused, "the pause");
		away_until = virtual_roller_time(f->vr) +
			     (guint64)g_rand_int_range(rand, 500, 8000);
		run_until(f, away_long_enough, "time away");
		set_link(f, attach(f));
		drops++;
	}
	finish(f);
	g_assert_cmpuint(f->pauses, ==, drops);
	g_assert_cmpuint(drops, ==, 3);
	check_routine(f, zones, &res);
	g_assert_cmpuint(res.passes, ==, 48);
	g_assert_cmpuint(tap_connections(f->tap), ==, 4);
	g_test_message("dropped %u times: %u passes (%u live, %u from the log), each once",
		       drops, res.passes, res.live, res.offline);
}

/* A log of passes rolled with no host: synced on connect, stored as
 * unassigned (zone 0), freed on the roller; a second connection finds
 * nothing new. */
static void test_offline_sync(struct fixture *f, gconstpointer data)
{
	const guint prefill = 1500;
	g_autoptr(GArray) sent = NULL;
	struct check_result res;

	g_autoptr(GArray) stored = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	g_autoptr(GError) error = NULL;
	gint64 connect_ms, rolled_ms;

	new_roller(f, prefill, 17);
	g_assert_cmpuint(dp_log_count(&virtual_roller_firmware(f->vr)->log), ==, prefill);
	/* The prefill was rolled before the roller's clock was set: its
	 * passes carry DP_PASS_CLOCK_UNSET and map to UTC through the clock
	 * the roller reports at connect (PROTOCOL.md "Semantics"). */
	rolled_ms = (gint64)virtual_roller_time(f->vr);
	connect_ms = g_get_real_time() / 1000;
	f->engine = engine_new(f->policy, f->store, engine_clock_system(), &handler, f);
	set_link(f, attach(f));
	run_until(f, is_all_acked, "the offline log to be synced");
	rollers = store_rollers(f->store, true, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rollers->len, ==, 1);
	stored = store_unassigned_passes(f->store,
					 ((struct store_roller *)rollers->pdata[0])->id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(stored->len, ==, prefill);
	for (guint i = 0; i < stored->len; i++) {
		const struct store_pass *p = &g_array_index(stored, struct store_pass, i);

		g_assert_true(p->dev.flags & DP_PASS_CLOCK_UNSET);
		g_assert_cmpint(p->session_id, ==, 0);
		g_assert_cmpint(p->started_ms, >=, connect_ms - rolled_ms - 1000);
		g_assert_cmpint(p->started_ms, <=, connect_ms + 1000);
		if (i)
			g_assert_cmpint(p->started_ms, >,
					g_array_index(stored, struct store_pass, i - 1).started_ms);
	}
	g_assert_cmpuint(dp_log_count(&virtual_roller_firmware(f->vr)->log), ==, 0);
	g_assert_cmpuint(engine_sync_stats(f->engine)->passes_new, ==, prefill);
	g_assert_cmpuint(engine_sync_stats(f->engine)->passes_duplicate, ==, 0);
	g_assert_cmpuint(engine_sync_stats(f->engine)->stored_through, ==, prefill);

	sent = tap_passes(f->tap);
	g_assert_cmpuint(tap_conflicts(f->tap), ==, 0);
	check_store(f->db, sent, &res);
	g_assert_cmpuint(res.passes, ==, prefill);
	g_assert_cmpuint(res.offline, ==, prefill);
	g_assert_cmpuint(res.unassigned, ==, prefill);
	g_assert_cmpuint(res.sessions, ==, 0);

	engine_set_link(f->engine, NULL);
	run_until(f, is_detached, "the roller to see the host leave");
	set_link(f, attach(f));
	run_until(f, is_all_acked, "the second sync");
	g_assert_cmpuint(engine_sync_stats(f->engine)->passes_new, ==, prefill);
	g_assert_cmpuint(engine_sync_stats(f->engine)->syncs, ==, 2);
	g_test_message("offline sync: %u passes, unassigned, log empty", res.passes);
}

static gboolean forehead_started(struct fixture *f)
{
	return engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->total >= 4;
}

static gboolean rolled_out(struct fixture *f)
{
	return virtual_roller_is_resting(f->vr) &&
	       virtual_roller_firmware(f->vr)->log.next_seq == 13;
}

/* A host that goes away mid-session (its session left open): the next one
 * syncs what the roller logged meanwhile into that session, closes it as
 * interrupted with its zone results rebuilt, then runs its own. */
static void test_interrupted(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) history = NULL;
	g_autoptr(GArray) first_passes = NULL;
	g_autoptr(GArray) sent = NULL;
	struct store_history_filter filter = { 0 };
	struct store_session *first, *second;
	const struct store_zone_result *r;
	struct check_result res;
	int64_t first_id;

	new_roller(f, 0, 19);
	f->engine = engine_new(f->policy, f->store, engine_clock_system(), &handler, f);
	set_link(f, attach(f));
	start(f, ZB(DP_ZONE_FOREHEAD));
	run_until(f, forehead_started, "passes on the forehead");
	first_id = engine_session_id(f->engine);
	engine_free(f->engine);
	run_until(f, is_detached, "the roller to see the host leave");
	run_until(f, rolled_out, "the roller to finish the zone alone");

	f->engine = engine_new(f->policy, f->store, engine_clock_system(), &handler, f);
	set_link(f, attach(f));
	start(f, ZB(DP_ZONE_CHIN));
	finish(f);

	g_assert_cmpuint(tap_conflicts(f->tap), ==, 0);
	sent = tap_passes(f->tap);
	check_store(f->db, sent, &res);
	g_assert_cmpuint(res.passes, ==, 24);
	g_assert_cmpuint(res.unassigned, ==, 0);
	g_assert_cmpuint(res.open_sessions, ==, 0);
	g_assert_cmpuint(res.sessions, ==, 2);

	history = store_history(f->store, &filter, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(history->len, ==, 2);
	first = history->pdata[0];
	second = history->pdata[1];
	g_assert_cmpint(first->id, ==, first_id);
	g_assert_cmpint(first->state, ==, STORE_SESSION_INTERRUPTED);
	g_assert_cmpint(second->state, ==, STORE_SESSION_COMPLETED);
	g_assert_cmpuint(first->zones->len, ==, 1);
	r = &g_array_index(first->zones, struct store_zone_result, 0);
	g_assert_cmpuint(r->zone, ==, DP_ZONE_FOREHEAD);
	for (int d = 0; d < ZONE_DIR_COUNT; d++)
		g_assert_cmpuint(r->passes[d], ==, 4);
	first_passes = store_session_passes(f->store, first_id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(first_passes->len, ==, 12);
	g_assert_cmpint(first->ended_ms, ==,
			g_array_index(first_passes, struct store_pass, 11).started_ms +
			g_array_index(first_passes, struct store_pass, 11).dev.duration_ms);
	g_assert_cmpuint(engine_zone_counts(f->engine, DP_ZONE_CHIN)->total, ==, 12);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

#define ADD(path, func) \
	g_test_add("/link/" path, struct fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("routine/in-process-face", test_in_process);
	ADD("routine/roller-sim-program", test_roller_sim);
	ADD("drop/mid-routine", test_drops);
	ADD("offline-sync/prefilled-log", test_offline_sync);
	ADD("offline-sync/interrupted-session", test_interrupted);
	return g_test_run();
}
