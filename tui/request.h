/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Requests: what a key asks for, independent of the key (as in tig).  One
 * X-macro lists every request with its key, its group and its help text;
 * it makes the enum, the keymap and the help screen, so a key can never
 * be missing from the help.
 *
 * Keys are Unicode code points, or the TUI_KEY_* codes below for keys
 * that have none.  Only the display layer knows how curses spells them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum tui_key {
	TUI_KEY_NONE = 0,
	TUI_KEY_CTRL_L = 0x0c,
	TUI_KEY_ENTER = '\n',
	TUI_KEY_ESC = 0x1b,
	/* Past the last Unicode code point. */
	TUI_KEY_UP = 0x110000,
	TUI_KEY_DOWN,
	TUI_KEY_BACKSPACE,
	TUI_KEY_F1,
	TUI_KEY_RESIZE,
};

enum request_group {
	REQUEST_GROUP_SCREEN,        /* every screen */
	REQUEST_GROUP_HOME,          /* the home screen */
	REQUEST_GROUP_HISTORY,       /* the history screen */
	REQUEST_GROUP_CHECKLIST,     /* answering, and confirming */
	REQUEST_GROUP_ROUTINE,       /* the zones */
	REQUEST_GROUP_HAND,          /* rolling by hand: virtual rollers only */
};
#define REQUEST_GROUP_COUNT (REQUEST_GROUP_HAND + 1)

/* X(NAME, key, group, help) */
#define REQUEST_INFO(X) \
	X(HELP,        '?',            SCREEN,    "Show every key (this screen); q closes it") \
	X(CLOSE,       'q',            SCREEN,    "Close this screen; on the routine, stop it and quit (asks first)") \
	X(REDRAW,      TUI_KEY_CTRL_L, SCREEN,    "Draw the whole screen again") \
	X(SCROLL_DOWN, 'j',            SCREEN,    "Scroll down, or choose the next in a list (also the down arrow)") \
	X(SCROLL_UP,   'k',            SCREEN,    "Scroll up, or choose the previous in a list (also the up arrow)") \
	X(ROUTINE,     'r',            HOME,      "Start the routine: the checklist, then the zones (also Enter)") \
	X(HISTORY,     'h',            HOME,      "Show the history: calendar, charts per zone, sessions, reactions") \
	X(PAIR,        'p',            HOME,      "Pair a new roller: look for rollers nearby, pick one, name it, check its head") \
	X(SETTINGS,    'c',            HOME,      "Settings: the zones of the routine, moving on by itself, colours, the Bluetooth adapter") \
	X(CALENDAR,    '1',            HISTORY,   "The calendar of passes per day, and the passes per zone") \
	X(ZONE_CHART,  '2',            HISTORY,   "The chart of one zone: passes and mean pressure per session") \
	X(SESSIONS,    '3',            HISTORY,   "The sessions; Enter shows the one chosen with j/k in full") \
	X(REACTIONS,   '4',            HISTORY,   "The reactions written in the journal") \
	X(ZONE_PREV,   '[',            HISTORY,   "Chart the previous zone") \
	X(ZONE_NEXT,   ']',            HISTORY,   "Chart the next zone") \
	X(YES,         'y',            CHECKLIST, "Answer yes (also in the pairing wizard)") \
	X(NO,          'n',            CHECKLIST, "Answer no (also in the pairing wizard)") \
	X(PREVIOUS,    'b',            CHECKLIST, "Back to the previous question") \
	X(NEXT_ZONE,   TUI_KEY_ENTER,  ROUTINE,   "Done with this zone: on to the next (on the home screen: start the routine; in the history: show the session chosen; in the pairing wizard: pick the roller chosen, go on, or try again; in the settings: change the one chosen)") \
	X(SKIP_ZONE,   's',            ROUTINE,   "Skip this zone") \
	X(OVERRIDE,    'o',            ROUTINE,   "Pass a zone's lock with a reason typed in full") \
	X(FINISH,      'f',            ROUTINE,   "End the routine now and show the aftercare (asks first)") \
	X(ROLL,        ' ',            HAND,      "Roll one pass by hand") \
	X(DIRECTION,   'd',            HAND,      "Change the direction: horizontal, vertical, diagonal") \
	X(HARDER,      '+',            HAND,      "Press harder") \
	X(LIGHTER,     '-',            HAND,      "Press lighter") \
	X(LIFT,        'l',            HAND,      "Lift the roller off the skin for a second")

#define REQUEST_ENUM(name, key, group, help) REQ_##name,
enum request {
	REQ_NONE,
	REQUEST_INFO(REQUEST_ENUM)
	REQ_COUNT
};
#undef REQUEST_ENUM

struct request_info {
	enum request request;
	const char *name;            /* "next-zone" */
	int key;                     /* its key in the help */
	enum request_group group;
	const char *help;
};

/* Every request, in the order of REQUEST_INFO. */
const struct request_info *request_table(size_t *count);
/* "Screen", "Checklist", ... */
const char *request_group_title(enum request_group group);

/* The request bound to @key (REQ_NONE if none): the table's keys, and a
 * few aliases (arrows, F1, '=' for '+', carriage return for Enter). */
enum request keymap_request(int key);

/* How the help writes @key: "Space", "Enter", "Ctrl-L", "q". */
const char *keymap_key_name(int key, char *buf, size_t size);
