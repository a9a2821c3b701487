/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pairing interface for --simulate (pairing.h): three virtual rollers
 * "nearby" that come into range one after another, their signal moving
 * every tick; one is not in pairing mode and now and then goes out of
 * range.  Pairing takes a moment; INFO is read from a virtual roller over
 * a socket link, through the same steps as a real roller's.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "link.h"
#include "pair-steps.h"
#include "pairing.h"
#include "virtual-roller.h"

#define TICK_MS 700
#define PAIR_MS 800

struct sim_roller {
	const char *address;
	const char *name;
	const char *serial;
	uint16_t needle_um;
	uint16_t head_uses;
	int16_t rssi;                /* around this */
	bool pairing;
	unsigned int appears;        /* at this tick */
};

/* DR-3C09's head has 1.5 mm needles, so pairing it shows the head check
 * refusing. */
static const struct sim_roller nearby[] = {
	{ "C0:FF:EE:00:7A:21", "DR-7A21", "DR-NEAR-7A21", 500, 3, -52, true, 1 },
	{ "C0:FF:EE:00:51:F4", "DR-51F4", "DR-NEAR-51F4", 500, 0, -63, false, 2 },
	{ "C0:FF:EE:00:3C:09", "DR-3C09", "DR-NEAR-3C09", 1500, 2, -74, true, 4 },
};
#define NEARBY G_N_ELEMENTS(nearby)

struct pairing_sim {
	struct pairing base;
	guint tick;
	unsigned int ticks;
	bool visible[NEARBY];
	bool bonded[NEARBY];
	struct pairing_roller shown[NEARBY];
	guint pair_timer;
	int pairing_index;
	struct virtual_roller *vr;
	struct pair_info_read *info;
};

static int find(const char *address)
{
	for (size_t i = 0; i < NEARBY; i++)
		if (g_ascii_strcasecmp(nearby[i].address, address) == 0)
			return (int)i;
	return -1;
}

static void check(struct pairing *p)
{
	pairing_emit_problem(p, PAIRING_EVENT_CHECKED, PAIRING_OK, NULL);
}

static void power_on(struct pairing *p)
{
	pairing_emit_problem(p, PAIRING_EVENT_POWERED, PAIRING_OK, NULL);
}

/* The signal wanders a few dBm around each roller's own. */
static int16_t rssi_at(size_t i, unsigned int tick)
{
	static const int8_t walk[] = { 0, 2, 3, 1, -2, -4, -1, 2, 4, 1, -3, -1 };

	return (int16_t)(nearby[i].rssi + walk[(tick + i * 5) % G_N_ELEMENTS(walk)]);
}

static gboolean on_tick(gpointer data)
{
	struct pairing_sim *ps = data;

	ps->ticks++;
	for (size_t i = 0; i < NEARBY; i++) {
		const struct sim_roller *n = &nearby[i];
		struct pairing_roller *r = &ps->shown[i];
		struct pairing_event ev = { .roller = r };
		/* The one not in pairing mode is out of range for a while. */
		bool in_range = ps->ticks >= n->appears &&
			(n->pairing || (ps->ticks % 20) < 14);

		if (!in_range) {
			if (ps->visible[i]) {
				ps->visible[i] = false;
				ev.kind = PAIRING_EVENT_LOST;
				pairing_emit(&ps->base, &ev);
			}
			continue;
		}
		ev.kind = ps->visible[i] ? PAIRING_EVENT_CHANGED : PAIRING_EVENT_FOUND;
		ps->visible[i] = true;
		memset(r, 0, sizeof(*r));
		g_strlcpy(r->address, n->address, sizeof(r->address));
		g_strlcpy(r->name, n->name, sizeof(r->name));
		r->rssi = rssi_at(i, ps->ticks);
		r->pairing = n->pairing;
		r->bonded = ps->bonded[i];
		pairing_emit(&ps->base, &ev);
	}
	return G_SOURCE_CONTINUE;
}

static void scan_stop(struct pairing *p)
{
	struct pairing_sim *ps = (struct pairing_sim *)p;

	if (ps->tick)
		g_source_remove(ps->tick);
	ps->tick = 0;
}

static void scan_start(struct pairing *p)
{
	struct pairing_sim *ps = (struct pairing_sim *)p;

	scan_stop(p);
	ps->ticks = 0;
	memset(ps->visible, 0, sizeof(ps->visible));
	ps->tick = g_timeout_add(TICK_MS, on_tick, ps);
}

static gboolean on_paired(gpointer data)
{
	struct pairing_sim *ps = data;
	struct pairing_event ev = { .kind = PAIRING_EVENT_PAIRED };

	ps->pair_timer = 0;
	ev.was_bonded = ps->bonded[ps->pairing_index];
	ps->bonded[ps->pairing_index] = true;
	pairing_emit(&ps->base, &ev);
	return G_SOURCE_REMOVE;
}

