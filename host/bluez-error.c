/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every error of the BlueZ path becomes a sentence here, once, at the edge
 * (STYLE.md): D-Bus error names from bluetoothd and the bus, GIO's local
 * errors, and the problems the model finds itself.  The raw name goes to
 * the debug log only.  doc/bluez-backend.md lists the same table.
 */
#include <stdlib.h>
#include <string.h>

#include "dp/proto.h"
#include "bluez.h"

#define PAIR_AGAIN "Pair it again: hold its button until the light blinks, then run " \
		   "'dermaroll pair'."

struct error_entry {
	const char *name;
	enum link_error code;
	const char *sentence;        /* NULL: the op's generic sentence */
};

/* org.bluez.Error.* (BlueZ doc/org.bluez.*.rst) and the bus's own errors. */
static const struct error_entry dbus_errors[] = {
	{ "org.bluez.Error.NotReady", LINK_ERROR_CONNECT,
	  "Bluetooth is not ready yet: the adapter is starting or switched off. "
	  "Wait a moment, then connect again." },
	{ "org.bluez.Error.Failed", LINK_ERROR_CONNECT, NULL },
	{ "org.bluez.Error.InProgress", LINK_ERROR_CONNECT,
	  "Bluetooth is still busy with an earlier request to the roller. "
	  "Wait a moment, then try again." },
	{ "org.bluez.Error.AlreadyConnected", LINK_ERROR_CONNECT,
	  "The roller is already connected to this computer by another program. "
	  "Close that program, then connect again." },
	{ "org.bluez.Error.NotConnected", LINK_ERROR_LOST,
	  "The roller is not connected any more. Check that it is switched on and "
	  "close by, then connect again." },
	{ "org.bluez.Error.ConnectionAttemptFailed", LINK_ERROR_CONNECT,
	  "Could not connect to the roller. Check that it is switched on and within "
	  "a few metres, then try again." },
	{ "org.bluez.Error.DoesNotExist", LINK_ERROR_CONNECT,
	  "This computer's Bluetooth no longer knows the roller. " PAIR_AGAIN },
	{ "org.bluez.Error.NotAvailable", LINK_ERROR_CONNECT,
	  "Bluetooth cannot reach the roller right now. Check that it is switched on "
	  "and close by, then try again." },
	{ "org.bluez.Error.NotSupported", LINK_ERROR_CONNECT,
	  "This computer's Bluetooth cannot do what the roller needs. Update BlueZ "
	  "(the Bluetooth service), or try another Bluetooth adapter." },
	{ "org.bluez.Error.NotPermitted", LINK_ERROR_REFUSED,
	  "The roller refused: it no longer accepts this computer's pairing. " PAIR_AGAIN },
	{ "org.bluez.Error.NotAuthorized", LINK_ERROR_REFUSED,
	  "The roller refused: it no longer accepts this computer's pairing. " PAIR_AGAIN },
	{ "org.bluez.Error.AuthenticationFailed", LINK_ERROR_REFUSED,
	  "Pairing with the roller failed. " PAIR_AGAIN },
	{ "org.bluez.Error.AuthenticationRejected", LINK_ERROR_REFUSED,
	  "The roller rejected pairing: it pairs only in pairing mode. " PAIR_AGAIN },
	{ "org.bluez.Error.AuthenticationCanceled", LINK_ERROR_REFUSED,
	  "Pairing with the roller was cancelled. " PAIR_AGAIN },
	{ "org.bluez.Error.AuthenticationTimeout", LINK_ERROR_TIMEOUT,
	  "Pairing with the roller took too long. " PAIR_AGAIN },
	{ "org.bluez.Error.AlreadyExists", LINK_ERROR_CONNECT,
	  "Bluetooth is already doing this for another program. Close other "
	  "Bluetooth programs, then try again." },
	{ "org.bluez.Error.Rejected", LINK_ERROR_REFUSED,
	  "The roller rejected the request. Switch it off and on, then try again." },
	{ "org.bluez.Error.Canceled", LINK_ERROR_CONNECT,
	  "Bluetooth cancelled the request. Try again." },
	{ "org.bluez.Error.InvalidArguments", LINK_ERROR_PROTOCOL,
	  "Internal error: Bluetooth rejected a request from dermaroll as invalid. "
	  "Please report this." },
	{ "org.bluez.Error.InvalidOffset", LINK_ERROR_PROTOCOL,
	  "Internal error: Bluetooth rejected a request from dermaroll as invalid. "
	  "Please report this." },
	{ "org.bluez.Error.InvalidValueLength", LINK_ERROR_REFUSED,
	  "The roller refused a message of that size. Update the roller or "
	  "dermaroll so that both speak the same protocol." },

	{ "org.freedesktop.DBus.Error.ServiceUnknown", LINK_ERROR_CONNECT,
	  "The Bluetooth service (bluetoothd) is not running. Start it, for example "
	  "with 'systemctl start bluetooth', then connect again." },
	{ "org.freedesktop.DBus.Error.NameHasNoOwner", LINK_ERROR_CONNECT,
	  "The Bluetooth service (bluetoothd) is not running. Start it, for example "
	  "with 'systemctl start bluetooth', then connect again." },
	{ "org.freedesktop.DBus.Error.NoReply", LINK_ERROR_TIMEOUT,
	  "The Bluetooth service did not answer in time. Check that it is running, "
	  "then try again." },
	{ "org.freedesktop.DBus.Error.Timeout", LINK_ERROR_TIMEOUT,
	  "The Bluetooth service did not answer in time. Check that it is running, "
	  "then try again." },
	{ "org.freedesktop.DBus.Error.TimedOut", LINK_ERROR_TIMEOUT,
	  "The Bluetooth service did not answer in time. Check that it is running, "
	  "then try again." },
	{ "org.freedesktop.DBus.Error.UnknownObject", LINK_ERROR_LOST,
	  "The roller disappeared from this computer's Bluetooth devices while "
	  "dermaroll was using it. Connect again; if that fails, pair it again." },
	{ "org.freedesktop.DBus.Error.UnknownInterface", LINK_ERROR_LOST,
	  "The roller disappeared from this computer's Bluetooth devices while "
	  "dermaroll was using it. Connect again; if that fails, pair it again." },
	{ "org.freedesktop.DBus.Error.UnknownMethod", LINK_ERROR_CONNECT,
	  "This computer's Bluetooth service is too old for dermaroll. Update BlueZ "
	  "(5.50 or later)." },
	{ "org.freedesktop.DBus.Error.AccessDenied", LINK_ERROR_CONNECT,
	  "This user may not use Bluetooth on this computer. Ask the administrator "
	  "to allow it (often: add the user to the 'bluetooth' group)." },
	{ "org.freedesktop.DBus.Error.AuthFailed", LINK_ERROR_CONNECT,
	  "This user may not use Bluetooth on this computer. Ask the administrator "
	  "to allow it (often: add the user to the 'bluetooth' group)." },
	{ "org.freedesktop.DBus.Error.NoServer", LINK_ERROR_LOST,
	  "The connection to the system message bus was lost. Restart dermaroll." },
	{ "org.freedesktop.DBus.Error.Disconnected", LINK_ERROR_LOST,
	  "The connection to the system message bus was lost. Restart dermaroll." },
	{ "org.freedesktop.DBus.Error.LimitsExceeded", LINK_ERROR_CONNECT,
	  "The system message bus is overloaded. Close other programs, then try again." },
	{ "org.freedesktop.DBus.Error.NoMemory", LINK_ERROR_CONNECT,
	  "The system message bus is overloaded. Close other programs, then try again." },
	{ "org.freedesktop.DBus.Error.InvalidArgs", LINK_ERROR_PROTOCOL,
	  "Internal error: Bluetooth rejected a request from dermaroll as invalid. "
	  "Please report this." },
};

