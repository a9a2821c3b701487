/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pairing wizard: look for rollers with their signal as it changes,
 * pick one in pairing mode, confirm, pair (answering the agent's
 * questions), name it, record it with its address and check its head
 * against the safety policy (pair-steps.h, what `dermaroll pair` does),
 * done.  Everything Bluetooth goes through pairing.h; each problem has a
 * screen of its own that says what to do.
 */
#include <string.h>

#include "cmd-common.h"
#include "pair-steps.h"
#include "pairing.h"
#include "settings.h"
#include "view.h"

/* Columns of the list of rollers. */
#define COL_NAME 3
#define NAME_WIDTH 12
#define COL_ADDRESS 16
#define COL_SIGNAL 35
#define COL_STATE 51
#define PASSKEY_DIGITS 6

enum pair_step {
	STEP_CHECKING,               /* may Bluetooth be used? */
	STEP_PROBLEM,                /* it may not: problem says why */
	STEP_OFF,                    /* it is off: turn it on? */
	STEP_POWERING,
	STEP_SCANNING,               /* the list of rollers */
	STEP_CONFIRM,                /* pair with the one picked? */
	STEP_PAIRING,
	STEP_READING,                /* paired: reading its INFO */
	STEP_NAMING,
	STEP_HEAD,                   /* recorded: the head check */
	STEP_DONE,
	STEP_FAILED,                 /* pairing the one picked failed */
};

struct pair_view {
	struct tui *tui;
	struct pairing *pairing;     /* the tui's, while the wizard is open */
	enum pair_step step;
	enum pairing_problem problem;
	char *message;
	GArray *rollers;             /* struct pairing_roller, as found */
	int chosen;                  /* in rollers; -1: none */
	struct pairing_roller picked;
	/* A question of the agent. */
	bool asking;
	enum pairing_ask ask;
	uint32_t passkey;
	GString *typed;              /* the passkey, or the roller's name */
	char *typed_error;
	struct dp_info info;
	struct pair_record rec;
	char *name;                  /* as recorded; NULL: its serial */
};

static bool selectable(const struct pairing_roller *r)
{
	return r->pairing || r->bonded;
}

static struct pairing_roller *roller_at(struct pair_view *v, int i)
{
	return &g_array_index(v->rollers, struct pairing_roller, i);
}

static int roller_index(struct pair_view *v, const char *address)
{
	for (guint i = 0; i < v->rollers->len; i++)
		if (strcmp(roller_at(v, (int)i)->address, address) == 0)
			return (int)i;
	return -1;
}

/* The next selectable roller from @from in @step direction; -1 if none. */
static int next_selectable(struct pair_view *v, int from, int step)
{
	for (int i = from; i >= 0 && i < (int)v->rollers->len; i += step)
		if (selectable(roller_at(v, i)))
			return i;
	return -1;
}

static void set_problem(struct pair_view *v, enum pair_step step,
			enum pairing_problem problem, const char *message)
{
	v->step = step;
	v->problem = problem;
	g_free(v->message);
	v->message = g_strdup(message);
}

static void start_scan(struct pair_view *v)
{
	g_array_set_size(v->rollers, 0);
	v->chosen = -1;
	v->step = STEP_SCANNING;
	pairing_scan_start(v->pairing);
}

static void start_check(struct pair_view *v)
{
	v->step = STEP_CHECKING;
	pairing_check(v->pairing);
}

/* ---- Events ---- */

static void roller_seen(struct pair_view *v, const struct pairing_roller *r)
{
	int i = roller_index(v, r->address);

	if (i < 0) {
		g_array_append_val(v->rollers, *r);
		i = (int)v->rollers->len - 1;
	} else {
		*roller_at(v, i) = *r;
	}
	if (v->chosen >= 0 && !selectable(roller_at(v, v->chosen)))
		v->chosen = -1;
	if (v->chosen < 0)
		v->chosen = next_selectable(v, 0, 1);
}

