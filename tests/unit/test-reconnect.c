/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconnection with backoff (host/reconnect.h): the engine with a pinned
 * clock, an in-process virtual roller (autopilot, high speed) reached over
 * socket links (socketpair, as the engine tests do), and a history in a
 * temporary folder.  The link drops mid-routine again and again, some
 * attempts fail before one succeeds; the backoff sequence, the resume, and
 * the history (every pass once) are checked.  Also: the refusal of a
 * roller whose serial is not the recorded one (PROTOCOL.md §9.5), the
 * errors that stop retrying, and that nothing happens after
 * reconnect_free().
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "reconnect.h"
#include "virtual-roller.h"

/* 2026-03-02T09:00:00Z */
#define T0_MS G_GINT64_CONSTANT(1772442000000)
#define SPEED 100.0
/* Only an upper bound for a failing test: meson's own limit (longer under
 * valgrind, --setup valgrind) normally ends a hung test first. */
#define WAIT_S 600
#define TEST_DELAY_MS 5

#define ZB(z) POLICY_ZONE_BIT(z)

struct fixture {
	char *dir;
	struct policy *policy;
	struct store *store;
	struct virtual_roller *vr;       /* the roller make_link attaches */
	struct virtual_roller *other;    /* another roller, or NULL */
	struct engine *engine;
	struct reconnect *rc;
	struct engine_clock clock;

	/* make_link */
	unsigned int make_calls;
	unsigned int fail_next;          /* attempts to fail before attaching */
	GError *make_error;              /* fail with this (copied) when set */
	bool attach_other;               /* attach @other instead of @vr */
	GPtrArray *kept;                 /* when set: a reference to each link
					  * made, as `dermaroll session` keeps */

	/* What the reconnect said */
	GString *events;                 /* "c1,up,w0,c1,..." */
	GArray *delay_attempts;          /* guint: attempt index given to the delay */
	unsigned int waiting_calls, gave_up_calls, connected_calls;
	GError *gave_up_error;

	/* What the engine said */
	unsigned int engine_ups, engine_downs, counts_events;
	bool destroyed;
	bool real_delays;                /* the default backoff is in use */
	unsigned int drop_on_connect;    /* links to drop as soon as they are up */
};

static int64_t pinned_now(void *user_data)
{
	return T0_MS;
}

static int32_t pinned_offset(int64_t at_ms, void *user_data)
{
	return 3600;
}

