/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tui suite's whole-screen tests (as tig's): a script of keys and
 * engine events drives the driver against an in-process virtual roller,
 * with the clock pinned, and the screen is drawn into a text buffer at
 * 80x24 and at 120x36 and compared with the dumps in tests/tui/expected/.
 *
 * A dump file holds the text of the screen, then the style of every cell
 * with colour (one letter per style, draw.c), then its attributes without
 * colour (b bold, r reverse, u underline, d dim, R reverse and bold, * any
 * other mix); a blank is plain text.  Trailing blanks are cut.
 *
 * To write the dumps again after a change to a screen, run
 *	TUI_REGENERATE=1 meson test -C BUILD --suite tui screens
 * and read the diff before committing it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "draw.h"
#include "driver.h"
#include "request.h"
#include "sim.h"
#include "virtual-roller.h"

/* Wed 2026-11-25 08:00:00 UTC */
#define T0_MS G_GINT64_CONSTANT(1795593600000)
#define SPEED 40.0
#define WAIT_S 30

/* ---- The text screen ---- */

struct screen {
	int rows, cols;
	gunichar *cell;
	enum style *style;
};

static void screen_text(void *ctx, int row, int col, enum style style, const char *text)
{
	struct screen *s = ctx;

	for (const char *p = text; *p && col < s->cols; p = g_utf8_next_char(p), col++) {
		s->cell[row * s->cols + col] = g_utf8_get_char(p);
		s->style[row * s->cols + col] = style;
	}
}

static const struct draw_ops screen_ops = {
	.text = screen_text,
};

static char mono_code(unsigned int mono)
{
	switch (mono) {
	case 0:
		return ' ';
	case LOOK_BOLD:
		return 'b';
	case LOOK_REVERSE:
		return 'r';
	case LOOK_UNDERLINE:
		return 'u';
	case LOOK_DIM:
		return 'd';
	case LOOK_REVERSE | LOOK_BOLD:
		return 'R';
	default:
		return '*';
	}
}

static void append_line(GString *out, GString *line)
{
	while (line->len && line->str[line->len - 1] == ' ')
		g_string_truncate(line, line->len - 1);
	g_string_append(out, line->str);
	g_string_append_c(out, '\n');
	g_string_truncate(line, 0);
}

/* The screen of @tui at @rows x @cols, as a dump. */
static char *dump(struct tui *tui, int rows, int cols)
{
	struct screen s = { rows, cols, NULL, NULL };
	struct draw d = { &screen_ops, &s, rows, cols, true };
	GString *out = g_string_new(NULL);
	g_autoptr(GString) line = g_string_new(NULL);

	s.cell = g_new(gunichar, rows * cols);
	s.style = g_new0(enum style, rows * cols);
	for (int i = 0; i < rows * cols; i++)
		s.cell[i] = ' ';
	tui_draw(tui, &d);
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++)
			g_string_append_unichar(line, s.cell[r * cols + c]);
		append_line(out, line);
	}
	g_string_append(out, "-- colour\n");
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++)
			g_string_append_c(line, draw_style_look(s.style[r * cols + c])->code);
		append_line(out, line);
	}
	g_string_append(out, "-- mono\n");
	for (int r = 0; r < rows; r++) {
		for (int c = 0; c < cols; c++)
			g_string_append_c(line, mono_code(draw_style_look(s.style[r * cols + c])->mono));
		append_line(out, line);
	}
	g_free(s.cell);
	g_free(s.style);
	return g_string_free(out, FALSE);
}

/* ---- The fixture ---- */

/* How a test starts; NULL: on the routine's checklist, an empty history. */
struct setup {
	bool home;                   /* on the home screen */
	uint16_t head_uses;          /* the virtual roller's head */
	/* Writes a history through store.h before the roller comes. */
	void (*fill)(struct store *store);
};

struct fixture {
	char *dir;
	struct policy *policy;
	struct store *store;
	struct virtual_roller *vr;
	struct tui *tui;
	struct engine_clock clock;
	int64_t now_ms;
	unsigned int changed;
	bool quit;
	GTimeZone *tz;
};

static int64_t pinned_now(void *data)
{
	return ((struct fixture *)data)->now_ms;
}

static void on_changed(void *data)
{
	((struct fixture *)data)->changed++;
}