static void roller_lost(struct pair_view *v, const struct pairing_roller *r)
{
	int i = roller_index(v, r->address);

	if (i < 0)
		return;
	g_array_remove_index(v->rollers, (guint)i);
	if (v->chosen == i)
		v->chosen = -1;
	else if (v->chosen > i)
		v->chosen--;
	if (v->chosen < 0)
		v->chosen = next_selectable(v, MIN(i, (int)v->rollers->len - 1), 1);
	if (v->chosen < 0)
		v->chosen = next_selectable(v, (int)v->rollers->len - 1, -1);
}

static void on_ask(struct pair_view *v, const struct pairing_event *ev)
{
	v->ask = ev->ask;
	v->passkey = ev->passkey;
	v->asking = ev->ask != PAIRING_ASK_CANCELLED;
	g_string_truncate(v->typed, 0);
	g_clear_pointer(&v->typed_error, g_free);
	if (ev->ask == PAIRING_ASK_CANCELLED)
		tui_set_message(v->tui, STYLE_WARN, "The roller took its question back.");
}

static void on_event(struct pairing *p, const struct pairing_event *ev, void *data)
{
	struct pair_view *v = data;

	switch (ev->kind) {
	case PAIRING_EVENT_CHECKED:
	case PAIRING_EVENT_POWERED:
		if (v->step != STEP_CHECKING && v->step != STEP_POWERING)
			break;
		if (ev->problem == PAIRING_OK && ev->kind == PAIRING_EVENT_POWERED)
			start_check(v);
		else if (ev->problem == PAIRING_OK)
			start_scan(v);
		else
			set_problem(v, ev->problem == PAIRING_OFF ? STEP_OFF : STEP_PROBLEM,
				    ev->problem, ev->message);
		break;
	case PAIRING_EVENT_FOUND:
	case PAIRING_EVENT_CHANGED:
		roller_seen(v, ev->roller);
		break;
	case PAIRING_EVENT_LOST:
		roller_lost(v, ev->roller);
		break;
	case PAIRING_EVENT_SCAN_FAILED:
		if (v->step == STEP_SCANNING || v->step == STEP_CONFIRM)
			set_problem(v, ev->problem == PAIRING_OFF ? STEP_OFF : STEP_PROBLEM,
				    ev->problem, ev->message);
		break;
	case PAIRING_EVENT_ASK:
		if (v->step == STEP_PAIRING)
			on_ask(v, ev);
		break;
	case PAIRING_EVENT_PAIRED:
		if (v->step != STEP_PAIRING)
			break;
		v->asking = false;
		if (ev->problem != PAIRING_OK) {
			set_problem(v, STEP_FAILED, ev->problem, ev->message);
			break;
		}
		v->step = STEP_READING;
		pairing_read_info(p, v->picked.address);
		break;
	case PAIRING_EVENT_INFO:
		if (v->step != STEP_READING)
			break;
		if (ev->problem != PAIRING_OK) {
			set_problem(v, STEP_FAILED, ev->problem, ev->message);
			break;
		}
		v->info = *ev->info;
		v->step = STEP_NAMING;
		g_string_assign(v->typed, *v->picked.name ? v->picked.name : v->info.serial);
		g_clear_pointer(&v->typed_error, g_free);
		break;
	}
	tui_changed(v->tui);
}

/* ---- Requests ---- */

static void pick(struct pair_view *v)
{
	if (v->chosen < 0)
		return;
	v->picked = *roller_at(v, v->chosen);
	v->step = STEP_CONFIRM;
}

static void confirmed(struct pair_view *v)
{
	pairing_scan_stop(v->pairing);
	v->step = STEP_PAIRING;
	v->asking = false;
	pairing_pair(v->pairing, v->picked.address);
}

/* The name typed (or none: the serial stays its name): record, check. */
static void record(struct tui *tui, struct pair_view *v, const char *name)
{
	g_autoptr(GError) error = NULL;

	if (name && !pair_name_valid(name)) {
		g_free(v->typed_error);
		v->typed_error = g_strdup_printf("A name needs 1 to %d bytes of text.",
						 PAIR_NAME_MAX_BYTES);
		return;
	}
	if (!pair_record(tui->opts.store, tui->opts.policy, &v->info, name, v->picked.address,
			 tui_now_ms(tui), &v->rec, &error)) {
		g_autofree char *message = g_strdup_printf("The roller is paired, but it could "
							   "not be recorded in the history: %s",
							   error->message);

		set_problem(v, STEP_FAILED, PAIRING_FAILED, message);
		return;
	}
	g_free(v->name);
	v->name = g_strdup(name);
	tui->history_changes++;
	v->step = STEP_HEAD;
	if (tui->hooks.paired)
		tui->hooks.paired(v->picked.address, tui->hooks.user_data);
}