static void event(struct fixture *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void event(struct fixture *f, const char *fmt, ...)
{
	va_list ap;

	if (f->events->len)
		g_string_append_c(f->events, ',');
	va_start(ap, fmt);
	g_string_append_vprintf(f->events, fmt, ap);
	va_end(ap);
}

/* ---- The engine's owner ---- */

static void on_counts(struct engine *e, const struct engine_zone_counts *c, void *data)
{
	((struct fixture *)data)->counts_events++;
}

static void on_connection(struct engine *e, bool connected, const char *message, void *data)
{
	struct fixture *f = data;

	if (connected)
		f->engine_ups++;
	else
		f->engine_downs++;
	if (f->rc)
		reconnect_connection(f->rc, connected, message);
}

static const struct engine_handler engine_handler = {
	.counts_changed = on_counts,
	.connection = on_connection,
};

/* ---- The reconnect's handler and link maker ---- */

static void on_connecting(struct reconnect *rc, unsigned int attempt, void *data)
{
	struct fixture *f = data;

	g_assert_cmpint(reconnect_state(rc), ==, RECONNECT_CONNECTING);
	g_assert_cmpuint(reconnect_attempt(rc), ==, attempt);
	event(f, "c%u", attempt);
}

static void on_connected(struct reconnect *rc, const struct dp_info *info, void *data)
{
	struct fixture *f = data;

	g_assert_cmpint(reconnect_state(rc), ==, RECONNECT_CONNECTED);
	g_assert_null(reconnect_error(rc));
	g_assert_cmpstr(info->serial, ==, reconnect_serial(rc));
	f->connected_calls++;
	event(f, "up");
	if (f->drop_on_connect) {
		/* Gone before the engine could sync: no good connection. */
		f->drop_on_connect--;
		virtual_roller_detach(f->vr);
	}
}

static void on_waiting(struct reconnect *rc, guint delay_ms, const GError *error, void *data)
{
	struct fixture *f = data;

	g_assert_cmpint(reconnect_state(rc), ==, RECONNECT_WAITING);
	g_assert_nonnull(error);
	g_assert_true(error == reconnect_error(rc));
	/* The first step of the real backoff, or the test's. */
	g_assert_cmpuint(delay_ms, ==, f->real_delays ? reconnect_delay_ms(0) : TEST_DELAY_MS);
	g_assert_cmpuint(reconnect_remaining_ms(rc), <=, delay_ms);
	f->waiting_calls++;
	event(f, "w");
}

static void on_gave_up(struct reconnect *rc, const GError *error, void *data)
{
	struct fixture *f = data;

	g_assert_cmpint(reconnect_state(rc), ==, RECONNECT_GAVE_UP);
	g_assert_true(error == reconnect_error(rc));
	f->gave_up_calls++;
	g_clear_error(&f->gave_up_error);
	f->gave_up_error = g_error_copy(error);
	event(f, "gave-up");
}

static const struct reconnect_handler rc_handler = {
	.connecting = on_connecting,
	.connected = on_connected,
	.waiting = on_waiting,
	.gave_up = on_gave_up,
};

static guint test_delay(unsigned int attempt, void *data)
{
	struct fixture *f = data;

	g_array_append_val(f->delay_attempts, attempt);
	return TEST_DELAY_MS;
}

static struct link *make_link(void *data, GError **error)
{
	struct fixture *f = data;
	struct virtual_roller *vr = f->attach_other ? f->other : f->vr;
	struct link *link;
	int sv[2];

	f->make_calls++;
	if (f->make_error) {
		g_propagate_error(error, g_error_copy(f->make_error));
		return NULL;
	}
	if (f->fail_next) {
		f->fail_next--;
		g_set_error_literal(error, LINK_ERROR, LINK_ERROR_CONNECT,
				    "The roller is out of reach (test).");
		return NULL;
	}
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_true(virtual_roller_attach(vr, sv[0], NULL));
	link = link_socket_new(sv[1], error);
	g_assert_nonnull(link);
	if (f->kept)
		g_ptr_array_add(f->kept, link_ref(link));
	return link;
}

static void make_data_destroyed(gpointer data)
{
	((struct fixture *)data)->destroyed = true;
}

/* ---- Fixture ---- */

static struct virtual_roller *new_roller(const char *serial)
{
	struct virtual_roller_options opts;
	g_autoptr(GError) error = NULL;
	struct virtual_roller *vr;

	virtual_roller_options_default(&opts);
	opts.speed = SPEED;
	opts.seed = 11;
	opts.autopilot = TRUE;
	opts.serial = serial;
	vr = virtual_roller_new(&opts, &error);
	g_assert_no_error(error);
	return vr;
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;

	f->dir = g_dir_make_tmp("test-reconnect-XXXXXX", &error);
	g_assert_no_error(error);
	path = g_build_filename(f->dir, "history.db", NULL);
	f->store = store_open(path, STORE_OPEN_CREATE, &error);
	g_assert_no_error(error);
	f->policy = policy_load_default(&error);
	g_assert_no_error(error);
	f->clock = (struct engine_clock) { pinned_now, pinned_offset, f };
	f->vr = new_roller("DR-SIM-0001");
	f->events = g_string_new(NULL);
	f->delay_attempts = g_array_new(FALSE, FALSE, sizeof(guint));
	f->engine = engine_new(f->policy, f->store, &f->clock, &engine_handler, f);
	f->rc = reconnect_new(f->engine, make_link, f, make_data_destroyed);
	reconnect_set_handler(f->rc, &rc_handler, f);
	reconnect_set_delay_func(f->rc, test_delay, f);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autofree char *db = g_build_filename(f->dir, "history.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	g_clear_pointer(&f->rc, reconnect_free);
	engine_free(f->engine);
	virtual_roller_unref(f->vr);
	if (f->other)
		virtual_roller_unref(f->other);
	store_close(f->store);
	policy_free(f->policy);
	g_unlink(db);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(f->dir);
	g_string_free(f->events, TRUE);
	g_array_unref(f->delay_attempts);
	g_clear_error(&f->gave_up_error);
	g_clear_error(&f->make_error);
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
		g_error("timed out waiting for %s (events: %s)", what, f->events->str);
	g_source_remove(id);
}

/* Runs the main loop for @ms whatever happens. */
static void run_for(guint ms)
{
	gboolean expired = FALSE;

	g_timeout_add(ms, timed_out, &expired);
	while (!expired)
		g_main_context_iteration(NULL, TRUE);
}

static gboolean is_synced(struct fixture *f)
{
	return engine_is_connected(f->engine);
}

static gboolean is_waiting(struct fixture *f)
{
	return reconnect_state(f->rc) == RECONNECT_WAITING;
}

static gboolean is_gave_up(struct fixture *f)
{
	return f->gave_up_calls > 0;
}

static gboolean is_aftercare(struct fixture *f)
{
	return engine_state(f->engine) == ENGINE_STATE_AFTERCARE;
}

static gboolean is_sync_idle(struct fixture *f)
{
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);

	return engine_sync_idle(f->engine) && dp_log_count(&fw->log) == 0;
}

static void start_routine(struct fixture *f, guint32 zones)
{
	struct engine_options opts = { .zones = zones, .auto_advance = true };
	unsigned int n = policy_checklist_count(f->policy);
	g_autoptr(GError) error = NULL;

	g_assert_true(engine_start(f->engine, &opts, &error));
	g_assert_no_error(error);
	for (unsigned int i = 0; i < n; i++)
		g_assert_true(engine_answer_checklist(f->engine, i,
			!policy_checklist_item(f->policy, i)->refuse_if_yes, 0, &error));
	g_assert_true(engine_checklist_done(f->engine, &error));
	g_assert_no_error(error);
}

static unsigned int counted(struct fixture *f)
{
	return engine_zone_counts(f->engine, DP_ZONE_FOREHEAD)->total +
	       engine_zone_counts(f->engine, DP_ZONE_CHIN)->total;
}

static unsigned int drop_at;

static gboolean reached_drop_point(struct fixture *f)
{
	return counted(f) >= drop_at;
}

static uint32_t away_from;

static gboolean rolled_while_away(struct fixture *f)
{
	return virtual_roller_firmware(f->vr)->log.next_seq >= away_from + 2;
}

/* ---- Tests ---- */

static void test_delays(void)
{
	static const guint want[] = { 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000 };

	for (unsigned int i = 0; i < G_N_ELEMENTS(want); i++)
		g_assert_cmpuint(reconnect_delay_ms(i), ==, want[i]);
	g_assert_cmpuint(reconnect_delay_ms(31), ==, 30000);
	g_assert_cmpuint(reconnect_delay_ms(32), ==, 30000);
	g_assert_cmpuint(reconnect_delay_ms(G_MAXUINT), ==, 30000);
	g_assert_cmpstr(reconnect_state_name(RECONNECT_IDLE), ==, "idle");
	g_assert_cmpstr(reconnect_state_name(RECONNECT_CONNECTING), ==, "connecting");
	g_assert_cmpstr(reconnect_state_name(RECONNECT_CONNECTED), ==, "connected");
	g_assert_cmpstr(reconnect_state_name(RECONNECT_WAITING), ==, "waiting");
	g_assert_cmpstr(reconnect_state_name(RECONNECT_GAVE_UP), ==, "gave-up");
}

/* Three drops mid-routine; after each, 0, 2 and 1 attempts fail before
 * one succeeds.  The backoff climbs within a series and starts again
 * after each good connection; the routine resumes each time and ends with
 * every pass the roller logged stored once. */
static void test_drops(struct fixture *f, gconstpointer data)
{
	static const struct {
		unsigned int at;             /* passes counted when it drops */
		unsigned int failing;        /* attempts that fail afterwards */
	} drops[] = { { 3, 0 }, { 9, 2 }, { 16, 1 } };
	static const guint want_delays[] = { 0, 0, 1, 2, 0, 1 };
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) passes = NULL;
	g_autoptr(GArray) loose = NULL;
	g_autoptr(GPtrArray) rollers = NULL;
	const struct dp_fw *fw = virtual_roller_firmware(f->vr);
	guint expect;

	g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_IDLE);
	g_assert_cmpuint(reconnect_attempt(f->rc), ==, 0);
	g_assert_true(reconnect_start(f->rc));
	g_assert_false(reconnect_start(f->rc));
	start_routine(f, ZB(DP_ZONE_FOREHEAD) | ZB(DP_ZONE_CHIN));
	run_until(f, is_synced, "the first connection");
	g_assert_cmpstr(reconnect_serial(f->rc), ==, "DR-SIM-0001");

	for (size_t i = 0; i < G_N_ELEMENTS(drops); i++) {
		unsigned int calls = f->make_calls;

		drop_at = drops[i].at;
		run_until(f, reached_drop_point, "passes before the drop");
		f->fail_next = drops[i].failing;
		away_from = fw->log.next_seq;
		/* The radio link goes (the roller side closes). */
		virtual_roller_detach(f->vr);
		run_until(f, rolled_while_away, "passes rolled with no host");
		run_until(f, is_synced, "the link to come back");
		g_assert_cmpuint(f->make_calls - calls, ==, drops[i].failing + 1);
		g_assert_cmpuint(reconnect_drops(f->rc), ==, i + 1);
		g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_CONNECTED);
		g_assert_cmpuint(reconnect_remaining_ms(f->rc), ==, 0);
	}
	g_assert_cmpstr(f->events->str, ==,
			"c1,up,"
			"w,c1,up,"
			"w,c1,w,c2,w,c3,up,"
			"w,c1,w,c2,up");
	g_assert_cmpuint(f->delay_attempts->len, ==, G_N_ELEMENTS(want_delays));
	for (guint i = 0; i < f->delay_attempts->len; i++)
		g_assert_cmpuint(g_array_index(f->delay_attempts, guint, i), ==, want_delays[i]);
	g_assert_cmpuint(reconnect_connections(f->rc), ==, 4);
	g_assert_cmpuint(f->engine_downs, ==, 3);
	g_assert_cmpuint(f->engine_ups, ==, 4);
	g_assert_cmpuint(f->gave_up_calls, ==, 0);

	run_until(f, is_aftercare, "aftercare");
	g_assert_true(engine_finish(f->engine, &error));
	g_assert_no_error(error);
	run_until(f, is_sync_idle, "the last passes to be committed and acked");

	/* Every seq the roller logged, once: in the session or unassigned,
	 * none lost, none twice, the roller's log empty. */
	expect = fw->log.next_seq - 1;
	passes = store_session_passes(f->store, engine_session_id(f->engine), &error);
	g_assert_no_error(error);
	rollers = store_rollers(f->store, true, &error);
	g_assert_cmpuint(rollers->len, ==, 1);
	loose = store_unassigned_passes(f->store,
					((struct store_roller *)rollers->pdata[0])->id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(passes->len + loose->len, ==, expect);
	for (guint i = 0; i < passes->len; i++)
		g_assert_cmpuint(g_array_index(passes, struct store_pass, i).dev.seq, ==,
				 i + 1 + loose->len);
	/* The passes rolled while away (at least 2 per drop) are among them. */
	g_assert_cmpuint(expect, >=, drops[G_N_ELEMENTS(drops) - 1].at + 2);
	g_assert_cmpuint(dp_log_count(&fw->log), ==, 0);
	g_assert_cmpuint(engine_sync_stats(f->engine)->acked_seq, ==, expect);
	/* Each pass of the session counted once by the engine. */
	g_assert_cmpuint(counted(f), ==, passes->len);
	g_assert_cmpuint(f->counts_events, ==, passes->len);
	g_assert_cmpuint(engine_sync_stats(f->engine)->syncs, >=, 4);
}

