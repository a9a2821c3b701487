/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * roller-sim: a virtual roller served on a local SOCK_SEQPACKET socket
 * (PROTOCOL.md §10), or with --ble as a Bluetooth LE peripheral through
 * BlueZ (ble-advert.c, ble-peripheral.c), one host at a time.  Usage:
 * doc/roller-sim.md.
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "ble-advert.h"
#include "ble-peripheral.h"
#include "scenario.h"
#include "virtual-roller.h"

struct sim {
	GMainLoop *loop;
	struct virtual_roller *vr;
	struct ble_advert *ble;
	gboolean quiet;
	int listen_fd;
	gboolean was_attached;
	char *last_status;
	int exit_status;
};

static const char *state_name(guint8 state)
{
	switch (state) {
	case DP_STATE_IDLE:
		return "idle";
	case DP_STATE_SESSION:
		return "session";
	case DP_STATE_OFFLINE_SESSION:
		return "offline session";
	}
	return "?";
}

static gboolean on_status(gpointer data)
{
	struct sim *sim = data;
	const struct dp_fw *fw = virtual_roller_firmware(sim->vr);
	gboolean attached = virtual_roller_is_attached(sim->vr);
	g_autofree char *line = NULL;
	struct dp_status st;
	const char *zone;

	if (attached != sim->was_attached) {
		if (!sim->quiet)
			g_print("%s\n", attached ? "host connected" : "host left");
		sim->was_attached = attached;
	}
	dp_fw_status(fw, &st);
	zone = scenario_zone_name(st.zone);
	line = g_strdup_printf("%s, %s, zone %s, session %u, log %u passes (next seq %u), "
			       "battery %u %%%s",
			       attached ? "host" : "no host", state_name(st.state),
			       zone ? zone : "?", st.session, st.log_count,
			       st.log_next_seq, st.battery_pct,
			       (st.flags & DP_STATUS_PAIRING) ? ", pairing" : "");
	if (g_strcmp0(line, sim->last_status) != 0) {
		if (!sim->quiet)
			g_print("[%8.1f s] %s\n", virtual_roller_time(sim->vr) / 1000.0, line);
		g_free(sim->last_status);
		sim->last_status = g_steal_pointer(&line);
	}
	return G_SOURCE_CONTINUE;
}

static gboolean on_accept(int fd, GIOCondition cond, gpointer data)
{
	struct sim *sim = data;
	g_autoptr(GError) error = NULL;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			g_printerr("roller-sim: accept: %s\n", g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}
	if (virtual_roller_is_attached(sim->vr)) {
		/* One host at a time, as a roller keeps one BLE connection. */
		g_print("refused a second host: one host at a time\n");
		close(conn);
		return G_SOURCE_CONTINUE;
	}
	if (!virtual_roller_attach(sim->vr, conn, &error))
		g_printerr("roller-sim: could not take the host: %s\n", error->message);
	on_status(sim);
	return G_SOURCE_CONTINUE;
}

static gboolean quit_loop(gpointer data)
{
	struct sim *sim = data;

	g_main_loop_quit(sim->loop);
	return G_SOURCE_REMOVE;
}

static gboolean on_signal(gpointer data)
{
	struct sim *sim = data;

	/* BLE: unregister from bluetoothd first, then quit. */
	if (sim->ble)
		ble_advert_stop(sim->ble, quit_loop, sim);
	else
		g_main_loop_quit(sim->loop);
	return G_SOURCE_CONTINUE;
}

/* SIGUSR1: the button held down (§9.3). */
static gboolean on_long_press(gpointer data)
{
	struct sim *sim = data;

	virtual_roller_long_press(sim->vr);
	if (!sim->quiet)
		g_print("long press: pairing mode for 60 s\n");
	return G_SOURCE_CONTINUE;
}

static void on_ble_ready(struct ble_advert *ba, const GError *error, void *data)
{
	struct sim *sim = data;

	if (error) {
		g_printerr("roller-sim: %s\n", error->message);
		sim->exit_status = 1;
		g_main_loop_quit(sim->loop);
		return;
	}
	/* One line scripts wait for (doc/roller-sim.md). */
	g_print("roller-sim %s: ready on %s (%s) as \"DermaRoll %s\"%s\n",
		virtual_roller_serial(sim->vr), ble_advert_adapter(ba), ble_advert_address(ba),
		virtual_roller_serial(sim->vr),
		virtual_roller_firmware(sim->vr)->pairing ? ", pairing mode on" : "");
}

/* Binds and listens on path, replacing a stale socket but never another
 * live roller-sim. */