static void close_wizard(struct tui *tui)
{
	tui_close_view(tui);
}

static bool pair_request(struct tui *tui, void *priv, enum request req)
{
	struct pair_view *v = priv;
	int i;

	if (req == REQ_HELP || req == REQ_REDRAW)
		return false;
	if (req == REQ_CLOSE) {
		close_wizard(tui);
		return true;
	}
	switch (v->step) {
	case STEP_PROBLEM:
		if (req == REQ_NEXT_ZONE)
			start_check(v);
		break;
	case STEP_OFF:
		if (req == REQ_YES) {
			v->step = STEP_POWERING;
			pairing_power_on(v->pairing);
		} else if (req == REQ_NO) {
			close_wizard(tui);
			tui_set_message(tui, STYLE_WARN, "Bluetooth stays off, so no roller can be "
					"paired now.");
			return true;
		}
		break;
	case STEP_SCANNING:
		if (req == REQ_SCROLL_DOWN && v->chosen >= 0 &&
		    (i = next_selectable(v, v->chosen + 1, 1)) >= 0)
			v->chosen = i;
		else if (req == REQ_SCROLL_UP && v->chosen >= 0 &&
			 (i = next_selectable(v, v->chosen - 1, -1)) >= 0)
			v->chosen = i;
		else if (req == REQ_NEXT_ZONE)
			pick(v);
		break;
	case STEP_CONFIRM:
		if (req == REQ_YES || req == REQ_NEXT_ZONE)
			confirmed(v);
		else if (req == REQ_NO)
			v->step = STEP_SCANNING;
		break;
	case STEP_PAIRING:
		if (v->asking && v->ask == PAIRING_ASK_CONFIRM &&
		    (req == REQ_YES || req == REQ_NO)) {
			v->asking = false;
			pairing_reply(v->pairing, req == REQ_YES, 0);
		}
		break;
	case STEP_FAILED:
		if (req == REQ_NEXT_ZONE)
			start_scan(v);
		break;
	case STEP_HEAD:
		if (req == REQ_NEXT_ZONE)
			v->step = STEP_DONE;
		break;
	case STEP_DONE:
		if (req == REQ_NEXT_ZONE) {
			close_wizard(tui);
			return true;
		}
		break;
	case STEP_CHECKING:
	case STEP_POWERING:
	case STEP_READING:
	case STEP_NAMING:
		break;
	}
	tui_changed(tui);
	return true;
}

/* Typing: the roller's name, or a passkey.  Every key is text until
 * Enter or Esc. */
static bool pair_key(struct tui *tui, void *priv, int key)
{
	struct pair_view *v = priv;
	bool passkey = v->step == STEP_PAIRING && v->asking && v->ask == PAIRING_ASK_PASSKEY;

	if (v->step != STEP_NAMING && !passkey)
		return false;
	switch (key) {
	case TUI_KEY_ENTER:
	case '\r':
		if (passkey && v->typed->len == PASSKEY_DIGITS) {
			v->asking = false;
			pairing_reply(v->pairing, true, (uint32_t)g_ascii_strtoull(v->typed->str,
										  NULL, 10));
		} else if (passkey) {
			g_free(v->typed_error);
			v->typed_error = g_strdup("The number has 6 digits.");
		} else {
			record(tui, v, g_strstrip(v->typed->str));
		}
		break;
	case TUI_KEY_ESC:
		if (passkey) {
			v->asking = false;
			pairing_reply(v->pairing, false, 0);
		} else {
			record(tui, v, NULL);
		}
		break;
	case TUI_KEY_BACKSPACE:
		if (v->typed->len) {
			const char *end = v->typed->str + v->typed->len;

			g_string_truncate(v->typed, (gsize)(g_utf8_prev_char(end) - v->typed->str));
		}
		break;
	default:
		if (passkey) {
			if (key >= '0' && key <= '9' && v->typed->len < PASSKEY_DIGITS)
				g_string_append_c(v->typed, (char)key);
		} else if (key >= 0x20 && key < 0x110000 && key != 0x7f &&
			   g_unichar_isprint((gunichar)key) &&
			   v->typed->len < PAIR_NAME_MAX_BYTES) {
			g_string_append_unichar(v->typed, (gunichar)key);
		}
		break;
	}
	tui_changed(tui);
	return true;
}

