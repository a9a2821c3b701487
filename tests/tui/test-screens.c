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
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "bluez.h"
#include "draw.h"
#include "driver.h"
#include "pairing.h"
#include "request.h"
#include "settings.h"
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

/* ---- A scripted Bluetooth for the pairing wizard ---- */

struct fake_pairing {
	struct pairing base;
	enum pairing_problem check_problem;  /* what the next check finds */
	unsigned int checks, power_ons, scans, cancels;
	bool scanning;
	char paired[18];             /* the address pairing_pair() got */
	char info_for[18];           /* the address pairing_read_info() got */
	int replies;                 /* pairing_reply() calls */
	bool accepted;
	uint32_t passkey;
};

/* Each problem with the sentence the BlueZ path gives for it. */
static GError *fake_error(enum pairing_problem problem)
{
	g_autoptr(GError) dbus = NULL;

	switch (problem) {
	case PAIRING_NO_ADAPTER:
		return bluez_error_new(BLUEZ_NO_ADAPTER, NULL);
	case PAIRING_OFF:
		return bluez_error_new(BLUEZ_POWERED_OFF, NULL);
	case PAIRING_RFKILL:
		return bluez_error_new(BLUEZ_RFKILL, NULL);
	case PAIRING_NOT_RUNNING:
		return bluez_error_new(BLUEZ_NOT_RUNNING, NULL);
	case PAIRING_NOT_PAIRING:
		return bluez_error_new(BLUEZ_NOT_PAIRING, "C0:FF:EE:00:00:01");
	case PAIRING_NEWER:
		return bluez_error_new(BLUEZ_NEWER_ROLLER, "2");
	case PAIRING_REFUSED:
		dbus = g_dbus_error_new_for_dbus_error("org.bluez.Error.AuthenticationRejected",
						       "Authentication Rejected");
		return bluez_error_from_dbus(dbus, BLUEZ_OP_PAIR);
	case PAIRING_NO_BUS:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT,
					   "The system message bus, which Bluetooth needs, cannot "
					   "be reached.");
	default:
		break;
	}
	return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT, "It went wrong.");
}

static void fake_emit(struct pairing *p, enum pairing_event_kind kind,
		      enum pairing_problem problem)
{
	g_autoptr(GError) error = problem == PAIRING_OK ? NULL : fake_error(problem);

	pairing_emit_problem(p, kind, problem, error ? error->message : NULL);
}

static void fake_check(struct pairing *p)
{
	struct fake_pairing *fp = (struct fake_pairing *)p;

	fp->checks++;
	fake_emit(p, PAIRING_EVENT_CHECKED, fp->check_problem);
}

static void fake_power_on(struct pairing *p)
{
	struct fake_pairing *fp = (struct fake_pairing *)p;

	fp->power_ons++;
	fp->check_problem = PAIRING_OK;
	fake_emit(p, PAIRING_EVENT_POWERED, PAIRING_OK);
}

static void fake_scan_start(struct pairing *p)
{
	struct fake_pairing *fp = (struct fake_pairing *)p;

	fp->scans++;
	fp->scanning = true;
}

static void fake_scan_stop(struct pairing *p)
{
	((struct fake_pairing *)p)->scanning = false;
}

static void fake_pair(struct pairing *p, const char *address)
{
	g_strlcpy(((struct fake_pairing *)p)->paired, address, 18);
}

static void fake_reply(struct pairing *p, bool accept, uint32_t passkey)
{
	struct fake_pairing *fp = (struct fake_pairing *)p;

	fp->replies++;
	fp->accepted = accept;
	fp->passkey = passkey;
}

static void fake_read_info(struct pairing *p, const char *address)
{
	g_strlcpy(((struct fake_pairing *)p)->info_for, address, 18);
}

static void fake_cancel(struct pairing *p)
{
	((struct fake_pairing *)p)->cancels++;
}