static void on_quit(void *data)
{
	((struct fixture *)data)->quit = true;
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	const struct setup *setup = data;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	struct virtual_roller_options vo;
	struct tui_options to = { 0 };
	struct tui_hooks hooks = { on_changed, on_quit, f };
	struct link *link;

	f->dir = g_dir_make_tmp("test-screens-XXXXXX", &error);
	g_assert_no_error(error);
	path = g_build_filename(f->dir, "demo.db", NULL);
	f->store = store_open(path, STORE_OPEN_CREATE, &error);
	g_assert_no_error(error);
	f->policy = policy_load_default(&error);
	g_assert_no_error(error);
	f->now_ms = T0_MS;
	f->clock = (struct engine_clock) { pinned_now, NULL, f };
	f->tz = g_time_zone_new_utc();
	if (setup && setup->fill)
		setup->fill(f->store);

	virtual_roller_options_default(&vo);
	vo.speed = SPEED;
	vo.autopilot = FALSE;
	if (setup)
		vo.head_uses = setup->head_uses;
	link = sim_start(f->store, &vo, &f->vr, &error);
	g_assert_no_error(error);
	g_assert_nonnull(link);

	to.policy = f->policy;
	to.store = f->store;
	to.clock = &f->clock;
	to.engine.auto_advance = true;
	to.roller = f->vr;
	to.tz = f->tz;
	to.home = setup && setup->home;
	f->tui = tui_new(&to, &hooks, &error);
	g_assert_no_error(error);
	tui_set_link(f->tui, link);
	link_unref(link);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autofree char *db = g_build_filename(f->dir, "demo.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	tui_free(f->tui);
	virtual_roller_unref(f->vr);
	store_close(f->store);
	policy_free(f->policy);
	g_time_zone_unref(f->tz);
	g_unlink(db);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(f->dir);
	/* What the roller and the link left must not run into the next test. */
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* ---- The script ---- */

static bool wait_for(struct fixture *f, bool (*done)(struct fixture *f, const char *arg),
		     const char *arg)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC;

	while (!done(f, arg)) {
		if (g_get_monotonic_time() > deadline)
			return false;
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	return true;
}

static bool connected(struct fixture *f, const char *arg)
{
	struct engine *e = tui_engine(f->tui);

	return engine_is_connected(e) && engine_roller_status(e);
}

static bool in_state(struct fixture *f, const char *arg)
{
	return g_strcmp0(engine_state_name(engine_state(tui_engine(f->tui))), arg) == 0;
}

/* @arg passes in all, the roller rests, and every pass is
 * stored and acked: nothing more is on its way. */
static bool passes(struct fixture *f, const char *arg)
{
	struct engine *e = tui_engine(f->tui);
	unsigned int total = 0;

	for (int z = 1; z <= ZONE_COUNT; z++)
		total += engine_zone_counts(e, z)->total;
	return total == (unsigned int)atoi(arg) && virtual_roller_is_resting(f->vr) &&
	       engine_sync_idle(e);
}

static bool in_view(struct fixture *f, const char *arg)
{
	return g_strcmp0(tui_view_name(f->tui), arg) == 0;
}

static void compare(const char *name, const char *got)
{
	const char *dir = g_getenv("TUI_EXPECTED_DIR");
	g_autofree char *path = NULL;
	g_autofree char *want = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(dir);
	path = g_strdup_printf("%s/%s.txt", dir, name);
	if (g_getenv("TUI_REGENERATE")) {
		g_file_set_contents(path, got, -1, &error);
		g_assert_no_error(error);
		g_test_message("wrote %s", path);
		return;
	}
	if (!g_file_get_contents(path, &want, NULL, &error))
		g_error("%s: %s (TUI_REGENERATE=1 writes it)", path, error->message);
	if (strcmp(want, got) != 0) {
		g_auto(GStrv) w = g_strsplit(want, "\n", -1);
		g_auto(GStrv) g = g_strsplit(got, "\n", -1);
		guint i = 0;

		while (w[i] && g[i] && strcmp(w[i], g[i]) == 0)
			i++;
		g_test_message("screen %s differs from %s at line %u:\n want: %s\n  got: %s\n"
			       "The whole screen is:\n%s", name, path, i + 1,
			       w[i] ? w[i] : "(end)", g[i] ? g[i] : "(end)", got);
		g_test_fail();
	}
}

/* Both sizes, each with its colour and its mono layer. */
static void dump_screens(struct fixture *f, const char *name)
{
	/* The small one last: the views keep the size they last drew at
	 * for scrolling, as with a real terminal. */
	static const struct { int rows, cols; } sizes[] = { { 36, 120 }, { 24, 80 } };

	for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
		g_autofree char *file = g_strdup_printf("%s-%dx%d", name, sizes[i].cols,
							sizes[i].rows);
		g_autofree char *got = dump(f->tui, sizes[i].rows, sizes[i].cols);

		compare(file, got);
	}
}

static void type(struct fixture *f, const char *text)
{
	for (const char *p = text; *p; p = g_utf8_next_char(p))
		tui_key(f->tui, (int)g_utf8_get_char(p));
}

static void reconnect(struct fixture *f)
{
	g_autoptr(GError) error = NULL;
	struct link *link;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_true(virtual_roller_attach(f->vr, sv[0], &error));
	g_assert_no_error(error);
	link = link_socket_new(sv[1], &error);
	g_assert_no_error(error);
	tui_set_link(f->tui, link);
	link_unref(link);
}

/*
 * One step a line:
 *   keys K...        keys; <Enter> <Esc> <BS> <Down> spell the others
 *   type TEXT        TEXT as typed keys
 *   clock +S         the pinned clock moves S seconds on
 *   force CN         an engine force event of CN centinewtons
 *   connected        wait for the roller to connect and report
 *   state NAME       wait for the engine state NAME
 *   passes N         wait for N passes in all, stored and acked
 *   view NAME        wait for the screen NAME on top
 *   drop             the roller's link drops, as a radio's would
 *   reconnect        a new link to the same roller
 *   dump NAME        compare the screen with expected/NAME-*.txt
 *   quit             assert the driver asked to quit
 */
static void run(struct fixture *f, const char *const *script)
{
	for (const char *const *step = script; *step; step++) {
		g_auto(GStrv) w = g_strsplit(*step, " ", 2);
		const char *arg = w[1] ? w[1] : "";

		if (strcmp(w[0], "keys") == 0) {
			for (const char *p = arg; *p; p++) {
				if (g_str_has_prefix(p, "<Enter>")) {
					tui_key(f->tui, TUI_KEY_ENTER);
					p += 6;
				} else if (g_str_has_prefix(p, "<Esc>")) {
					tui_key(f->tui, TUI_KEY_ESC);
					p += 4;
				} else if (g_str_has_prefix(p, "<BS>")) {
					tui_key(f->tui, TUI_KEY_BACKSPACE);
					p += 3;
				} else if (g_str_has_prefix(p, "<Down>")) {
					tui_key(f->tui, TUI_KEY_DOWN);
					p += 5;
				} else if (g_str_has_prefix(p, "<Space>")) {
					tui_key(f->tui, ' ');
					p += 6;
				} else {
					tui_key(f->tui, *p);
				}
			}
		} else if (strcmp(w[0], "type") == 0) {
			type(f, arg);
		} else if (strcmp(w[0], "clock") == 0) {
			f->now_ms += (int64_t)atoi(arg) * 1000;
		} else if (strcmp(w[0], "force") == 0) {
			struct engine_force force = {
				.last_cn = (uint16_t)atoi(arg),
				.peak_cn = (uint16_t)atoi(arg),
				.band = policy_classify_force(f->policy, (unsigned int)atoi(arg)),
			};

			tui_engine_handler()->force(tui_engine(f->tui), &force, f->tui);
		} else if (strcmp(w[0], "connected") == 0) {
			if (!wait_for(f, connected, arg))
				g_error("step '%s': the roller did not connect", *step);
		} else if (strcmp(w[0], "state") == 0) {
			if (!wait_for(f, in_state, arg))
				g_error("step '%s': the engine is at %s", *step,
					engine_state_name(engine_state(tui_engine(f->tui))));
		} else if (strcmp(w[0], "passes") == 0) {
			if (!wait_for(f, passes, arg))
				g_error("step '%s': the passes did not come", *step);
		} else if (strcmp(w[0], "view") == 0) {
			if (!wait_for(f, in_view, arg))
				g_error("step '%s': the screen is %s", *step, tui_view_name(f->tui));
		} else if (strcmp(w[0], "drop") == 0) {
			virtual_roller_detach(f->vr);
		} else if (strcmp(w[0], "reconnect") == 0) {
			reconnect(f);
		} else if (strcmp(w[0], "dump") == 0) {
			dump_screens(f, arg);
		} else if (strcmp(w[0], "quit") == 0) {
			g_assert_true(f->quit);
		} else {
			g_error("unknown step '%s'", *step);
		}
	}
}

#define ANSWER_ALL_NO_BUT_SANITISED "keys nnnnnnny"

/* ---- The tests ---- */

static void test_checklist(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"dump checklist-first",
		"keys ny",
		"dump checklist-refusing",
		"keys b",
		"keys nnnnnn",
		"dump checklist-last",
		"keys y",
		"state rolling",
		"dump routine-first-zone",
		NULL
	};

	run(f, script);
	g_assert_false(f->quit);
	g_assert_cmpuint(f->changed, >, 0);
}