static void pair(struct pairing *p, const char *address)
{
	struct pairing_sim *ps = (struct pairing_sim *)p;
	int i = find(address);
	g_autofree char *message = NULL;

	if (ps->pair_timer)
		return;
	if (i < 0 || !ps->visible[i]) {
		message = g_strdup_printf("No roller %s was found nearby. Check that it is "
					  "switched on and close by, then try again.", address);
		pairing_emit_problem(p, PAIRING_EVENT_PAIRED, PAIRING_FAILED, message);
		return;
	}
	if (!nearby[i].pairing && !ps->bonded[i]) {
		message = g_strdup_printf("The roller %s is not in pairing mode, so it would "
					  "refuse. Hold its button until the light blinks "
					  "(pairing mode lasts 60 seconds), then try again.",
					  address);
		pairing_emit_problem(p, PAIRING_EVENT_PAIRED, PAIRING_NOT_PAIRING, message);
		return;
	}
	ps->pairing_index = i;
	ps->pair_timer = g_timeout_add(PAIR_MS, on_paired, ps);
}

static void reply(struct pairing *p, bool accept, uint32_t passkey)
{
	/* Virtual rollers pair with Just Works: nothing is ever asked. */
}

static void on_info(const struct dp_info *info, const char *name, const GError *error,
		    void *data)
{
	struct pairing_sim *ps = data;
	struct pairing_event ev = { .kind = PAIRING_EVENT_INFO, .info = info };

	ps->info = NULL;
	g_clear_pointer(&ps->vr, virtual_roller_unref);
	if (!info) {
		ev.problem = PAIRING_INFO_FAILED;
		ev.message = error->message;
	}
	pairing_emit(&ps->base, &ev);
}

static void read_info(struct pairing *p, const char *address)
{
	struct pairing_sim *ps = (struct pairing_sim *)p;
	struct virtual_roller_options vo;
	g_autoptr(GError) error = NULL;
	struct link *link;
	int i = find(address), fds[2];

	if (ps->info)
		return;
	if (i < 0) {
		pairing_emit_problem(p, PAIRING_EVENT_INFO, PAIRING_INFO_FAILED,
				     "That roller is not one of the virtual rollers nearby.");
		return;
	}
	virtual_roller_options_default(&vo);
	vo.serial = nearby[i].serial;
	vo.needle_um = nearby[i].needle_um;
	vo.head_uses = nearby[i].head_uses;
	vo.autopilot = FALSE;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
		g_autofree char *message = g_strdup_printf("The virtual roller could not be "
							   "reached: %s.", g_strerror(errno));

		pairing_emit_problem(p, PAIRING_EVENT_INFO, PAIRING_INFO_FAILED, message);
		return;
	}
	ps->vr = virtual_roller_new(&vo, &error);
	if (!ps->vr) {
		close(fds[0]);
		close(fds[1]);
		pairing_emit_problem(p, PAIRING_EVENT_INFO, PAIRING_INFO_FAILED, error->message);
		return;
	}
	link = virtual_roller_attach(ps->vr, fds[0], &error) ? link_socket_new(fds[1], &error)
		: (close(fds[1]), NULL);
	if (!link) {
		g_clear_pointer(&ps->vr, virtual_roller_unref);
		pairing_emit_problem(p, PAIRING_EVENT_INFO, PAIRING_INFO_FAILED, error->message);
		return;
	}
	ps->info = pair_info_read_start(link, PAIR_INFO_TIMEOUT_MS, on_info, ps);
	link_unref(link);
}

static void cancel(struct pairing *p)
{
	struct pairing_sim *ps = (struct pairing_sim *)p;

	if (ps->pair_timer)
		g_source_remove(ps->pair_timer);
	ps->pair_timer = 0;
	g_clear_pointer(&ps->info, pair_info_read_cancel);
	g_clear_pointer(&ps->vr, virtual_roller_unref);
}

static void pairing_sim_free(struct pairing *p)
{
	cancel(p);
	scan_stop(p);
	g_free(p);
}

static const struct pairing_ops sim_ops = {
	.check = check,
	.power_on = power_on,
	.scan_start = scan_start,
	.scan_stop = scan_stop,
	.pair = pair,
	.reply = reply,
	.read_info = read_info,
	.cancel = cancel,
	.free = pairing_sim_free,
};

struct pairing *pairing_sim_new(void)
{
	struct pairing_sim *ps = g_new0(struct pairing_sim, 1);

	pairing_init(&ps->base, &sim_ops);
	ps->base.simulated = true;
	return &ps->base;
}