static void fake_free(struct pairing *p)
{
	g_free(p);
}

static const struct pairing_ops fake_ops = {
	.check = fake_check,
	.power_on = fake_power_on,
	.scan_start = fake_scan_start,
	.scan_stop = fake_scan_stop,
	.pair = fake_pair,
	.reply = fake_reply,
	.read_info = fake_read_info,
	.cancel = fake_cancel,
	.free = fake_free,
};

static const struct {
	const char *name;
	enum pairing_problem problem;
} problem_names[] = {
	{ "ok", PAIRING_OK },
	{ "no-bus", PAIRING_NO_BUS },
	{ "not-running", PAIRING_NOT_RUNNING },
	{ "no-adapter", PAIRING_NO_ADAPTER },
	{ "off", PAIRING_OFF },
	{ "rfkill", PAIRING_RFKILL },
	{ "not-pairing", PAIRING_NOT_PAIRING },
	{ "newer", PAIRING_NEWER },
	{ "refused", PAIRING_REFUSED },
	{ "info-failed", PAIRING_INFO_FAILED },
};

static enum pairing_problem problem_named(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(problem_names); i++)
		if (strcmp(problem_names[i].name, name) == 0)
			return problem_names[i].problem;
	g_error("no problem called '%s'", name);
}

/* "ADDRESS RSSI FLAGS [NAME]": FLAGS p pairing, b bonded, n newer, - none. */
static void fake_roller_event(struct pairing *p, enum pairing_event_kind kind,
			      const char *arg)
{
	g_auto(GStrv) w = g_strsplit(arg, " ", 4);
	struct pairing_roller r = { 0 };
	struct pairing_event ev = { .kind = kind, .roller = &r };

	g_assert_nonnull(w[0]);
	g_strlcpy(r.address, w[0], sizeof(r.address));
	if (w[1] && w[2]) {
		r.rssi = (int16_t)atoi(w[1]);
		r.pairing = strchr(w[2], 'p') != NULL;
		r.bonded = strchr(w[2], 'b') != NULL;
		r.newer = strchr(w[2], 'n') != NULL;
		if (w[3])
			g_strlcpy(r.name, w[3], sizeof(r.name));
	}
	pairing_emit(p, &ev);
}

/*
 * bt check PROBLEM            what the next check finds
 * bt found|changed ROLLER     a roller seen (see fake_roller_event)
 * bt lost ADDRESS
 * bt scan-failed PROBLEM
 * bt ask confirm|passkey|show [N]
 * bt paired PROBLEM
 * bt info NEEDLE_UM | bt info-failed
 */
static void fake_step(struct pairing *p, const char *arg)
{
	struct fake_pairing *fp = (struct fake_pairing *)p;
	g_auto(GStrv) w = g_strsplit(arg, " ", 2);
	const char *rest = w[1] ? w[1] : "";

	if (strcmp(w[0], "check") == 0) {
		fp->check_problem = problem_named(rest);
	} else if (strcmp(w[0], "found") == 0) {
		fake_roller_event(p, PAIRING_EVENT_FOUND, rest);
	} else if (strcmp(w[0], "changed") == 0) {
		fake_roller_event(p, PAIRING_EVENT_CHANGED, rest);
	} else if (strcmp(w[0], "lost") == 0) {
		fake_roller_event(p, PAIRING_EVENT_LOST, rest);
	} else if (strcmp(w[0], "scan-failed") == 0) {
		fake_emit(p, PAIRING_EVENT_SCAN_FAILED, problem_named(rest));
	} else if (strcmp(w[0], "ask") == 0) {
		struct pairing_event ev = { .kind = PAIRING_EVENT_ASK };
		g_auto(GStrv) a = g_strsplit(rest, " ", 2);

		ev.ask = strcmp(a[0], "confirm") == 0 ? PAIRING_ASK_CONFIRM :
			strcmp(a[0], "passkey") == 0 ? PAIRING_ASK_PASSKEY :
			strcmp(a[0], "show") == 0 ? PAIRING_ASK_SHOW : PAIRING_ASK_CANCELLED;
		ev.passkey = a[1] ? (uint32_t)atoi(a[1]) : 0;
		pairing_emit(p, &ev);
	} else if (strcmp(w[0], "paired") == 0) {
		fake_emit(p, PAIRING_EVENT_PAIRED, problem_named(rest));
	} else if (strcmp(w[0], "info") == 0) {
		struct dp_info info = {
			.needle_um = (uint16_t)atoi(rest), .head_uses = 3,
			.force_scale_pm = 1000, .ticks_per_10mm = 100, .warn_force_cn = 450,
		};
		struct pairing_event ev = { .kind = PAIRING_EVENT_INFO, .info = &info };

		g_strlcpy(info.firmware, "1.2.0", sizeof(info.firmware));
		g_strlcpy(info.serial, "DR-TEST-0042", sizeof(info.serial));
		g_strlcpy(info.head_serial, "H-0042", sizeof(info.head_serial));
		pairing_emit(p, &ev);
	} else if (strcmp(w[0], "info-failed") == 0) {
		fake_emit(p, PAIRING_EVENT_INFO, PAIRING_INFO_FAILED);
	} else {
		g_error("unknown bt step '%s'", arg);
	}
}