/* ---- Drawing ---- */

static const char *const step_names[] = {
	"Look", "Confirm", "Pair", "Name", "Head check", "Done",
};

static int step_number(enum pair_step step)
{
	switch (step) {
	case STEP_CHECKING:
	case STEP_PROBLEM:
	case STEP_OFF:
	case STEP_POWERING:
	case STEP_SCANNING:
		return 0;
	case STEP_CONFIRM:
		return 1;
	case STEP_PAIRING:
	case STEP_READING:
	case STEP_FAILED:
		return 2;
	case STEP_NAMING:
		return 3;
	case STEP_HEAD:
		return 4;
	case STEP_DONE:
		break;
	}
	return 5;
}

static int draw_steps(struct pair_view *v, struct draw *d, int row)
{
	int now = step_number(v->step), col = 1;

	for (int i = 0; i < (int)G_N_ELEMENTS(step_names); i++) {
		g_autofree char *text = g_strdup_printf("%d %s", i + 1, step_names[i]);

		if (i)
			col = draw_text(d, row, col, STYLE_DIM, "  >  ");
		col = draw_text(d, row, col, i == now ? STYLE_LIT : i < now ? STYLE_GOOD : STYLE_DIM,
				text);
	}
	return row + 2;
}

static const char *roller_label(const struct pairing_roller *r)
{
	return *r->name ? r->name : "(no name)";
}

/* "[###.] -52 dBm" */
static char *signal_text(int16_t rssi)
{
	int bars = rssi == PAIRING_RSSI_UNKNOWN ? 0 : rssi >= -60 ? 4 : rssi >= -70 ? 3 :
		rssi >= -80 ? 2 : 1;
	char meter[5];

	for (int i = 0; i < 4; i++)
		meter[i] = i < bars ? '#' : '.';
	meter[4] = '\0';
	if (rssi == PAIRING_RSSI_UNKNOWN)
		return g_strdup_printf("[%s] signal ?", meter);
	return g_strdup_printf("[%s] %d dBm", meter, rssi);
}

static const char *state_text(const struct pairing_roller *r)
{
	if (r->newer)
		return "needs a newer dermaroll";
	if (r->bonded)
		return "paired already: Enter records it again";
	if (r->pairing)
		return "ready to pair";
	return "not in pairing mode: hold its button 2 s";
}

static int draw_list(struct tui *tui, struct pair_view *v, struct draw *d, int row, int last)
{
	int visible, first = 0;

	draw_text(d, row, 1, STYLE_TITLE, "Rollers nearby");
	draw_text(d, row++, 16, STYLE_DIM, "(looking...)");
	row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_NORMAL,
			 "Put your roller in pairing mode: hold its button 2 s, until its "
			 "light blinks. It stays in pairing mode for 60 s.");
	row++;
	if (!v->rollers->len) {
		draw_text(d, row, 3, STYLE_DIM, "No roller found yet. Switch it on and bring it close.");
		return row + 1;
	}
	draw_text(d, row, COL_NAME, STYLE_DIM, "Name");
	draw_text(d, row, COL_ADDRESS, STYLE_DIM, "Address");
	draw_text(d, row++, COL_SIGNAL, STYLE_DIM, "Signal");
	/* Two lines a roller when its state does not fit beside it. */
	visible = MAX((last - row + 1) / (d->cols >= COL_STATE + 40 ? 1 : 2), 1);
	if (v->chosen >= visible)
		first = v->chosen - visible + 1;
	for (int i = first; i < (int)v->rollers->len && i < first + visible; i++) {
		const struct pairing_roller *r = roller_at(v, i);
		enum style style = selectable(r) && !r->newer ? STYLE_NORMAL : STYLE_DIM;
		const char *label = roller_label(r);
		g_autofree char *name = g_utf8_substring(label, 0,
							 MIN(g_utf8_strlen(label, -1), NAME_WIDTH));
		g_autofree char *signal = signal_text(r->rssi);
		const char *state = state_text(r);

		if (i == v->chosen) {
			draw_fill(d, row, 0, d->cols, STYLE_LIT, ' ');
			style = STYLE_LIT;
			draw_text(d, row, 1, style, ">");
		}
		draw_text(d, row, COL_NAME, style, name);
		draw_text(d, row, COL_ADDRESS, style, r->address);
		draw_text(d, row, COL_SIGNAL, style, signal);
		if (COL_STATE + (int)strlen(state) < d->cols) {
			draw_text(d, row++, COL_STATE, style == STYLE_LIT ? style :
				  r->pairing && !r->newer ? STYLE_GOOD : STYLE_DIM, state);
		} else {
			row++;
			draw_text(d, row++, COL_ADDRESS, r->pairing && !r->newer ? STYLE_GOOD :
				  STYLE_DIM, state);
		}
	}
	if (first + visible < (int)v->rollers->len)
		draw_printf(d, MIN(row, last), 3, STYLE_DIM, "... and %d more: j/k",
			    (int)v->rollers->len - first - visible);
	return row;
}