/* Links that drop before the engine synced are no good connection: the
 * backoff keeps climbing (0, 1), and starts again only after a sync. */
static void test_drop_before_sync(struct fixture *f, gconstpointer data)
{
	static const guint want_delays[] = { 0, 1, 0 };

	f->drop_on_connect = 2;
	g_assert_true(reconnect_start(f->rc));
	start_routine(f, ZB(DP_ZONE_FOREHEAD));
	run_until(f, is_synced, "a connection that stays");
	g_assert_cmpuint(reconnect_drops(f->rc), ==, 2);
	g_assert_cmpuint(f->engine_ups, ==, 1);
	drop_at = 1;
	run_until(f, reached_drop_point, "a pass");
	virtual_roller_detach(f->vr);
	run_until(f, is_waiting, "the drop");
	run_until(f, is_synced, "the link to come back");
	g_assert_cmpstr(f->events->str, ==, "c1,up,w,c1,up,w,c1,up,w,c1,up");
	g_assert_cmpuint(f->delay_attempts->len, ==, G_N_ELEMENTS(want_delays));
	for (guint i = 0; i < f->delay_attempts->len; i++)
		g_assert_cmpuint(g_array_index(f->delay_attempts, guint, i), ==, want_delays[i]);
}

/* §9.5: the recorded serial is not the one at the address.  Nothing is
 * handed to the engine, nothing stored, no retry. */