/* The sentence for a failure that only the op can explain. */
static const char *op_sentence(enum bluez_op op)
{
	switch (op) {
	case BLUEZ_OP_LOAD:
		return "dermaroll could not read the list of Bluetooth devices. Restart "
		       "the Bluetooth service, then try again.";
	case BLUEZ_OP_CONNECT:
		return "Could not connect to the roller. Check that it is switched on and "
		       "within a few metres, then try again.";
	case BLUEZ_OP_READ:
		return "The roller did not say what it is. Switch it off and on, then "
		       "connect again.";
	case BLUEZ_OP_WRITE:
		return "A command did not reach the roller. Switch it off and on, then "
		       "connect again.";
	case BLUEZ_OP_NOTIFY:
		return "The roller did not start sending its data. Switch it off and on, "
		       "then connect again.";
	case BLUEZ_OP_DISCOVER:
		return "Bluetooth could not start looking for rollers. Check that it is "
		       "on and that no other program is using it, then try again.";
	case BLUEZ_OP_POWER:
		return "Bluetooth could not be switched on. Check that it is not blocked "
		       "('rfkill list'), then try again.";
	case BLUEZ_OP_PAIR:
		return "Pairing with the roller failed. " PAIR_AGAIN;
	}
	return "Bluetooth failed. Try again.";
}