static const char *problem_title(enum pairing_problem problem)
{
	switch (problem) {
	case PAIRING_NO_BUS:
		return "Bluetooth cannot be reached";
	case PAIRING_NOT_RUNNING:
		return "The Bluetooth service is not running";
	case PAIRING_NO_ADAPTER:
		return "No Bluetooth adapter";
	case PAIRING_OFF:
		return "Bluetooth is off";
	case PAIRING_RFKILL:
		return "Bluetooth is blocked";
	case PAIRING_NOT_PAIRING:
		return "The roller is not in pairing mode";
	case PAIRING_NEWER:
		return "This roller needs a newer dermaroll";
	case PAIRING_REFUSED:
		return "Pairing was refused";
	case PAIRING_INFO_FAILED:
		return "The roller's details could not be read";
	case PAIRING_OK:
	case PAIRING_FAILED:
		break;
	}
	return "Pairing did not work";
}

/* What to do, beyond the sentence the backend gave. */
static const char *problem_advice(enum pairing_problem problem)
{
	switch (problem) {
	case PAIRING_NOT_PAIRING:
		return "Hold the roller's button 2 s, until its light blinks, then press Enter "
		       "and pick it again.";
	case PAIRING_NEWER:
		return "Your history stays as it is when dermaroll is updated.";
	case PAIRING_REFUSED:
		return "Switch the roller off and on, put it in pairing mode again, then press "
		       "Enter to try again.";
	case PAIRING_NO_ADAPTER:
		return "If the adapter is named in the settings (c on the home screen), check "
		       "that name.";
	default:
		break;
	}
	return NULL;
}

static int draw_problem(struct pair_view *v, struct draw *d, int row, int last)
{
	const char *advice = problem_advice(v->problem);

	draw_text(d, row++, 1, STYLE_BAD, problem_title(v->problem));
	row++;
	if (v->message)
		row += draw_wrap(d, row, 1, d->cols - 2, last - row, STYLE_NORMAL, v->message) + 1;
	if (advice)
		row += draw_wrap(d, row, 1, d->cols - 2, last - row, STYLE_NORMAL, advice) + 1;
	if (v->step == STEP_OFF)
		row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_WARN,
				 "Turn Bluetooth on now? y turns it on, n leaves it off.");
	return row;
}

static int draw_picked(struct pair_view *v, struct draw *d, int row)
{
	g_autofree char *signal = signal_text(v->picked.rssi);

	draw_text(d, row, 3, STYLE_NORMAL, roller_label(&v->picked));
	draw_text(d, row, COL_ADDRESS + 4, STYLE_NORMAL, v->picked.address);
	draw_text(d, row, COL_SIGNAL + 4, STYLE_DIM, signal);
	return row + 2;
}

