/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The settings screen: the zones of the routine, moving on by itself once
 * a zone is done, colours, the Bluetooth adapter.  Each change is saved at
 * once (settings.h) and handed to whoever uses it: the routine's options
 * to the driver, colours and the adapter to the program (hooks).
 */
#include <string.h>

#include "pairing.h"
#include "settings.h"
#include "view.h"

#define ITEM_AUTO_ADVANCE ZONE_COUNT
#define ITEM_COLOURS (ZONE_COUNT + 1)
#define ITEM_ADAPTER (ZONE_COUNT + 2)
#define ITEM_COUNT (ZONE_COUNT + 3)
#define ZONE_ROWS ((ZONE_COUNT + 1) / 2)
#define ADAPTER_MAX 6

struct settings_view {
	int chosen;
	bool typing;                 /* the adapter's name */
	GString *typed;
};

static const char *item_help(int item)
{
	switch (item) {
	case ITEM_AUTO_ADVANCE:
		return "On: once every direction of a zone reached its target, the routine "
		       "moves to the next zone by itself. Off: press Enter when you are done "
		       "with a zone.";
	case ITEM_COLOURS:
		return "Auto: colours when the terminal has them and NO_COLOR is not set. "
		       "Off: bold, underline and reverse carry the meaning instead.";
	case ITEM_ADAPTER:
		return "The Bluetooth adapter to use, such as hci1; empty: the first one. "
		       "The pairing wizard uses it, and so does the next connection to "
		       "the roller.";
	default:
		break;
	}
	return "The zones the routine treats, in guidance order. A zone left out is "
	       "never started, whatever its dates.";
}

static void draw_check(struct draw *d, int row, int col, bool chosen, bool on,
		       const char *label)
{
	enum style style = chosen ? STYLE_LIT : STYLE_NORMAL;
	g_autofree char *text = g_strdup_printf("[%c] %s", on ? 'x' : ' ', label);

	if (chosen)
		draw_text(d, row, col - 2, STYLE_LIT, ">");
	draw_text(d, row, col, style, text);
}

static void settings_draw(struct tui *tui, void *priv, struct draw *d)
{
	struct settings_view *v = priv;
	const struct settings *s = tui->opts.settings;
	const char *home = g_get_home_dir();
	const char *path = tui->opts.settings_path;
	g_autofree char *where = NULL;
	g_autofree char *adapter = NULL;
	int row = 2;

	/* The home folder as ~, as people write it. */
	if (home && g_str_has_prefix(path, home) && path[strlen(home)] == '/')
		where = g_strdup_printf("Each change is saved at once in ~%s.", path + strlen(home));
	else
		where = g_strdup_printf("Each change is saved at once in %s.", path);
	tui_draw_title(tui, d, "settings");
	row += draw_wrap(d, row, 1, d->cols - 2, 2, STYLE_DIM, where) + 1;
	draw_text(d, row++, 1, STYLE_TITLE, "The routine: the zones it treats");
	for (unsigned int o = 0; o < ZONE_COUNT; o++) {
		const struct zone_info *z = zone_by_order(o);

		draw_check(d, row + (int)(o % ZONE_ROWS), o < ZONE_ROWS ? 5 : d->cols / 2 + 3,
			   v->chosen == (int)o, s->zones & POLICY_ZONE_BIT(z->id), z->label);
	}
	row += ZONE_ROWS;
	draw_check(d, row++, 5, v->chosen == ITEM_AUTO_ADVANCE, s->auto_advance,
		   "Move on to the next zone by itself once a zone is done");
	row++;
	draw_text(d, row++, 1, STYLE_TITLE, "Display");
	if (v->chosen == ITEM_COLOURS)
		draw_text(d, row, 3, STYLE_LIT, ">");
	draw_printf(d, row++, 5, v->chosen == ITEM_COLOURS ? STYLE_LIT : STYLE_NORMAL,
		    "Colours: %s", s->colours == SETTINGS_COLOURS_OFF ? "off" : "auto");
	row++;
	draw_text(d, row++, 1, STYLE_TITLE, "Bluetooth");
	if (v->chosen == ITEM_ADAPTER)
		draw_text(d, row, 3, STYLE_LIT, ">");
	if (v->typing) {
		adapter = g_strdup_printf("Adapter: %s_", v->typed->str);
		draw_text(d, row++, 5, STYLE_INPUT, adapter);
	} else {
		adapter = g_strdup_printf("Adapter: %s", s->adapter ? s->adapter : "the first one");
		draw_text(d, row++, 5, v->chosen == ITEM_ADAPTER ? STYLE_LIT : STYLE_NORMAL, adapter);
	}
	row++;
	draw_wrap(d, row, 1, d->cols - 2, d->rows - 3 - row, STYLE_DIM, item_help(v->chosen));
	tui_draw_keys(tui, d, v->typing ? "Enter keep it  Esc cancel  (empty: the first adapter)" :
		      "j/k choose  Enter change  q back  ? help");
}