/* ---- The fixture ---- */

/* How a test starts; NULL: on the routine's checklist, an empty history. */
struct setup {
	bool home;                   /* on the home screen */
	uint16_t head_uses;          /* the virtual roller's head */
	/* Writes a history through store.h before the roller comes. */
	void (*fill)(struct store *store);
	bool no_roller;              /* no roller at all */
	bool pairing;                /* the scripted Bluetooth of the wizard */
	bool simulated_pairing;      /* the virtual rollers nearby instead */
	bool settings;               /* a settings file (dermaroll.conf, in the test's folder) */
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
	struct pairing *pairing;
	struct settings settings;
	char *cwd;
	char *paired;                /* the address the paired hook got */
};

static void on_paired(const char *address, void *data)
{
	struct fixture *f = data;

	g_free(f->paired);
	f->paired = g_strdup(address);
}

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
	struct tui_hooks hooks = {
		.changed = on_changed, .quit = on_quit, .paired = on_paired, .user_data = f,
	};
	struct link *link = NULL;

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

	if (!setup || !setup->no_roller) {
		virtual_roller_options_default(&vo);
		vo.speed = SPEED;
		vo.autopilot = FALSE;
		if (setup)
			vo.head_uses = setup->head_uses;
		link = sim_start(f->store, &vo, &f->vr, &error);
		g_assert_no_error(error);
		g_assert_nonnull(link);
	}
	if (setup && setup->pairing) {
		struct fake_pairing *fp = g_new0(struct fake_pairing, 1);

		pairing_init(&fp->base, &fake_ops);
		f->pairing = &fp->base;
	} else if (setup && setup->simulated_pairing) {
		f->pairing = pairing_sim_new();
	}
	settings_init(&f->settings);
	if (setup && setup->settings) {
		/* A relative path, so that the screen shows the same one each run. */
		f->cwd = g_get_current_dir();
		g_assert_cmpint(g_chdir(f->dir), ==, 0);
		to.settings = &f->settings;
		to.settings_path = "dermaroll.conf";
	}

	to.policy = f->policy;
	to.store = f->store;
	to.clock = &f->clock;
	to.engine.auto_advance = true;
	to.roller = f->vr;
	to.tz = f->tz;
	to.home = setup && setup->home;
	to.pairing = f->pairing;
	f->tui = tui_new(&to, &hooks, &error);
	g_assert_no_error(error);
	if (link) {
		tui_set_link(f->tui, link);
		link_unref(link);
	}
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	g_autofree char *db = g_build_filename(f->dir, "demo.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	g_autofree char *conf = g_build_filename(f->dir, "dermaroll.conf", NULL);

	tui_free(f->tui);
	pairing_free(f->pairing);
	if (f->vr)
		virtual_roller_unref(f->vr);
	store_close(f->store);
	settings_clear(&f->settings);
	g_free(f->paired);
	if (f->cwd) {
		g_assert_cmpint(g_chdir(f->cwd), ==, 0);
		g_free(f->cwd);
	}
	g_unlink(conf);
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

/* @arg is on the screen at 80x24. */
static bool on_screen(struct fixture *f, const char *arg)
{
	g_autofree char *got = dump(f->tui, 24, 80);

	return strstr(got, arg) != NULL;
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
 *   bt STEP          the scripted Bluetooth (fake_step)
 *   screen TEXT      wait for TEXT on the screen (80x24)
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
		} else if (strcmp(w[0], "bt") == 0) {
			g_assert_nonnull(f->pairing);
			fake_step(f->pairing, arg);
		} else if (strcmp(w[0], "screen") == 0) {
			if (!wait_for(f, on_screen, arg))
				g_error("step '%s': not on the screen:\n%s", *step,
					dump(f->tui, 24, 80));
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
		"view home",
		"dump aftercare-home",
		"keys r",
		"view aftercare",
		"keys q",
		"view home",
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

/* ---- The pairing wizard ---- */

static const struct setup pair_setup = { .home = true, .pairing = true };
static const struct setup pair_unpaired = { .home = true, .pairing = true, .no_roller = true };
static const struct setup pair_simulated = { .home = true, .simulated_pairing = true };

static struct fake_pairing *fake(struct fixture *f)
{
	return (struct fake_pairing *)f->pairing;
}

static struct store_roller *recorded(struct fixture *f, const char *address)
{
	g_autoptr(GError) error = NULL;
	struct store_roller *r = store_roller_by_address(f->store, address, &error);

	g_assert_no_error(error);
	g_assert_nonnull(r);
	return r;
}

/* The whole way: rollers come and change while the list is up, only the
 * ones in pairing mode can be chosen, a number to confirm, a name, the
 * head, done; the roller is in the history with its address. */
static void test_pair_whole(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys p",
		"view pair",
		"bt found C0:FF:EE:00:00:01 -48 p Bathroom",
		"bt found C0:FF:EE:00:00:02 -67 - DR-0002",
		"bt found C0:FF:EE:00:00:03 -81 p",
		"bt found C0:FF:EE:00:00:04 -90 - Gone soon",
		"bt changed C0:FF:EE:00:00:01 -55 p Bathroom",
		"bt lost C0:FF:EE:00:00:04",
		"dump pair-scanning",
		"keys j",
		"dump pair-scanning-chosen",
		"keys jjk",
		"keys <Enter>",
		"dump pair-confirm",
		"keys y",
		"dump pair-pairing",
		"bt ask confirm 123456",
		"dump pair-ask-confirm",
		"keys y",
		"bt paired ok",
		"dump pair-reading",
		"bt info 500",
		"dump pair-naming",
		"keys <BS><BS><BS><BS><BS><BS><BS><BS>",
		"type Bathroom roller",
		"keys <Enter>",
		"dump pair-head",
		"keys <Enter>",
		"dump pair-done",
		"keys <Enter>",
		"view home",
		NULL
	};
	struct store_roller *r;
	struct store_head head = { 0 };
	g_autoptr(GError) error = NULL;

	run(f, script);
	g_assert_cmpstr(fake(f)->paired, ==, "C0:FF:EE:00:00:01");
	g_assert_cmpstr(fake(f)->info_for, ==, "C0:FF:EE:00:00:01");
	g_assert_cmpint(fake(f)->replies, ==, 1);
	g_assert_true(fake(f)->accepted);
	g_assert_false(fake(f)->scanning);
	g_assert_cmpstr(f->paired, ==, "C0:FF:EE:00:00:01");
	r = recorded(f, "c0:ff:ee:00:00:01");
	g_assert_cmpstr(r->serial, ==, "DR-TEST-0042");
	g_assert_cmpstr(r->name, ==, "Bathroom roller");
	g_assert_cmpstr(r->firmware, ==, "1.2.0");
	g_assert_true(store_head_current(f->store, r->id, &head, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(head.serial, ==, "H-0042");
	g_assert_cmpuint(head.needle_um, ==, 500);
	store_head_clear(&head);
	store_roller_free(r);
}

/* A passkey typed, Esc for the name (the serial stays), and a head of
 * needles too long for home use. */
static void test_pair_head_refused(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys p",
		"bt found C0:FF:EE:00:00:07 -60 b Old one",
		"keys <Enter>y",
		"bt ask passkey",
		"keys 12x3",
		"keys <Enter>",
		"dump pair-ask-passkey",
		"keys 456<Enter>",
		"bt ask show 654321",
		"dump pair-ask-show",
		"bt paired ok",
		"bt info 1500",
		"keys <Esc>",
		"dump pair-head-refused",
		"keys q",
		"view home",
		NULL
	};
	struct store_roller *r;

	run(f, script);
	g_assert_cmpint(fake(f)->replies, ==, 1);
	g_assert_true(fake(f)->accepted);
	g_assert_cmpuint(fake(f)->passkey, ==, 123456);
	r = recorded(f, "C0:FF:EE:00:00:07");
	g_assert_cmpstr(r->name, ==, "DR-TEST-0042");
	store_roller_free(r);
}

/* Every screen Bluetooth can fail on, each with its way back. */
static void test_pair_failures(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"bt check no-adapter",
		"keys p",
		"dump pair-no-adapter",
		"bt check rfkill",
		"keys <Enter>",
		"dump pair-rfkill",
		"bt check not-running",
		"keys <Enter>",
		"dump pair-not-running",
		"bt check no-bus",
		"keys <Enter>",
		"dump pair-no-bus",
		"bt check off",
		"keys <Enter>",
		"dump pair-off",
		"keys y",
		"dump pair-scanning-empty",
		"bt found C0:FF:EE:00:00:01 -50 p Bathroom",
		"keys <Enter>y",
		"bt paired not-pairing",
		"dump pair-not-pairing",
		"keys <Enter>",
		"bt found C0:FF:EE:00:00:09 -50 pn Future",
		"dump pair-scanning-newer",
		"keys <Enter>y",
		"bt paired newer",
		"dump pair-newer",
		"keys <Enter>",
		"bt found C0:FF:EE:00:00:01 -50 p Bathroom",
		"keys <Enter>y",
		"bt paired refused",
		"dump pair-refused",
		"keys <Enter>",
		"bt found C0:FF:EE:00:00:01 -50 p Bathroom",
		"keys <Enter>y",
		"bt paired ok",
		"bt info-failed",
		"dump pair-info-failed",
		"keys <Enter>",
		"bt scan-failed off",
		"view pair",
		"keys n",
		"view home",
		"dump pair-declined-power",
		NULL
	};

	run(f, script);
	g_assert_cmpuint(fake(f)->power_ons, ==, 1);
	g_assert_cmpuint(fake(f)->checks, ==, 6);
	/* The scan was started afresh after each failure. */
	g_assert_cmpuint(fake(f)->scans, ==, 5);
	g_assert_false(fake(f)->scanning);
	g_assert_cmpuint(fake(f)->cancels, >=, 1);
	g_assert_null(f->paired);
}

/* With nothing paired and nobody connected, home says so and offers the
 * wizard; and the line that says why the roller cannot be reached. */
static void test_home_unpaired(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"view home",
		"dump home-unpaired",
		"keys p",
		"view pair",
		"keys q",
		"view home",
		NULL
	};

	tui_set_roller_status(f->tui, true, "Bathroom roller (DR-TEST-0001) cannot be reached. "
			      "The Bluetooth service (bluetoothd) is not running. Trying again in 4 s.");
	run(f, script);
	tui_set_roller_status(f->tui, false, NULL);
	g_assert_false(f->quit);
}