static void draw_input(struct draw *d, int row, const char *text)
{
	g_autofree char *input = g_strdup_printf("> %s_", text);

	draw_fill(d, row, 2, d->cols - 4, STYLE_INPUT, ' ');
	draw_text(d, row, 2 + MIN(0, d->cols - 4 - (int)g_utf8_strlen(input, -1)), STYLE_INPUT,
		  input);
}

static int draw_pairing(struct pair_view *v, struct draw *d, int row, int last)
{
	g_autofree char *text = NULL;

	if (v->step == STEP_READING) {
		draw_text(d, row++, 1, STYLE_GOOD, "Paired.");
		draw_text(d, row++, 1, STYLE_NORMAL,
			  "Reading the roller's details: its serial and its head...");
		return row;
	}
	text = g_strdup_printf("Pairing with %s...", roller_label(&v->picked));
	draw_text(d, row++, 1, STYLE_TITLE, text);
	row = draw_picked(v, d, row);
	if (!v->asking)
		return row + draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_DIM,
				       "Keep the roller close. This takes a few seconds.");
	g_clear_pointer(&text, g_free);
	switch (v->ask) {
	case PAIRING_ASK_CONFIRM:
		text = g_strdup_printf("Does the roller show the number %06u? y yes, n no.",
				       v->passkey);
		row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_WARN, text);
		break;
	case PAIRING_ASK_PASSKEY:
		row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_WARN,
				 "Type the 6-digit number the roller shows, then Enter (Esc refuses).");
		draw_input(d, row++, v->typed->str);
		if (v->typed_error)
			draw_text(d, row++, 1, STYLE_BAD, v->typed_error);
		break;
	case PAIRING_ASK_SHOW:
		text = g_strdup_printf("Type %06u on the roller.", v->passkey);
		row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_WARN, text);
		break;
	case PAIRING_ASK_AUTHORIZE:
	case PAIRING_ASK_CANCELLED:
		break;
	}
	return row;
}

static int draw_naming(struct pair_view *v, struct draw *d, int row)
{
	g_autofree char *text = g_strdup_printf("Paired with the roller %s: serial %s, "
						"firmware %s.", v->picked.address,
						v->info.serial, v->info.firmware);

	row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_GOOD, text) + 1;
	draw_text(d, row++, 1, STYLE_TITLE, "Name this roller");
	row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_NORMAL,
			 "Lists show the name beside the serial. Type a name and press Enter; "
			 "Esc keeps the serial as its name.");
	draw_input(d, row++, v->typed->str);
	if (v->typed_error)
		draw_text(d, row++, 1, STYLE_BAD, v->typed_error);
	return row;
}

static int draw_head(struct pair_view *v, struct draw *d, int row)
{
	g_autofree char *head = pair_head_text(&v->info, &v->rec);
	g_autofree char *mm = cmd_format_mm(v->info.needle_um);
	g_autofree char *text = g_strdup_printf("The head %s: %s mm needles", v->info.head_serial,
						mm);

	draw_text(d, row++, 1, STYLE_TITLE, text);
	row++;
	row += draw_wrap(d, row, 1, d->cols - 2, 5, v->rec.head_refused ? STYLE_BAD : STYLE_GOOD,
			 head);
	if (!v->rec.head_refused)
		row += draw_wrap(d, row + 1, 1, d->cols - 2, 2, STYLE_NORMAL,
				 "Needles of this length are allowed for home use.") + 1;
	return row;
}

static int draw_done(struct tui *tui, struct pair_view *v, struct draw *d, int row)
{
	g_autofree char *text = g_strdup_printf("%s (%s) is paired and recorded in the history.",
						v->name ? v->name : v->info.serial,
						v->info.serial);

	draw_text(d, row++, 1, STYLE_GOOD, "Done.");
	row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_NORMAL, text) + 1;
	row += draw_wrap(d, row, 1, d->cols - 2, 3, STYLE_DIM, v->pairing && v->pairing->simulated ?
			 "It is a virtual roller nearby: this demo goes on with its own "
			 "virtual roller." :
			 "dermaroll connects to it by itself whenever it is switched on and close by.");
	return row;
}