static int listen_on(const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_autofree char *dir = g_path_get_dirname(path);
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "the socket path is too long (at most %zu bytes): %s",
			    sizeof(addr.sun_path) - 1, path);
		return -1;
	}
	strcpy(addr.sun_path, path);
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot create %s: %s", dir, g_strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot create a socket: %s", g_strerror(errno));
		return -1;
	}
	if (g_file_test(path, G_FILE_TEST_EXISTS)) {
		int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		gboolean live = probe >= 0 &&
			connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0;

		if (probe >= 0)
			close(probe);
		if (live) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
				    "another roller-sim is already listening on %s", path);
			close(fd);
			return -1;
		}
		g_unlink(path);
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "cannot listen on %s: %s", path, g_strerror(errno));
		close(fd);
		return -1;
	}
	chmod(path, 0600);
	return fd;
}

/* $XDG_STATE_HOME/dermaroll/roller-sim/<serial>.state, the serial made
 * safe for a file name. */
static char *default_state_path(const char *serial)
{
	g_autofree char *name = g_strdup(serial);

	for (char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.')
			*c = '_';
	if (name[0] == '.')
		name[0] = '_';
	return g_strdup_printf("%s/dermaroll/roller-sim/%s.state", g_get_user_state_dir(),
			       name);
}

/* What the flash said that the command line did not: the flash wins
 * (doc/roller-sim.md), and the user hears about each option it beat. */
static void report_flash(struct virtual_roller *vr, const char *path, const char *serial,
			 gint needle, gint uses)
{
	const struct dp_fw *fw = virtual_roller_firmware(vr);
	size_t count = dp_log_count(&fw->log);

	g_print("flash %s: next seq %u, %zu unsynced passes, %u sessions, head %s "
		"(%u µm, %u uses)\n", path, fw->log.next_seq, count, fw->session_counter,
		fw->head_serial, fw->cfg.needle_um, fw->cfg.head_uses);
	if (serial && strcmp(serial, virtual_roller_serial(vr)) != 0)
		g_printerr("roller-sim: --serial %s ignored: the flash %s belongs to %s\n",
			   serial, path, virtual_roller_serial(vr));
	if (needle >= 0 && needle != fw->cfg.needle_um)
		g_printerr("roller-sim: --needle-um %d ignored: the head in the flash has "
			   "%u µm needles (--fresh starts a new flash)\n", needle,
			   fw->cfg.needle_um);
	if (uses >= 0 && uses != fw->cfg.head_uses)
		g_printerr("roller-sim: --head-uses %d ignored: the flash counts %u "
			   "(--fresh starts a new flash)\n", uses, fw->cfg.head_uses);
}

static gboolean in_range(gint64 v, gint64 min, gint64 max, const char *name, GError **error)
{
	if (v >= min && v <= max)
		return TRUE;
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		    "%s must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
		    name, min, max);
	return FALSE;
}

/* --ble: the system bus (or DBUS_SYSTEM_BUS_ADDRESS), then the main loop
 * until a signal; ble-advert.c reports readiness or the error. */
static int run_ble(struct sim *sim, const char *adapter, gboolean power_on)
{
	struct ble_advert_options bo = { .adapter = adapter, .power_on = power_on,
					 .quiet = sim->quiet };
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
	const struct ble_peripheral_counters *c;

	if (!bus) {
		g_printerr("roller-sim: cannot reach the system D-Bus, which bluetoothd "
			   "uses: %s\n", error->message);
		virtual_roller_unref(sim->vr);
		return 1;
	}
	sim->loop = g_main_loop_new(NULL, FALSE);
	sim->ble = ble_advert_start(bus, sim->vr, &bo, on_ble_ready, sim);
	g_unix_signal_add(SIGINT, on_signal, sim);
	g_unix_signal_add(SIGTERM, on_signal, sim);
	g_unix_signal_add(SIGUSR1, on_long_press, sim);
	g_timeout_add(250, on_status, sim);
	if (!sim->exit_status)
		g_main_loop_run(sim->loop);
	c = ble_advert_counters(sim->ble);
	if (!sim->quiet && c)
		g_print("roller-sim: stopping: %u connections, %" G_GUINT64_FORMAT
			" notifications, %" G_GUINT64_FORMAT " indications, %" G_GUINT64_FORMAT
			" reads, %" G_GUINT64_FORMAT " writes, %" G_GUINT64_FORMAT
			" ATT errors\n", c->connections, c->notifications, c->indications,
			c->reads, c->writes, c->refused);
	ble_advert_free(sim->ble);
	virtual_roller_unref(sim->vr);
	g_main_loop_unref(sim->loop);
	g_free(sim->last_status);
	return sim->exit_status;
}