static void test_rolling(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		ANSWER_ALL_NO_BUT_SANITISED,
		"state rolling",
		"keys <Space><Space><Space><Space>",
		"passes 4",
		"keys d<Space><Space>",
		"passes 6",
		"clock 95",
		"dump rolling-mid-zone",
		"keys <Enter>",
		"dump next-zone-confirm",
		"keys n",
		"keys f",
		"dump finish-confirm",
		"keys y",
		"view aftercare",
		"state finished",
		"clock 30",
		"dump aftercare",
		"keys ?",
		"dump help",
		"keys jjjjjjjjjjjjjjjjjjjj",
		"dump help-scrolled",
		"keys q",
		"view aftercare",
		"keys q",
		"quit",
		NULL
	};
	g_autoptr(GPtrArray) sessions = NULL;
	g_autoptr(GError) error = NULL;
	struct store_session *s;

	run(f, script);
	/* The routine is in the history, stopped early with what was rolled. */
	sessions = store_history(f->store, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(sessions->len, ==, 1);
	s = sessions->pdata[0];
	g_assert_cmpint(s->state, ==, STORE_SESSION_ABORTED);
	g_assert_cmpstr(s->roller_serial, ==, "DR-SIM-0001");
	g_assert_cmpuint(s->zones->len, ==, 1);
	g_assert_cmpuint(g_array_index(s->zones, struct store_zone_result, 0).passes[ZONE_DIR_HORIZONTAL], ==, 4);
	g_assert_cmpuint(g_array_index(s->zones, struct store_zone_result, 0).passes[ZONE_DIR_VERTICAL], ==, 2);
	g_ptr_array_set_free_func(sessions, (GDestroyNotify)store_session_free);
}