/* The virtual rollers nearby of --simulate, in real time: three come, one
 * of them not in pairing mode; the first is paired through a virtual
 * roller's INFO and recorded with its address. */
static void test_pair_simulated(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys p",
		"screen DR-7A21",
		"screen not in pairing mode: hold its button 2 s",
		"screen DR-3C09",
		"keys <Enter>",
		"screen Pair with the roller DR-7A21?",
		"keys y",
		"screen Name this roller",
		"keys <Enter>",
		"screen has 0.5 mm needles and has been used 3 times",
		"keys <Enter>",
		"dump pair-simulated-done",
		NULL
	};
	struct store_roller *r;

	run(f, script);
	r = recorded(f, "C0:FF:EE:00:7A:21");
	g_assert_cmpstr(r->serial, ==, "DR-NEAR-7A21");
	g_assert_cmpstr(r->name, ==, "DR-7A21");
	store_roller_free(r);
}

/* ---- Settings ---- */

static const struct setup settings_setup = { .home = true, .settings = true };

/* A zone added and moving on turned off: saved at once (0600), read back
 * the same, and the routine started afterwards uses them. */
static void test_settings(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys c",
		"view settings",
		"dump settings",
		"keys jjjjjjjj<Enter>",
		"keys jj<Enter>",
		"dump settings-changed",
		"keys jj<Enter>",
		"type hci7",
		"dump settings-adapter",
		"keys <Enter>",
		"keys q",
		"view home",
		"keys r",
		"view routine",
		NULL
	};
	struct settings back;
	g_autoptr(GError) error = NULL;
	GStatBuf st;

	run(f, script);
	g_assert_cmpint(g_stat("dermaroll.conf", &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	settings_init(&back);
	g_assert_true(settings_load(&back, "dermaroll.conf", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(back.zones, ==, f->settings.zones);
	g_assert_true(back.zones & POLICY_ZONE_BIT(DP_ZONE_HANDS));
	g_assert_false(back.auto_advance);
	g_assert_cmpstr(back.adapter, ==, "hci7");
	g_assert_cmpint(back.colours, ==, SETTINGS_COLOURS_AUTO);
	settings_clear(&back);
	g_assert_cmpint(engine_zone_counts(tui_engine(f->tui), DP_ZONE_HANDS)->status, ==,
			ENGINE_ZONE_PENDING);
	g_assert_cmpint(engine_zone_counts(tui_engine(f->tui), DP_ZONE_SCALP)->status, ==,
			ENGINE_ZONE_NOT_SELECTED);
}

/* Once the routine has begun, a change is saved for the next one. */
static void test_settings_later(struct fixture *f, gconstpointer data)
{
	static const char *const script[] = {
		"connected",
		"keys r",
		"view routine",
		"keys q",
		"view home",
		"keys c",
		"keys k<Enter>",
		"dump settings-next-routine",
		NULL
	};

	run(f, script);
	g_assert_false(f->settings.zones & POLICY_ZONE_BIT(DP_ZONE_FOREHEAD));
	g_assert_cmpint(engine_zone_counts(tui_engine(f->tui), DP_ZONE_FOREHEAD)->status, ==,
			ENGINE_ZONE_PENDING);
}

/* Whatever the file holds, loading gives a sentence and defaults; what
 * is right in it is kept. */
static void test_settings_bad_file(void)
{
	static const struct {
		const char *text;
		const char *says;            /* NULL: no error */
		guint32 zones;               /* 0: the defaults */
		bool auto_advance;
		const char *adapter;
	} cases[] = {
		{ "[routine]\nzones=forehead;neck\nauto-advance=false\n[bluetooth]\nadapter=hci1\n",
		  NULL, POLICY_ZONE_BIT(DP_ZONE_FOREHEAD) | POLICY_ZONE_BIT(DP_ZONE_NECK), false,
		  "hci1" },
		{ "", NULL, 0, true, NULL },
		{ "not a key file\n\x01\x02", "are not in the right form", 0, true, NULL },
		{ "[routine]\nzones=forehead;elbow\n", "'elbow' in zones is not a zone", 0, true,
		  NULL },
		{ "[routine]\nzones=\nauto-advance=false\n", "zones names no zone", 0, false, NULL },
		{ "[routine]\nauto-advance=maybe\n", "auto-advance must be true or false", 0, true,
		  NULL },
		{ "[display]\ncolours=purple\n", "colours must be auto or off", 0, true, NULL },
		{ "[bluetooth]\nadapter=../../etc\n", "adapter must be hci and a number", 0, true,
		  NULL },
		{ "[bluetooth]\nadapter=hci0\n[routine]\nzones=neck\nzones=chin\n", NULL,
		  POLICY_ZONE_BIT(DP_ZONE_CHIN), true, "hci0" },
	};
	g_autofree char *dir = g_dir_make_tmp("test-settings-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "dermaroll.conf", NULL);
	g_autofree char *missing = g_build_filename(dir, "none.conf", NULL);
	struct settings defaults, s;
	g_autoptr(GError) error = NULL;

	settings_init(&defaults);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) e = NULL;
		gboolean ok;

		g_assert_true(g_file_set_contents(path, cases[i].text, -1, NULL));
		settings_init(&s);
		ok = settings_load(&s, path, &e);
		if (cases[i].says) {
			g_assert_false(ok);
			g_assert_nonnull(e);
			g_assert_nonnull(strstr(e->message, cases[i].says));
			g_assert_nonnull(strstr(e->message, path));
		} else {
			g_assert_true(ok);
			g_assert_no_error(e);
		}
		g_assert_cmpuint(s.zones, ==, cases[i].zones ? cases[i].zones : defaults.zones);
		g_assert_cmpint(s.auto_advance, ==, cases[i].auto_advance);
		g_assert_cmpstr(s.adapter, ==, cases[i].adapter);
		settings_clear(&s);
	}
	/* No file: the defaults, and no error. */
	settings_init(&s);
	g_assert_true(settings_load(&s, missing, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(s.zones, ==, defaults.zones);
	/* A folder where the file should be cannot be read. */
	g_assert_false(settings_load(&s, dir, &error));
	g_assert_nonnull(strstr(error->message, "could not be read"));
	settings_clear(&s);
	g_unlink(path);
	g_rmdir(dir);
}

/* What settings_save writes, settings_load reads back the same. */
static void test_settings_round_trip(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-settings-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "sub", "dermaroll.conf", NULL);
	g_autofree char *sub = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;
	struct settings s, back;
	GStatBuf st;

	settings_init(&s);
	s.zones = POLICY_ZONE_BIT(DP_ZONE_SCALP) | POLICY_ZONE_BIT(DP_ZONE_DECOLLETAGE);
	s.auto_advance = false;
	s.colours = SETTINGS_COLOURS_OFF;
	s.adapter = g_strdup("hci12");
	g_assert_true(settings_save(&s, path, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(sub, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	settings_init(&back);
	g_assert_true(settings_load(&back, path, &error));
	g_assert_cmpuint(back.zones, ==, s.zones);
	g_assert_false(back.auto_advance);
	g_assert_cmpint(back.colours, ==, SETTINGS_COLOURS_OFF);
	g_assert_cmpstr(back.adapter, ==, "hci12");
	g_assert_true(settings_adapter_valid(""));
	g_assert_true(settings_adapter_valid("hci0"));
	g_assert_false(settings_adapter_valid("hci"));
	g_assert_false(settings_adapter_valid("hcix"));
	g_assert_false(settings_adapter_valid("hci1234"));
	settings_clear(&s);
	settings_clear(&back);
	g_unlink(path);
	g_rmdir(sub);
	g_rmdir(dir);
}

/* Every key a screen's key bar offers is one of the request table's (so
 * the help lists it), read from the expected screens themselves; Esc and
 * Backspace only where text is typed, as the help's note says. */
static void test_key_bars(void)
{
	const char *dir = g_getenv("TUI_EXPECTED_DIR");
	g_autoptr(GDir) d = NULL;
	g_autoptr(GError) error = NULL;
	const char *file;
	unsigned int bars = 0, keys = 0;

	g_assert_nonnull(dir);
	d = g_dir_open(dir, 0, &error);
	g_assert_no_error(error);
	while ((file = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, file, NULL);
		g_autofree char *text = NULL;
		g_auto(GStrv) lines = NULL;
		g_auto(GStrv) entries = NULL;

		if (!g_str_has_suffix(file, "-80x24.txt") || g_str_has_prefix(file, "help"))
			continue;
		g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
		lines = g_strsplit(text, "\n", 25);
		g_assert_cmpuint(g_strv_length(lines), ==, 25);
		entries = g_strsplit(lines[23], "  ", -1);
		bars++;
		for (char **e = entries; *e; e++) {
			g_autofree char *entry = g_strstrip(g_strdup(*e));
			g_auto(GStrv) names = NULL;
			char *space;

			if (!*entry || *entry == '(')
				continue;
			if (g_str_has_prefix(entry, "[ ]")) {
				names = g_strsplit("[/]", "/", -1);
			} else {
				space = strchr(entry, ' ');
				if (space)
					*space = '\0';
				names = g_strsplit(entry, "/", -1);
			}
			for (char **n = names; *n; n++) {
				int key;

				if (strcmp(*n, "Esc") == 0 || strcmp(*n, "Backspace") == 0) {
					g_assert_nonnull(strstr(lines[23], "Enter"));
					continue;
				}
				key = strcmp(*n, "Enter") == 0 ? TUI_KEY_ENTER :
					strcmp(*n, "Space") == 0 ? ' ' : (int)g_utf8_get_char(*n);
				g_assert_cmpuint(g_utf8_strlen(*n, -1), ==,
						 strcmp(*n, "Enter") && strcmp(*n, "Space") ? 1 : 5);
				if (keymap_request(key) == REQ_NONE)
					g_error("%s: the key '%s' of the key bar is not in the request "
						"table", file, *n);
				keys++;
			}
		}
	}
	/* Every screen was read. */
	g_assert_cmpuint(bars, >=, 60);
	g_assert_cmpuint(keys, >, bars);
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
	ADD_SETUP("/tui/pair/whole", &pair_setup, test_pair_whole);
	ADD_SETUP("/tui/pair/passkey-head-refused", &pair_setup, test_pair_head_refused);
	ADD_SETUP("/tui/pair/failures", &pair_setup, test_pair_failures);
	ADD_SETUP("/tui/pair/simulated", &pair_simulated, test_pair_simulated);
	ADD_SETUP("/tui/home/unpaired", &pair_unpaired, test_home_unpaired);
	ADD_SETUP("/tui/settings/change-save-reload", &settings_setup, test_settings);
	ADD_SETUP("/tui/settings/next-routine", &settings_setup, test_settings_later);
#undef ADD_SETUP
#undef ADD
	g_test_add_func("/tui/request/table", test_help_lists_every_key);
	g_test_add_func("/tui/request/key-bars", test_key_bars);
	g_test_add_func("/tui/draw/helpers", test_draw_helpers);
	g_test_add_func("/tui/settings/round-trip", test_settings_round_trip);
	g_test_add_func("/tui/settings/robustness/bad-file", test_settings_bad_file);
	return g_test_run();
}
