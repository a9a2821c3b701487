/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The display (display.h).  Curses is called here and nowhere else.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curses.h>
#include <gio/gio.h>
#include <glib-unix.h>

#include "display.h"
#include "driver.h"
#include "request.h"

/* About 30 redraws a second at most: force frames come every 50 ms and
 * samples at 200 Hz, far more often than anyone reads a screen. */
#define REDRAW_US (G_USEC_PER_SEC / 30)

struct display {
	SCREEN *screen;
	struct tui *tui;
	bool colour;
	bool can_colour;             /* the terminal has them, NO_COLOR unset */
	bool colours_ready;
	gint64 last_draw_us;
	guint redraw, input, tick, sig_int, sig_term, sig_winch;
	void (*quit)(void *user_data);
	void *user_data;
};

/* Whether curses holds the terminal: read by the crash handler. */
static volatile sig_atomic_t active;

static const int crash_signals[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL };

static void restore(void)
{
	if (!active)
		return;
	active = 0;
	endwin();
}

/* A crash: the terminal first, then the signal again with its default
 * action (SA_RESETHAND), so a core dump or the shell's message follows.
 * endwin() is not async-signal-safe; the process is dying anyway, and a
 * terminal left raw is the worse outcome. */
static void on_crash(int sig)
{
	restore();
	raise(sig);
}

static void install_crash_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = (int)SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < G_N_ELEMENTS(crash_signals); i++)
		sigaction(crash_signals[i], &sa, NULL);
}

static void remove_crash_handlers(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(crash_signals); i++)
		signal(crash_signals[i], SIG_DFL);
}

/* ---- Drawing ---- */

static const short curses_colours[] = {
	COLOR_BLACK, COLOR_RED, COLOR_GREEN, COLOR_YELLOW,
	COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN, COLOR_WHITE,
};

static short colour_of(enum look_colour c)
{
	return c == LOOK_DEFAULT ? -1 : curses_colours[c];
}

static attr_t attrs_of(unsigned int look)
{
	attr_t a = A_NORMAL;

	if (look & LOOK_BOLD)
		a |= A_BOLD;
	if (look & LOOK_REVERSE)
		a |= A_REVERSE;
	if (look & LOOK_UNDERLINE)
		a |= A_UNDERLINE;
	if (look & LOOK_DIM)
		a |= A_DIM;
	return a;
}

static void init_colours(void)
{
	start_color();
	use_default_colors();
	for (int s = 0; s < STYLE_COUNT; s++) {
		const struct style_look *look = draw_style_look((enum style)s);

		init_pair((short)(s + 1), colour_of(look->fg), colour_of(look->bg));
	}
}

static void curses_text(void *ctx, int row, int col, enum style style, const char *text)
{
	struct display *dp = ctx;
	const struct style_look *look = draw_style_look(style);

	if (dp->colour)
		attrset(attrs_of(look->attrs) | COLOR_PAIR(style + 1));
	else
		attrset(attrs_of(look->mono));
	mvaddstr(row, col, text);
}

static const struct draw_ops curses_ops = {
	.text = curses_text,
};

static void draw_now(struct display *dp)
{
	struct draw d = {
		.ops = &curses_ops, .ctx = dp, .rows = LINES, .cols = COLS,
		.colour = dp->colour,
	};

	dp->last_draw_us = g_get_monotonic_time();
	attrset(A_NORMAL);
	erase();
	tui_draw(dp->tui, &d);
	attrset(A_NORMAL);
	refresh();
}

static gboolean on_redraw(gpointer data)
{
	struct display *dp = data;

	dp->redraw = 0;
	draw_now(dp);
	return G_SOURCE_REMOVE;
}

void display_changed(void *data)
{
	struct display *dp = data;
	gint64 due;

	if (dp->redraw || !dp->tui)
		return;
	due = dp->last_draw_us + REDRAW_US - g_get_monotonic_time();
	dp->redraw = g_timeout_add((guint)(MAX(due, 0) / 1000), on_redraw, dp);
}

/* The elapsed time on the routine screen moves every second. */
static gboolean on_tick(gpointer data)
{
	struct display *dp = data;

	if (tui_ticking(dp->tui))
		display_changed(dp);
	return G_SOURCE_CONTINUE;
}