static enum link_error op_code(enum bluez_op op)
{
	switch (op) {
	case BLUEZ_OP_LOAD:
	case BLUEZ_OP_CONNECT:
	case BLUEZ_OP_DISCOVER:
	case BLUEZ_OP_POWER:
		return LINK_ERROR_CONNECT;
	default:
		return LINK_ERROR_REFUSED;
	}
}

GError *bluez_error_from_dbus(const GError *error, enum bluez_op op)
{
	g_autofree char *name = g_dbus_error_get_remote_error(error);

	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
			 "MESSAGE", "bluez: op %d failed: %s (%s)", (int)op,
			 error->message, name ? name : "local");
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CLOSED,
					   "The connection to the roller was closed.");
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		name = g_strdup("org.freedesktop.DBus.Error.Timeout");
	else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED))
		name = g_strdup("org.freedesktop.DBus.Error.Disconnected");

	for (size_t i = 0; name && i < G_N_ELEMENTS(dbus_errors); i++) {
		const struct error_entry *e = &dbus_errors[i];

		if (strcmp(e->name, name) != 0)
			continue;
		if (e->sentence)
			return g_error_new_literal(LINK_ERROR, e->code, e->sentence);
		break;
	}
	return g_error_new_literal(LINK_ERROR, op_code(op), op_sentence(op));
}

