/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The in-process virtual roller (sim.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "sim.h"

struct store *sim_open_demo_history(GError **error)
{
	g_autofree char *path = g_build_filename(g_get_user_data_dir(), "dermaroll",
						 "demo.db", NULL);

	return store_open(path, STORE_OPEN_CREATE, error);
}

static char *new_serial(struct store *store, GError **error)
{
	g_autoptr(GPtrArray) rollers = store_rollers(store, true, error);

	if (!rollers)
		return NULL;
	for (unsigned int n = 1; n <= 9999; n++) {
		char *serial = g_strdup_printf("DR-SIM-%04u", n);
		bool taken = false;

		for (guint i = 0; i < rollers->len && !taken; i++)
			taken = strcmp(((struct store_roller *)rollers->pdata[i])->serial,
				       serial) == 0;
		if (!taken)
			return serial;
		g_free(serial);
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
		    "The history already holds 9999 virtual rollers; use another --database.");
	return NULL;
}

struct link *sim_start(struct store *store, const struct virtual_roller_options *opts,
		       struct virtual_roller **roller, GError **error)
{
	struct virtual_roller_options o = *opts;
	g_autofree char *serial = NULL;
	int fds[2];

	*roller = NULL;
	serial = new_serial(store, error);
	if (!serial)
		return NULL;
	o.serial = serial;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "Could not start the virtual roller: %s.", g_strerror(errno));
		return NULL;
	}
	*roller = virtual_roller_new(&o, error);
	if (!*roller) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (!virtual_roller_attach(*roller, fds[0], error)) {
		close(fds[1]);
		return NULL;
	}
	return link_socket_new(fds[1], error);
}
