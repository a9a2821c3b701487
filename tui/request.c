/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request table and the keymap (request.h).
 */
#include <glib.h>

#include "request.h"

#define REQUEST_ROW(name, key, group, help) \
	{ REQ_##name, #name, key, REQUEST_GROUP_##group, help },
static const struct request_info requests[] = {
	REQUEST_INFO(REQUEST_ROW)
};
#undef REQUEST_ROW

/* Second keys for some requests; the help names them in the text. */
static const struct {
	int key;
	enum request request;
} aliases[] = {
	{ TUI_KEY_F1, REQ_HELP },
	{ TUI_KEY_DOWN, REQ_SCROLL_DOWN },
	{ TUI_KEY_UP, REQ_SCROLL_UP },
	{ '=', REQ_HARDER },
	{ '\r', REQ_NEXT_ZONE },
};

const struct request_info *request_table(size_t *count)
{
	*count = G_N_ELEMENTS(requests);
	return requests;
}

const char *request_group_title(enum request_group group)
{
	switch (group) {
	case REQUEST_GROUP_SCREEN:
		return "Every screen";
	case REQUEST_GROUP_HOME:
		return "Home";
	case REQUEST_GROUP_HISTORY:
		return "History";
	case REQUEST_GROUP_CHECKLIST:
		return "Checklist and questions";
	case REQUEST_GROUP_ROUTINE:
		return "Routine";
	case REQUEST_GROUP_HAND:
		return "Rolling by hand (virtual roller only)";
	}
	return "";
}

enum request keymap_request(int key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(requests); i++)
		if (requests[i].key == key)
			return requests[i].request;
	for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++)
		if (aliases[i].key == key)
			return aliases[i].request;
	return REQ_NONE;
}

const char *keymap_key_name(int key, char *buf, size_t size)
{
	switch (key) {
	case ' ':
		return "Space";
	case TUI_KEY_ENTER:
		return "Enter";
	case TUI_KEY_ESC:
		return "Esc";
	case TUI_KEY_UP:
		return "Up";
	case TUI_KEY_DOWN:
		return "Down";
	case TUI_KEY_BACKSPACE:
		return "Backspace";
	case TUI_KEY_F1:
		return "F1";
	default:
		break;
	}
	if (key > 0 && key < 0x20)
		g_snprintf(buf, size, "Ctrl-%c", key + '@');
	else if (key >= 0x20 && key < 0x110000 && size >= 8)
		buf[g_unichar_to_utf8((gunichar)key, buf)] = '\0';
	else
		g_snprintf(buf, size, "?");
	return buf;
}