static void test_zone_locked(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys nynnnnny",
		"state zone-locked",
		"clock 12",
		"dump zone-locked",
		"keys o",
		"dump override-prompt",
		"type ok ok",
		"keys <Enter>",
		"dump override-refused",
		"keys <BS><BS><BS><BS><BS>",
		"type My dermatologist saw the skin today and allowed it",
		"dump override-typed",
		"keys <Enter>",
		"state rolling",
		"dump override-passed",
		"keys s",
		"state zone-locked",
		"keys s",
		"dump zone-skipped",
		NULL
	};
	g_autoptr(GPtrArray) overrides = NULL;
	g_autoptr(GError) error = NULL;
	struct store_override *o;

	run(f, script);
	g_assert_cmpint(engine_session_id(tui_engine(f->tui)), >, 0);
	overrides = store_overrides(f->store, engine_session_id(tui_engine(f->tui)), &error);
	g_assert_no_error(error);
	g_ptr_array_set_free_func(overrides, (GDestroyNotify)store_override_free);
	g_assert_cmpuint(overrides->len, ==, 1);
	o = overrides->pdata[0];
	g_assert_cmpint(o->zone, ==, DP_ZONE_FOREHEAD);
	g_assert_cmpint(o->kind, ==, STORE_OVERRIDE_CHECKLIST);
	g_assert_cmpstr(o->reason, ==, "My dermatologist saw the skin today and allowed it");
}