static void test_wrong_serial(struct fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rollers = NULL;
	g_autoptr(GError) error = NULL;

	reconnect_set_serial(f->rc, "DR-OTHER-0002");
	g_assert_cmpstr(reconnect_serial(f->rc), ==, "DR-OTHER-0002");
	start_routine(f, ZB(DP_ZONE_FOREHEAD));
	g_assert_true(reconnect_start(f->rc));
	run_until(f, is_gave_up, "the refusal");
	g_assert_error(f->gave_up_error, RECONNECT_ERROR, RECONNECT_ERROR_WRONG_ROLLER);
	g_assert_cmpstr(f->gave_up_error->message, ==,
			"The roller at this address says it is DR-SIM-0001, but the history "
			"knows this address as the roller DR-OTHER-0002, so dermaroll will not "
			"use it. If the roller was replaced, pair the new one with "
			"'dermaroll pair'.");
	g_assert_cmpstr(f->events->str, ==, "c1,gave-up");
	run_for(50);
	g_assert_cmpuint(f->make_calls, ==, 1);
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_WAITING);
	g_assert_cmpuint(f->engine_ups, ==, 0);
	g_assert_false(virtual_roller_is_attached(f->vr));
	rollers = store_rollers(f->store, true, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rollers->len, ==, 0);
	/* Gave up is final. */
	g_assert_false(reconnect_start(f->rc));
	reconnect_connection(f->rc, false, "late");
	run_for(30);
	g_assert_cmpuint(f->make_calls, ==, 1);
}