int main(int argc, char **argv)
{
	struct virtual_roller_options opts;
	struct sim sim = { .listen_fd = -1 };
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *socket_path = NULL, *scenario_path = NULL, *serial = NULL;
	g_autofree char *state_path = NULL;
	/* -1: not given, the default (or the flash's) applies */
	gint needle = -1, uses = -1, battery = 80, prefill = 0;
	gint64 seed = 1;
	double speed = 1.0;
	gboolean pairing = FALSE, no_autopilot = FALSE, verbose = FALSE;
	gboolean fresh = FALSE, discard = FALSE, had_flash;
	gboolean ble = FALSE, power_on = FALSE, quiet = FALSE;
	g_autofree char *adapter = NULL;
	GOptionEntry entries[] = {
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path,
		  "Listen on this socket (default $XDG_RUNTIME_DIR/dermaroll/roller-sim.sock)",
		  "PATH" },
		{ "needle-um", 0, 0, G_OPTION_ARG_INT, &needle,
		  "Needle length of the fitted head in micrometres, 100..3000 (500)", "UM" },
		{ "head-uses", 0, 0, G_OPTION_ARG_INT, &uses,
		  "Sessions the fitted head has already seen, 0..65535 (0)", "N" },
		{ "battery", 0, 0, G_OPTION_ARG_INT, &battery,
		  "Battery level in percent, 0..100 (80)", "PCT" },
		{ "prefill", 0, 0, G_OPTION_ARG_INT, &prefill,
		  "Passes rolled with no host before start, waiting in the offline log, "
		  "0.." G_STRINGIFY(DP_LOG_CAPACITY) " (0)", "N" },
		{ "pairing", 0, 0, G_OPTION_ARG_NONE, &pairing,
		  "Start in pairing mode, as after a long press (60 s)", NULL },
		{ "scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario_path,
		  "Roll the strokes of this scenario file instead of the autopilot", "FILE" },
		{ "no-autopilot", 0, 0, G_OPTION_ARG_NONE, &no_autopilot,
		  "With no scenario, do not roll when a host starts a session", NULL },
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
		  "Seed of the sensor noise and the autopilot's routine (1)", "N" },
		{ "speed", 0, 0, G_OPTION_ARG_DOUBLE, &speed,
		  "Time runs this many times faster than real time, 0.01..1000 (1)", "X" },
		{ "serial", 0, 0, G_OPTION_ARG_STRING, &serial,
		  "Serial number, 1..16 printable ASCII characters (DR-SIM-0001)", "SERIAL" },
		{ "state", 0, 0, G_OPTION_ARG_FILENAME, &state_path,
		  "The roller's flash (its log, seqs, sessions and head) is kept in this file "
		  "(default $XDG_STATE_HOME/dermaroll/roller-sim/SERIAL.state)", "FILE" },
		{ "fresh", 0, 0, G_OPTION_ARG_NONE, &fresh,
		  "Start with an empty flash, as a new roller; refused while the old one "
		  "holds passes no host has synced", NULL },
		{ "discard-unsynced", 0, 0, G_OPTION_ARG_NONE, &discard,
		  "With --fresh: discard those passes (or a damaged flash file)", NULL },
		{ "ble", 0, 0, G_OPTION_ARG_NONE, &ble,
		  "Be a Bluetooth LE peripheral through bluetoothd instead of listening on "
		  "a socket", NULL },
		{ "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter,
		  "With --ble: the adapter to use (default the first)", "hciN" },
		{ "power-on", 0, 0, G_OPTION_ARG_NONE, &power_on,
		  "With --ble: switch the adapter on if it is off", NULL },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
		  "Print only errors and the ready line", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		  "Log every link event and firmware trace", NULL },
		G_OPTION_ENTRY_NULL,
	};

	setlocale(LC_ALL, "");
	ctx = g_option_context_new("- a virtual derma-roller, on a local socket or over Bluetooth LE");
	g_option_context_set_summary(ctx,
		"Runs the roller's firmware and a model of a hand rolling it, and serves it\n"
		"to one dermaroll host at a time: on a local socket (--socket), or as a\n"
		"Bluetooth LE peripheral through BlueZ (--ble).  With no scenario, the autopilot rolls each\n"
		"zone's routine when the host starts a session on it.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) ||
	    (needle != -1 && !in_range(needle, 100, 3000, "--needle-um", &error)) ||
	    (uses != -1 && !in_range(uses, 0, G_MAXUINT16, "--head-uses", &error)) ||
	    !in_range(battery, 0, 100, "--battery", &error) ||
	    !in_range(prefill, 0, DP_LOG_CAPACITY, "--prefill", &error) ||
	    !in_range(seed, 0, G_MAXINT64, "--seed", &error)) {
		g_printerr("roller-sim: %s\n", error->message);
		return 2;
	}
	if (!(speed >= 0.01 && speed <= 1000.0)) {
		g_printerr("roller-sim: --speed must be between 0.01 and 1000\n");
		return 2;
	}
	if ((adapter || power_on) && !ble) {
		g_printerr("roller-sim: --adapter and --power-on go with --ble\n");
		return 2;
	}
	if (ble && socket_path) {
		g_printerr("roller-sim: --socket and --ble exclude each other\n");
		return 2;
	}
	if (discard && !fresh) {
		g_printerr("roller-sim: --discard-unsynced goes with --fresh\n");
		return 2;
	}
	if (argc > 1) {
		g_printerr("roller-sim: unexpected argument '%s'\n",
			   argv[1]);
		return 2;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);

	virtual_roller_options_default(&opts);
	if (needle >= 0)
		opts.needle_um = (uint16_t)needle;
	if (uses >= 0)
		opts.head_uses = (uint16_t)uses;
	opts.battery_pct = (uint8_t)battery;
	opts.prefill = (guint)prefill;
	opts.pairing = pairing;
	opts.seed = (guint64)seed;
	opts.speed = speed;
	opts.scenario = scenario_path;
	opts.autopilot = !no_autopilot;
	if (serial)
		opts.serial = serial;
	if (serial && (!*serial || strlen(serial) > DP_STR_MAX)) {
		g_printerr("roller-sim: --serial must be 1 to %d characters\n", DP_STR_MAX);
		return 2;
	}

	if (!state_path)
		state_path = default_state_path(opts.serial);
	opts.state = state_path;
	opts.fresh = fresh;
	opts.discard_unsynced = discard;
	had_flash = g_file_test(state_path, G_FILE_TEST_EXISTS);

	sim.vr = virtual_roller_new(&opts, &error);
	if (!sim.vr && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_EXISTS)) {
		g_printerr("roller-sim: %s; sync them with a host first, or add "
			   "--discard-unsynced to discard them\n", error->message);
		return 1;
	}
	if (!sim.vr && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA)) {
		g_printerr("roller-sim: %s; move it away, or start with --fresh "
			   "--discard-unsynced to discard it\n", error->message);
		return 1;
	}
	if (!sim.vr) {
		g_printerr("roller-sim: %s\n", error->message);
		/* A wrong option or scenario is the caller's (2); a flash that
		 * cannot be read or written is the machine's (1). */
		return error->domain == SCENARIO_ERROR ||
		       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? 2 : 1;
	}
	sim.quiet = quiet;
	if (had_flash && !fresh)
		report_flash(sim.vr, state_path, serial, needle, uses);
	else if (!quiet)
		g_print("flash %s: new, empty\n", state_path);
	if (ble)
		return run_ble(&sim, adapter, power_on);
	if (!socket_path)
		socket_path = g_build_filename(g_get_user_runtime_dir(), "dermaroll",
					       "roller-sim.sock", NULL);
	sim.listen_fd = listen_on(socket_path, &error);
	if (sim.listen_fd < 0) {
		g_printerr("roller-sim: %s\n", error->message);
		virtual_roller_unref(sim.vr);
		return 1;
	}

	g_print("roller-sim %s: listening on %s (speed %gx, seed %" G_GINT64_FORMAT ", %s)\n",
		virtual_roller_serial(sim.vr), socket_path, speed, seed,
		scenario_path ? scenario_path : opts.autopilot ? "autopilot" : "no autopilot");

	sim.loop = g_main_loop_new(NULL, FALSE);
	g_unix_fd_add(sim.listen_fd, G_IO_IN, on_accept, &sim);
	g_unix_signal_add(SIGINT, on_signal, &sim);
	g_unix_signal_add(SIGTERM, on_signal, &sim);
	g_timeout_add(250, on_status, &sim);
	on_status(&sim);
	g_main_loop_run(sim.loop);

	g_print("roller-sim: stopping\n");
	close(sim.listen_fd);
	g_unlink(socket_path);
	virtual_roller_unref(sim.vr);
	g_main_loop_unref(sim.loop);
	g_free(sim.last_status);
	return sim.exit_status;
}