static void test_too_hard(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		ANSWER_ALL_NO_BUT_SANITISED,
		"state rolling",
		"keys ++++",
		"keys <Space>",
		"passes 1",
		"force 652",
		"clock 20",
		"dump too-hard",
		"keys ---",
		"keys <Space><Space><Space><Space><Space>",
		"passes 6",
		"force 0",
		"dump max-passes",
		NULL
	};

	run(f, script);
	g_assert_cmpuint(engine_zone_counts(tui_engine(f->tui), DP_ZONE_FOREHEAD)->too_hard, ==, 1);
}

/* The link drops mid-zone: the routine waits with a banner that says so,
 * and goes on where it was once the roller is back. */
static void test_link_dropped(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		ANSWER_ALL_NO_BUT_SANITISED,
		"state rolling",
		"keys <Space><Space>",
		"passes 2",
		"drop",
		"state paused",
		"clock 40",
		"dump link-dropped",
		"reconnect",
		"state rolling",
		"connected",
		"keys <Space>",
		"passes 3",
		"dump link-back",
		NULL
	};

	run(f, script);
	g_assert_cmpuint(engine_zone_counts(tui_engine(f->tui), DP_ZONE_FOREHEAD)->total, ==, 3);
}

/* The helpers the views draw with: clipping and wrapping. */
static void test_draw_helpers(void)
{
	static const struct {
		const char *text;
		int width;
		int lines;
	} wraps[] = {
		{ "", 10, 0 },
		{ "one", 10, 1 },
		{ "one two three", 7, 2 },         /* "one two" | "three" */
		{ "one two three", 3, 4 },         /* "three" breaks hard too */
		{ "abcdefghij", 4, 3 },            /* a word longer than the line */
		{ "décolletage and neck", 11, 2 }, /* characters, not bytes */
	};
	struct screen s = { 3, 10, NULL, NULL };
	struct draw d = { &screen_ops, &s, 3, 10, true };
	char n[16];

	for (size_t i = 0; i < G_N_ELEMENTS(wraps); i++)
		g_assert_cmpint(draw_wrap_lines(wraps[i].width, wraps[i].text), ==, wraps[i].lines);
	g_assert_cmpint(draw_wrap_lines(0, "text"), ==, 0);

	s.cell = g_new(gunichar, 30);
	s.style = g_new0(enum style, 30);
	for (int i = 0; i < 30; i++)
		s.cell[i] = ' ';
	/* Clipped at the right edge; rows off the screen draw nothing. */
	g_assert_cmpint(draw_text(&d, 0, 7, STYLE_BAD, "abcdef"), ==, 10);
	g_assert_cmpint(s.cell[9], ==, 'c');
	g_assert_cmpint(s.style[9], ==, STYLE_BAD);
	g_assert_cmpint(draw_text(&d, 3, 0, STYLE_NORMAL, "x"), ==, 0);
	g_assert_cmpint(draw_text(&d, -1, 0, STYLE_NORMAL, "x"), ==, 0);
	/* Left of the screen: the characters there are cut off. */
	g_assert_cmpint(draw_text(&d, 1, -2, STYLE_NORMAL, "déf"), ==, 1);
	g_assert_cmpint(s.cell[10], ==, 'f');
	g_assert_cmpint(draw_wrap(&d, 2, 0, 4, 1, STYLE_NORMAL, "wrap me"), ==, 1);
	g_assert_cmpint(s.cell[20], ==, 'w');
	g_free(s.cell);
	g_free(s.style);

	g_assert_cmpstr(draw_newton(n, 0), ==, "0.0");
	g_assert_cmpstr(draw_newton(n, 254), ==, "2.5");
	g_assert_cmpstr(draw_newton(n, 255), ==, "2.6");
	g_assert_cmpstr(draw_newton(n, 1000), ==, "10.0");
}

/* The help lists every request of the table, with its key. */
static void test_help_lists_every_key(void)
{
	size_t count;
	const struct request_info *table = request_table(&count);

	g_assert_cmpuint(count, ==, REQ_COUNT - 1);
	for (size_t i = 0; i < count; i++) {
		g_assert_cmpint(keymap_request(table[i].key), ==, table[i].request);
		g_assert_cmpuint(strlen(table[i].help), >, 5);
		for (size_t j = 0; j < i; j++)
			g_assert_cmpint(table[j].key, !=, table[i].key);
	}
	g_assert_cmpint(keymap_request(TUI_KEY_DOWN), ==, REQ_SCROLL_DOWN);
	g_assert_cmpint(keymap_request('\r'), ==, REQ_NEXT_ZONE);
	g_assert_cmpint(keymap_request('Z'), ==, REQ_NONE);
}