static gboolean other_away(struct fixture *f)
{
	return !virtual_roller_is_attached(f->other);
}

/* With no serial recorded, the first connection's serial is pinned: a
 * different roller at the address after a drop is refused, and the
 * routine stays paused with what the first one sent. */
static void test_pinned_serial(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rollers = NULL;

	f->other = new_roller("DR-SIM-0099");
	g_assert_true(reconnect_start(f->rc));
	start_routine(f, ZB(DP_ZONE_FOREHEAD));
	run_until(f, is_synced, "the first connection");
	drop_at = 2;
	run_until(f, reached_drop_point, "passes before the drop");
	f->attach_other = true;
	virtual_roller_detach(f->vr);
	run_until(f, is_gave_up, "the refusal");
	run_until(f, other_away, "the other roller to be let go");
	g_assert_error(f->gave_up_error, RECONNECT_ERROR, RECONNECT_ERROR_WRONG_ROLLER);
	g_assert_cmpstr(f->events->str, ==, "c1,up,w,c1,gave-up");
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_PAUSED);
	g_assert_cmpuint(reconnect_drops(f->rc), ==, 1);
	rollers = store_rollers(f->store, true, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rollers->len, ==, 1);
	g_assert_cmpstr(((struct store_roller *)rollers->pdata[0])->serial, ==, "DR-SIM-0001");
	/* The other roller never saw a session start. */
	g_assert_cmpint(virtual_roller_firmware(f->other)->state, ==, DP_STATE_IDLE);
}