GError *bluez_error_new(enum bluez_problem problem, const char *detail)
{
	const char *d = detail ? detail : "";

	switch (problem) {
	case BLUEZ_NOT_RUNNING:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT,
			"The Bluetooth service (bluetoothd) is not running. Start it, for "
			"example with 'systemctl start bluetooth', then connect again.");
	case BLUEZ_STOPPED:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_LOST,
			"The Bluetooth service (bluetoothd) stopped, so the roller is "
			"disconnected. Connect again once it is running.");
	case BLUEZ_NO_ADAPTER:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT,
			"No Bluetooth adapter found. Plug one in, or check that the "
			"computer's Bluetooth is enabled in its firmware settings.");
	case BLUEZ_NO_SUCH_ADAPTER:
		return g_error_new(LINK_ERROR, LINK_ERROR_CONNECT,
			"There is no Bluetooth adapter called %s. Leave out --adapter to "
			"use the first one.", d);
	case BLUEZ_POWERED_OFF:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT,
			"Bluetooth is off. Turn it on (for example with 'bluetoothctl "
			"power on'), then connect again.");
	case BLUEZ_RFKILL:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT,
			"Bluetooth is blocked by rfkill (a switch, a key or airplane mode). "
			"Unblock it, for example with 'rfkill unblock bluetooth', then "
			"connect again.");
	case BLUEZ_ADAPTER_GONE:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_LOST,
			"The Bluetooth adapter went away, so the roller is disconnected. "
			"Plug it back in, then connect again.");
	case BLUEZ_BAD_ADDRESS:
		return g_error_new(LINK_ERROR, LINK_ERROR_CONNECT,
			"'%s' is not a Bluetooth address (it looks like AA:BB:CC:DD:EE:FF).", d);
	case BLUEZ_NOT_PAIRED:
		return g_error_new(LINK_ERROR, LINK_ERROR_REFUSED,
			"The roller %s is not paired with this computer, and dermaroll "
			"talks only to paired rollers. Pair it first: hold its button until "
			"the light blinks, then run 'dermaroll pair'.", d);
	case BLUEZ_VANISHED:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_LOST,
			"The roller disappeared from this computer's Bluetooth devices (it "
			"was removed or unpaired). " PAIR_AGAIN);
	case BLUEZ_DISCONNECTED:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_LOST,
			"The roller disconnected. Check that it is switched on and close by; "
			"dermaroll connects again when it can.");
	case BLUEZ_NOTIFY_CLOSED:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_LOST,
			"The roller stopped sending its data. Connect again.");
	case BLUEZ_NO_SERVICE:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_PROTOCOL,
			"This device does not offer the dermaroll roller service. Check that "
			"it is a dermaroll roller, or update its firmware.");
	case BLUEZ_RESOLVE_TIMEOUT:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_TIMEOUT,
			"The roller connected but did not list its services in time. Switch "
			"it off and on, then connect again.");
	case BLUEZ_SMALL_MTU:
		return g_error_new(LINK_ERROR, LINK_ERROR_CONNECT,
			"The Bluetooth connection to the roller is too limited (packets of "
			"%s bytes, at least %u needed). Update the computer's Bluetooth "
			"software, or try another Bluetooth adapter.", d, DP_MIN_ATT_MTU);
	case BLUEZ_NOT_FOUND:
		return g_error_new(LINK_ERROR, LINK_ERROR_CONNECT,
			"No roller %s was found nearby. Check that it is switched on and "
			"close by, hold its button until the light blinks, then try again.", d);
	case BLUEZ_NOT_PAIRING:
		return g_error_new(LINK_ERROR, LINK_ERROR_REFUSED,
			"The roller %s is not in pairing mode, so it would refuse. Hold its "
			"button until the light blinks (pairing mode lasts 60 seconds), "
			"then try again.", d);
	case BLUEZ_NEWER_ROLLER:
		return g_error_new(LINK_ERROR, LINK_ERROR_VERSION,
			"This roller speaks a newer protocol (version %s) than this "
			"dermaroll. Update dermaroll, then pair it.", d);
	case BLUEZ_PAIR_DECLINED:
		return g_error_new_literal(LINK_ERROR, LINK_ERROR_CLOSED,
			"Pairing was not confirmed, so the roller was not paired.");
	}
	return g_error_new_literal(LINK_ERROR, LINK_ERROR_CONNECT, "Bluetooth failed.");
}

uint8_t bluez_error_att_status(const GError *error)
{
	g_autofree char *name = g_dbus_error_get_remote_error(error);
	const char *hex;
	unsigned long v;
	char *end;

	if (!name || strcmp(name, "org.bluez.Error.Failed") != 0)
		return 0;
	hex = strstr(error->message, "ATT error: 0x");
	if (!hex)
		return 0;
	v = strtoul(hex + strlen("ATT error: 0x"), &end, 16);
	return end != hex + strlen("ATT error: 0x") && v <= 0xff ? (uint8_t)v : 0;
}
