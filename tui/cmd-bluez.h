/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `dermaroll scan`, `pair` and `session` share: the system bus, the
 * model of org.bluez made ready, the adapter switched on only with the
 * user's consent, yes/no questions on a terminal, and the wait for
 * bluetoothd to drop a closed link before the program leaves the bus.
 */
#pragma once

#include <stdbool.h>

#include <gio/gio.h>

#include "bluez.h"
#include "link.h"

/* How long a program waits on its way out for bluetoothd to drop the
 * links it closed (bluetoothd's own disconnect timer is 2 s). */
#define CMD_BLUEZ_LET_GO_MS 6000

/* The system bus: DBUS_SYSTEM_BUS_ADDRESS when set (the dbus suite points
 * it at a private bus), else the standard socket.  NULL after printing
 * the reason. */
GDBusConnection *cmd_bluez_bus(const char *name);

/* The model, loaded (the main loop runs until it is).  NULL after printing
 * the reason. */
struct bluez *cmd_bluez_model(const char *name, GDBusConnection *bus);

/* Makes sure the adapter can be used.  When it is off, it is powered on
 * only if power_on is set (--power-on) or the user says yes on a terminal;
 * otherwise the reason is printed.  Returns CMD_EXIT_OK or the exit
 * status to return. */
int cmd_bluez_adapter_ready(const char *name, struct bluez *bluez, const char *adapter,
			    bool power_on);

/* Asks question with " [y/N] " on a terminal; false when the answer is not
 * yes or standard input is not a terminal. */
bool cmd_ask_yes(const char *question);

/* Runs the main loop until *done is true or timeout_ms passed (0: no
 * limit); false on timeout. */
bool cmd_bluez_wait(const bool *done, guint timeout_ms);

/* After link_close() (or the last use) of links made by
 * link_bluez_connect(): runs the main loop until BlueZ says none of their
 * devices is connected, at most timeout_ms.  bluetoothd 5.66 can crash
 * when the owner of an AcquireNotify socket leaves the bus before the
 * disconnection is done, and the roller advertises again only once it is
 * (PROTOCOL.md §9.1).  The caller keeps its references to the links until
 * this returns.  False when one is still connected after timeout_ms. */
bool cmd_bluez_let_go(struct link *const *links, guint n_links, guint timeout_ms);