/* Which errors stop the retrying: those no later attempt can change. */
struct error_case {
	const char *path;
	int code;
	bool gives_up;
};

static const struct error_case error_cases[] = {
	{ "/reconnect/errors/connect", LINK_ERROR_CONNECT, false },
	{ "/reconnect/errors/lost", LINK_ERROR_LOST, false },
	{ "/reconnect/errors/timeout", LINK_ERROR_TIMEOUT, false },
	{ "/reconnect/errors/protocol", LINK_ERROR_PROTOCOL, false },
	{ "/reconnect/errors/refused", LINK_ERROR_REFUSED, true },
	{ "/reconnect/errors/version", LINK_ERROR_VERSION, true },
};

static void test_error(struct fixture *f, gconstpointer data)
{
	const struct error_case *c = data;

	f->make_error = g_error_new(LINK_ERROR, c->code, "Test error %d.", c->code);
	g_assert_true(reconnect_start(f->rc));
	if (c->gives_up && c->code == LINK_ERROR_REFUSED) {
		/* Refused twice in a row: the second time is final. */
		g_assert_cmpstr(f->events->str, ==, "c1,w");
		run_until(f, is_gave_up, "the second refusal");
		g_assert_cmpstr(f->events->str, ==, "c1,w,c2,gave-up");
		g_assert_error(f->gave_up_error, LINK_ERROR, c->code);
		run_for(50);
		g_assert_cmpuint(f->make_calls, ==, 2);
		return;
	}
	if (c->gives_up) {
		g_assert_cmpstr(f->events->str, ==, "c1,gave-up");
		g_assert_error(f->gave_up_error, LINK_ERROR, c->code);
		g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_GAVE_UP);
		run_for(50);
		g_assert_cmpuint(f->make_calls, ==, 1);
		return;
	}
	g_assert_cmpstr(f->events->str, ==, "c1,w");
	g_assert_error(reconnect_error(f->rc), LINK_ERROR, c->code);
	g_assert_cmpuint(reconnect_attempt(f->rc), ==, 2);
	run_for(100);
	/* Every 5 ms, for 100 ms: many more attempts, each counted. */
	g_assert_cmpuint(f->make_calls, >=, 3);
	g_assert_cmpuint(f->delay_attempts->len, ==, f->make_calls);
	for (guint i = 0; i < f->delay_attempts->len; i++)
		g_assert_cmpuint(g_array_index(f->delay_attempts, guint, i), ==, i);
	g_assert_cmpuint(f->gave_up_calls, ==, 0);
}

/* One refusal followed by a good connection (a read BlueZ failed while
 * the link settled) is retried, and forgotten once connected. */
static void test_refused_once(struct fixture *f, gconstpointer data)
{
	f->make_error = g_error_new_literal(LINK_ERROR, LINK_ERROR_REFUSED,
					    "The roller did not say what it is (test).");
	g_assert_true(reconnect_start(f->rc));
	g_clear_error(&f->make_error);
	run_until(f, is_synced, "the second attempt");
	g_assert_cmpstr(f->events->str, ==, "c1,w,c2,up");
	g_assert_cmpuint(f->gave_up_calls, ==, 0);
}

/* "Trying again in N s, attempt K" with the real backoff. */
static void test_remaining(struct fixture *f, gconstpointer data)
{
	guint left;

	reconnect_set_delay_func(f->rc, NULL, NULL);
	reconnect_set_handler(f->rc, NULL, NULL);
	f->fail_next = 1;
	g_assert_true(reconnect_start(f->rc));
	g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_WAITING);
	g_assert_cmpuint(reconnect_attempt(f->rc), ==, 2);
	left = reconnect_remaining_ms(f->rc);
	g_assert_cmpuint(left, <=, 1000);
	g_assert_cmpuint(left, >, 500);
	g_assert_cmpstr(reconnect_error(f->rc)->message, ==, "The roller is out of reach (test).");
	run_until(f, is_synced, "the second attempt");
	g_assert_cmpuint(f->make_calls, ==, 2);
	g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_CONNECTED);
	g_assert_cmpuint(reconnect_attempt(f->rc), ==, 0);
	g_assert_null(reconnect_error(f->rc));
}