/* A screen too small says so instead of drawing over itself. */
static void test_too_small(struct fixture *f, gconstpointer data)
{
	g_autofree char *got = dump(f->tui, 20, 60);

	g_assert_true(g_str_has_prefix(got, "dermaroll needs a terminal of at least 80 columns and 24\n"));
}


/* ---- A history written through store.h ---- */

#define DAY_MS G_GINT64_CONSTANT(86400000)
#define HOUR_MS G_GINT64_CONSTANT(3600000)

static const uint8_t face_zones[] = {
	DP_ZONE_FOREHEAD, DP_ZONE_LEFT_CHEEK, DP_ZONE_RIGHT_CHEEK, DP_ZONE_NOSE,
	DP_ZONE_CHIN, DP_ZONE_UPPER_LIP, DP_ZONE_NECK,
};

/* One stored session: @n zones of @zones, @per_dir passes each way and
 * a mean pressure of @mean_cn, a zone every five minutes from @start_ms. */
static int64_t add_session(struct store *store, int64_t roller, int64_t head,
			   int64_t start_ms, const uint8_t *zones, size_t n,
			   uint16_t per_dir, uint16_t mean_cn,
			   enum store_session_state state)
{
	g_autoptr(GError) error = NULL;
	struct store_session_start start = {
		.roller_id = roller, .head_id = head, .started_ms = start_ms,
	};
	int64_t id = 0;

	g_assert_true(store_session_begin(store, &start, &id, &error));
	g_assert_no_error(error);
	for (size_t i = 0; i < n; i++) {
		struct store_zone_result r = {
			.zone = zones[i],
			.passes = { per_dir, per_dir, per_dir },
			.mean_force_cn = mean_cn,
			.peak_force_cn = (uint16_t)(mean_cn + 120),
			.over_warn_ms = mean_cn > 450 ? 1500 : 0,
			.started_ms = start_ms + (int64_t)i * 300000,
			.ended_ms = start_ms + (int64_t)i * 300000 + 240000,
		};

		g_assert_true(store_zone_result_record(store, id, &r, &error));
		g_assert_no_error(error);
	}
	g_assert_true(store_session_end(store, id, start_ms + (int64_t)n * 300000, state,
					&error));
	g_assert_no_error(error);
	return id;
}

/*
 * The bathroom roller's last weeks (T0 is Wed 25 Nov 08:00): the face on
 * 15 Oct and 4 Nov, the scalp on 15 Nov, then last night the forehead
 * again under an override and the left cheek, stopped early; a reaction
 * the next morning.  The body zones on 23 Oct, too lightly.  Its head has
 * been used 8 times.
 */
static void fill_sessions(struct store *store)
{
	static const uint8_t scalp[] = { DP_ZONE_SCALP };
	static const uint8_t body[] = { DP_ZONE_NECK, DP_ZONE_DECOLLETAGE, DP_ZONE_HANDS };
	static const uint8_t last_night[] = { DP_ZONE_FOREHEAD, DP_ZONE_LEFT_CHEEK };
	g_autoptr(GError) error = NULL;
	int64_t roller = 0, head = 0, id;
	struct store_journal_entry reaction = {
		.at_ms = T0_MS - 1 * HOUR_MS, .zone = DP_ZONE_FOREHEAD,
		.redness = 2, .swelling = 1, .note = (char *)"Warm and a little red",
	};

	g_assert_true(store_roller_update(store, "DR-TEST-0001", "1.0.0",
					  T0_MS - 41 * DAY_MS, &roller, &error));
	g_assert_true(store_roller_rename(store, roller, "Bathroom roller", &error));
	g_assert_true(store_head_fit(store, roller, "H-0001", 500, T0_MS - 41 * DAY_MS, 8,
				     &head, &error));
	g_assert_no_error(error);
	add_session(store, roller, head, T0_MS - 41 * DAY_MS + 11 * HOUR_MS, face_zones,
		    G_N_ELEMENTS(face_zones), 4, 250, STORE_SESSION_COMPLETED);
	add_session(store, roller, head, T0_MS - 33 * DAY_MS + 11 * HOUR_MS, body,
		    G_N_ELEMENTS(body), 5, 90, STORE_SESSION_COMPLETED);
	add_session(store, roller, head, T0_MS - 21 * DAY_MS + 11 * HOUR_MS, face_zones,
		    G_N_ELEMENTS(face_zones), 4, 310, STORE_SESSION_COMPLETED);
	add_session(store, roller, head, T0_MS - 10 * DAY_MS + 11 * HOUR_MS, scalp, 1, 5, 380,
		    STORE_SESSION_COMPLETED);
	id = add_session(store, roller, head, T0_MS - 12 * HOUR_MS, last_night,
			 G_N_ELEMENTS(last_night), 4, 470, STORE_SESSION_ABORTED);
	g_assert_true(store_override_add(store, id, DP_ZONE_FOREHEAD, STORE_OVERRIDE_INTERVAL,
					 "My dermatologist said the forehead may go again",
					 T0_MS - 12 * HOUR_MS, &error));
	g_assert_true(store_journal_add(store, &reaction, NULL, &error));
	g_assert_no_error(error);
}