/* ---- Input ---- */

static int key_of(int status, wint_t ch)
{
	if (status == KEY_CODE_YES) {
		switch (ch) {
		case KEY_UP:
			return TUI_KEY_UP;
		case KEY_DOWN:
			return TUI_KEY_DOWN;
		case KEY_ENTER:
			return TUI_KEY_ENTER;
		case KEY_BACKSPACE:
			return TUI_KEY_BACKSPACE;
		case KEY_F(1):
			return TUI_KEY_F1;
		case KEY_RESIZE:
			return TUI_KEY_RESIZE;
		default:
			return TUI_KEY_NONE;
		}
	}
	switch (ch) {
	case '\r':
		return TUI_KEY_ENTER;
	case 0x7f:
	case 0x08:
		return TUI_KEY_BACKSPACE;
	default:
		return (int)ch;
	}
}

static gboolean on_input(gint fd, GIOCondition cond, gpointer data)
{
	struct display *dp = data;
	wint_t ch;
	int status;

	if (cond & (G_IO_HUP | G_IO_ERR)) {
		/* The terminal went away: nobody is left to answer. */
		dp->input = 0;
		dp->quit(dp->user_data);
		return G_SOURCE_REMOVE;
	}
	while ((status = get_wch(&ch)) != ERR) {
		int key = key_of(status, ch);

		if (key != TUI_KEY_NONE)
			tui_key(dp->tui, key);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_winch(gpointer data)
{
	struct display *dp = data;
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
		resizeterm(ws.ws_row, ws.ws_col);
	/* Everything again: the old screen is no guide. */
	clearok(curscr, TRUE);
	display_changed(dp);
	return G_SOURCE_CONTINUE;
}

static gboolean on_quit_signal(gpointer data)
{
	struct display *dp = data;

	dp->quit(dp->user_data);
	return G_SOURCE_CONTINUE;
}

/* ---- Life cycle ---- */

struct display *display_new(void (*quit)(void *user_data), void *user_data,
			    GError **error)
{
	struct display *dp;
	const char *no_colour = g_getenv("NO_COLOR");
	SCREEN *screen;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
				    "The screen needs a terminal; the commands "
				    "(dermaroll --help) work without one.");
		return NULL;
	}
	dp = g_new0(struct display, 1);
	dp->quit = quit;
	dp->user_data = user_data;
	/* GLib takes these before curses looks, so curses leaves them be. */
	dp->sig_int = g_unix_signal_add(SIGINT, on_quit_signal, dp);
	dp->sig_term = g_unix_signal_add(SIGTERM, on_quit_signal, dp);
	dp->sig_winch = g_unix_signal_add(SIGWINCH, on_winch, dp);

	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "The terminal type '%s' is unknown here; try TERM=xterm.",
			    g_getenv("TERM") ? g_getenv("TERM") : "");
		g_source_remove(dp->sig_int);
		g_source_remove(dp->sig_term);
		g_source_remove(dp->sig_winch);
		g_free(dp);
		return NULL;
	}
	dp->screen = screen;
	active = 1;
	install_crash_handlers();
	atexit(restore);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	dp->can_colour = has_colors() && !(no_colour && *no_colour);
	display_set_colours(dp, true);
	return dp;
}

void display_set_colours(struct display *dp, bool allowed)
{
	dp->colour = dp->can_colour && allowed;
	if (dp->colour && !dp->colours_ready) {
		init_colours();
		dp->colours_ready = true;
	}
	if (dp->tui)
		display_changed(dp);
}

void display_attach(struct display *dp, struct tui *tui)
{
	dp->tui = tui;
	dp->input = g_unix_fd_add(STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_input, dp);
	dp->tick = g_timeout_add_seconds(1, on_tick, dp);
	draw_now(dp);
}

void display_free(struct display *dp)
{
	if (!dp)
		return;
	guint *sources[] = {
		&dp->redraw, &dp->input, &dp->tick, &dp->sig_int, &dp->sig_term,
		&dp->sig_winch,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
		if (*sources[i])
			g_source_remove(*sources[i]);
	restore();
	remove_crash_handlers();
	delscreen(dp->screen);
	g_free(dp);
}