/* Saves, and tells whoever uses what changed. */
static void changed(struct tui *tui, bool routine)
{
	const struct settings *s = tui->opts.settings;
	g_autoptr(GError) error = NULL;
	struct engine_options eo = tui->opts.engine;
	bool now = true;

	if (routine) {
		eo.zones = s->zones;
		eo.auto_advance = s->auto_advance;
		now = tui_set_engine_options(tui, &eo);
	}
	if (!settings_save(s, tui->opts.settings_path, &error))
		tui_set_message(tui, STYLE_BAD, "%s", error->message);
	else if (!now)
		tui_set_message(tui, STYLE_WARN, "Saved. The routine already begun keeps its "
				"zones; the next one uses these.");
	else
		tui_set_message(tui, STYLE_GOOD, "Saved.");
	if (tui->hooks.settings_changed)
		tui->hooks.settings_changed(tui->hooks.user_data);
}

static void change(struct tui *tui, struct settings_view *v)
{
	struct settings *s = tui->opts.settings;

	if (v->chosen < ZONE_COUNT) {
		guint32 bit = POLICY_ZONE_BIT(zone_by_order((unsigned int)v->chosen)->id);

		if (s->zones == bit) {
			tui_set_message(tui, STYLE_WARN, "The routine needs at least one zone.");
			return;
		}
		s->zones ^= bit;
		changed(tui, true);
	} else if (v->chosen == ITEM_AUTO_ADVANCE) {
		s->auto_advance = !s->auto_advance;
		changed(tui, true);
	} else if (v->chosen == ITEM_COLOURS) {
		s->colours = s->colours == SETTINGS_COLOURS_OFF ? SETTINGS_COLOURS_AUTO :
			SETTINGS_COLOURS_OFF;
		changed(tui, false);
	} else {
		v->typing = true;
		g_string_assign(v->typed, s->adapter ? s->adapter : "");
	}
}

static bool settings_request(struct tui *tui, void *priv, enum request req)
{
	struct settings_view *v = priv;

	switch (req) {
	case REQ_SCROLL_DOWN:
		v->chosen = MIN(v->chosen + 1, ITEM_COUNT - 1);
		break;
	case REQ_SCROLL_UP:
		v->chosen = MAX(v->chosen - 1, 0);
		break;
	case REQ_NEXT_ZONE:
		change(tui, v);
		break;
	case REQ_HELP:
	case REQ_CLOSE:
	case REQ_REDRAW:
		return false;
	default:
		/* Keys of other screens do nothing here. */
		return true;
	}
	tui_changed(tui);
	return true;
}

/* Typing the adapter's name: every key is text until Enter or Esc. */
static bool settings_key(struct tui *tui, void *priv, int key)
{
	struct settings_view *v = priv;
	struct settings *s = tui->opts.settings;

	if (!v->typing)
		return false;
	switch (key) {
	case TUI_KEY_ENTER:
	case '\r':
		if (!settings_adapter_valid(v->typed->str)) {
			tui_set_message(tui, STYLE_BAD, "An adapter is named hci and a number, "
					"such as hci0; leave it empty for the first one.");
			break;
		}
		v->typing = false;
		g_free(s->adapter);
		s->adapter = v->typed->len ? g_strdup(v->typed->str) : NULL;
		if (tui->opts.pairing)
			pairing_set_adapter(tui->opts.pairing, s->adapter);
		changed(tui, false);
		break;
	case TUI_KEY_ESC:
		v->typing = false;
		break;
	case TUI_KEY_BACKSPACE:
		if (v->typed->len)
			g_string_truncate(v->typed, v->typed->len - 1);
		break;
	default:
		if (key > 0x20 && key < 0x7f && v->typed->len < ADAPTER_MAX)
			g_string_append_c(v->typed, (char)key);
		break;
	}
	tui_changed(tui);
	return true;
}

static void settings_open(struct tui *tui, void *priv)
{
	struct settings_view *v = priv;

	if (!v->typed)
		v->typed = g_string_new(NULL);
	v->typing = false;
}

static void settings_done(void *priv)
{
	struct settings_view *v = priv;

	if (v->typed)
		g_string_free(v->typed, TRUE);
}

const struct view_ops settings_view_ops = {
	.name = "settings",
	.private_size = sizeof(struct settings_view),
	.open = settings_open,
	.draw = settings_draw,
	.request = settings_request,
	.key = settings_key,
	.done = settings_done,
};