/* ---- The home and history screens ---- */

static const struct setup home_empty = { .home = true };
static const struct setup home_sessions = { .home = true, .fill = fill_sessions };
static const struct setup home_worn = { .home = true, .head_uses = 10 };

/* A first run: the roller just came, nothing is locked; Enter starts the
 * routine, and q on its checklist comes back home. */
static void test_home_empty(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"view home",
		"connected",
		"dump home-empty",
		"keys h",
		"view history",
		"dump history-empty",
		"keys 2",
		"dump history-zone-empty",
		"keys q",
		"keys y<Space>",
		"view home",
		"keys <Enter>",
		"view routine",
		"keys q",
		"view home",
		"keys r",
		"view routine",
		"keys nnnnnnny",
		"state rolling",
		"keys q",
		"view routine",
		NULL
	};

	run(f, script);
	g_assert_false(f->quit);
	g_assert_cmpint(engine_session_id(tui_engine(f->tui)), >, 0);
}

static void test_home_sessions(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"dump home-sessions",
		"keys jjjj",
		"dump home-sessions-scrolled",
		"keys q",
		"quit",
		NULL
	};

	run(f, script);
}

/* Every page of the history, the last session in full. */
static void test_history(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys h",
		"view history",
		"dump history-calendar",
		"keys 2",
		"dump history-zone-forehead",
		"keys ]]]]]]",
		"dump history-zone-neck",
		"keys [[[[[[[",
		"dump history-zone-scalp",
		"keys 3",
		"dump history-sessions",
		"keys jk<Enter>",
		"dump history-session-detail",
		"keys q",
		"keys jjj<Enter>",
		"dump history-session-body",
		"keys q",
		"keys 4",
		"dump history-reactions",
		"keys q",
		"view home",
		NULL
	};

	run(f, script);
	g_assert_false(f->quit);
}

static void test_home_worn_head(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"dump home-worn-head",
		NULL
	};

	run(f, script);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) \
	g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)
	ADD("/tui/routine/checklist", test_checklist);
	ADD("/tui/routine/rolling-aftercare-help", test_rolling);
	ADD("/tui/routine/zone-locked-override", test_zone_locked);
	ADD("/tui/routine/too-hard-max-passes", test_too_hard);
	ADD("/tui/routine/link-dropped", test_link_dropped);
	ADD("/tui/robustness/too-small", test_too_small);
#define ADD_SETUP(path, setup, fn) \
	g_test_add(path, struct fixture, setup, fixture_setup, fn, fixture_teardown)
	ADD_SETUP("/tui/home/empty-history", &home_empty, test_home_empty);
	ADD_SETUP("/tui/home/sessions-locks-reminders", &home_sessions, test_home_sessions);
	ADD_SETUP("/tui/home/worn-head", &home_worn, test_home_worn_head);
	ADD_SETUP("/tui/history/pages", &home_sessions, test_history);
#undef ADD_SETUP
#undef ADD
	g_test_add_func("/tui/request/table", test_help_lists_every_key);
	g_test_add_func("/tui/draw/helpers", test_draw_helpers);
	return g_test_run();
}