/* reconnect_free() while waiting, and while a link is being made: no
 * attempt and no handler call afterwards; a link not handed over is
 * closed; the engine keeps what it had. */
static void test_free_waiting(struct fixture *f, gconstpointer data)
{
	g_assert_true(reconnect_start(f->rc));
	start_routine(f, ZB(DP_ZONE_FOREHEAD));
	run_until(f, is_synced, "the first connection");
	drop_at = 1;
	run_until(f, reached_drop_point, "a pass");
	reconnect_set_delay_func(f->rc, NULL, NULL);      /* 1 s */
	f->real_delays = true;
	virtual_roller_detach(f->vr);
	while (reconnect_state(f->rc) != RECONNECT_WAITING)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(f->make_calls, ==, 1);
	g_assert_false(f->destroyed);
	g_clear_pointer(&f->rc, reconnect_free);
	g_assert_true(f->destroyed);
	run_for(1500);
	g_assert_cmpuint(f->make_calls, ==, 1);
	g_assert_cmpstr(f->events->str, ==, "c1,up,w");
	g_assert_cmpint(engine_state(f->engine), ==, ENGINE_STATE_PAUSED);
	g_assert_false(virtual_roller_is_attached(f->vr));
}

static gboolean is_attached(struct fixture *f)
{
	return virtual_roller_is_attached(f->vr);
}

static void test_free_connecting(struct fixture *f, gconstpointer data)
{
	g_assert_true(reconnect_start(f->rc));
	g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_CONNECTING);
	g_assert_true(virtual_roller_is_attached(f->vr));
	g_clear_pointer(&f->rc, reconnect_free);
	g_assert_true(f->destroyed);
	run_for(200);
	g_assert_false(is_attached(f));
	g_assert_cmpstr(f->events->str, ==, "c1");
	g_assert_cmpuint(f->engine_ups, ==, 0);
	g_assert_false(engine_is_connected(f->engine));
}

/* The same while the owner still holds the link being made (dermaroll
 * session keeps every link for its counters): it is closed all the same,
 * and the roller sees the host go (a BlueZ link cancels its Connect()). */
static void test_free_connecting_kept(struct fixture *f, gconstpointer data)
{
	f->kept = g_ptr_array_new_with_free_func((GDestroyNotify)link_unref);
	g_assert_true(reconnect_start(f->rc));
	g_assert_cmpint(reconnect_state(f->rc), ==, RECONNECT_CONNECTING);
	g_assert_cmpuint(f->kept->len, ==, 1);
	g_assert_true(virtual_roller_is_attached(f->vr));
	g_clear_pointer(&f->rc, reconnect_free);
	run_for(200);
	g_assert_false(is_attached(f));
	g_assert_false(link_is_connected(f->kept->pdata[0]));
	g_assert_cmpstr(f->events->str, ==, "c1");
	g_assert_cmpuint(f->engine_ups, ==, 0);
	g_clear_pointer(&f->kept, g_ptr_array_unref);
}

#define ADD(path, func, data) \
	g_test_add(path, struct fixture, data, fixture_setup, func, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/reconnect/delays", test_delays);
	ADD("/reconnect/drops", test_drops, NULL);
	ADD("/reconnect/drop-before-sync", test_drop_before_sync, NULL);
	ADD("/reconnect/wrong-serial", test_wrong_serial, NULL);
	ADD("/reconnect/pinned-serial", test_pinned_serial, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(error_cases); i++)
		ADD(error_cases[i].path, test_error, &error_cases[i]);
	ADD("/reconnect/refused-once", test_refused_once, NULL);
	ADD("/reconnect/remaining", test_remaining, NULL);
	ADD("/reconnect/free/waiting", test_free_waiting, NULL);
	ADD("/reconnect/free/connecting", test_free_connecting, NULL);
	ADD("/reconnect/free/connecting-kept", test_free_connecting_kept, NULL);
	return g_test_run();
}