static const char *keys_for(struct pair_view *v)
{
	switch (v->step) {
	case STEP_CHECKING:
	case STEP_POWERING:
	case STEP_READING:
		return "q cancel  ? help";
	case STEP_PROBLEM:
	case STEP_FAILED:
		return "Enter try again  q close  ? help";
	case STEP_OFF:
		return "y turn Bluetooth on  n leave it off  q close";
	case STEP_SCANNING:
		return v->chosen >= 0 ? "j/k choose  Enter pick  q cancel  ? help" :
			"q cancel  ? help";
	case STEP_CONFIRM:
		return "y pair  n back to the list  q cancel";
	case STEP_PAIRING:
		return v->asking && v->ask == PAIRING_ASK_CONFIRM ? "y yes  n no  q cancel" :
			"q cancel  ? help";
	case STEP_NAMING:
		return "Enter keep this name  Esc keep the serial";
	case STEP_HEAD:
		return "Enter go on  q close";
	case STEP_DONE:
		break;
	}
	return "Enter/q back home";
}

static void pair_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct pair_view *v = priv;
	int row, last = d->rows - 3;
	g_autofree char *question = NULL;

	tui_draw_title(tui, d, "pair a roller");
	row = draw_steps(v, d, 2);
	switch (v->step) {
	case STEP_CHECKING:
		draw_text(d, row, 1, STYLE_NORMAL, "Checking Bluetooth...");
		break;
	case STEP_POWERING:
		draw_text(d, row, 1, STYLE_NORMAL, "Turning Bluetooth on...");
		break;
	case STEP_PROBLEM:
	case STEP_OFF:
	case STEP_FAILED:
		draw_problem(v, d, row, last);
		break;
	case STEP_SCANNING:
		draw_list(tui, v, d, row, last);
		break;
	case STEP_CONFIRM:
		question = g_strdup_printf("Pair with the roller %s?", roller_label(&v->picked));
		draw_text(d, row++, 1, STYLE_TITLE, question);
		row = draw_picked(v, d, row + 1);
		draw_wrap(d, row, 1, d->cols - 2, 4, STYLE_NORMAL,
			  "Pairing makes this computer and the roller trust each other: from then "
			  "on the roller talks only over an encrypted link, and dermaroll "
			  "connects to it by itself.");
		break;
	case STEP_PAIRING:
	case STEP_READING:
		draw_pairing(v, d, row, last);
		break;
	case STEP_NAMING:
		draw_naming(v, d, row);
		break;
	case STEP_HEAD:
		draw_head(v, d, row);
		break;
	case STEP_DONE:
		draw_done(tui, v, d, row);
		break;
	}
	tui_draw_keys(tui, d, keys_for(v));
}

/* ---- Life cycle ---- */

static void pair_open(struct tui *tui, void *priv)
{
	struct pair_view *v = priv;

	v->tui = tui;
	if (!v->rollers)
		v->rollers = g_array_new(FALSE, TRUE, sizeof(struct pairing_roller));
	if (!v->typed)
		v->typed = g_string_new(NULL);
	g_clear_pointer(&v->message, g_free);
	g_clear_pointer(&v->typed_error, g_free);
	g_clear_pointer(&v->name, g_free);
	v->asking = false;
	v->pairing = tui->opts.pairing;
	pairing_set_func(v->pairing, on_event, v);
	if (tui->opts.settings)
		pairing_set_adapter(v->pairing, tui->opts.settings->adapter);
	start_check(v);
}

static void pair_close(struct tui *tui, void *priv)
{
	struct pair_view *v = priv;

	if (!v->pairing)
		return;
	pairing_cancel(v->pairing);
	pairing_scan_stop(v->pairing);
	pairing_set_func(v->pairing, NULL, NULL);
	v->pairing = NULL;
}

static void pair_done(void *priv)
{
	struct pair_view *v = priv;

	if (v->rollers)
		g_array_unref(v->rollers);
	if (v->typed)
		g_string_free(v->typed, TRUE);
	g_free(v->message);
	g_free(v->typed_error);
	g_free(v->name);
}

const struct view_ops pair_view_ops = {
	.name = "pair",
	.private_size = sizeof(struct pair_view),
	.open = pair_open,
	.draw = pair_draw,
	.request = pair_request,
	.key = pair_key,
	.close = pair_close,
	.done = pair_done,
};
