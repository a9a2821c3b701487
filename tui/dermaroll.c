/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dermaroll: the program.  With no command it opens the screens (app.c)
 * on the history with the paired roller over Bluetooth, or with a virtual
 * roller in this process (--simulate) or one served by roller-sim
 * (--socket).  `dermaroll COMMAND ...` runs one of the subcommands of
 * commands.h instead.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "app.h"
#include "commands.h"

static gboolean opt_simulate;
static char *opt_socket;
static double opt_speed = 1.0;
static gboolean opt_version;

static const GOptionEntry entries[] = {
	{ "simulate", 0, 0, G_OPTION_ARG_NONE, &opt_simulate,
	  "Use a virtual roller that rolls a demo routine", NULL },
	{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &opt_socket,
	  "Connect to a virtual roller served by roller-sim on PATH", "PATH" },
	{ "speed", 0, 0, G_OPTION_ARG_DOUBLE, &opt_speed,
	  "With --simulate: how much faster than real time the virtual roller moves", "FACTOR" },
	{ "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Show the version", NULL },
	G_OPTION_ENTRY_NULL
};

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

#define DERMAROLL_COMMAND_ENTRY(name, summary) { #name, summary, cmd_##name },
static const struct command commands[] = {
	DERMAROLL_COMMANDS(DERMAROLL_COMMAND_ENTRY)
};
#undef DERMAROLL_COMMAND_ENTRY

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* The list of commands under `dermaroll --help`. */
static char *commands_description(void)
{
	GString *text = g_string_new("Commands:\n");
	int width = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		width = MAX(width, (int)strlen(commands[i].name));
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		g_string_append_printf(text, "  %-*s  %s\n", width,
				       commands[i].name, commands[i].summary);
	g_string_append(text, "\nRun 'dermaroll COMMAND --help' to see a command's options.");
	return g_string_free(text, FALSE);
}

static int unknown_command(const char *word)
{
	g_autoptr(GString) names = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		g_string_append_printf(names, "%s%s", i ? ", " : "", commands[i].name);
	fprintf(stderr, "dermaroll: '%s' is not a command; the commands are %s.\n"
		"Run 'dermaroll --help' to see the options.\n", word, names->str);
	return 2;
}

static int run_screens(int argc, char **argv)
{
	g_autoptr(GOptionContext) context = g_option_context_new("[COMMAND]");
	g_autofree char *description = commands_description();
	g_autoptr(GError) error = NULL;
	struct app_options app = { 0 };

	g_option_context_set_summary(context,
		"Guides you through a micro-needling routine with a sensing roller.");
	g_option_context_set_description(context, description);
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "dermaroll: %s\nRun 'dermaroll --help' to see the options.\n",
			error->message);
		return 2;
	}
	if (opt_version) {
		printf("dermaroll %s\n", DERMAROLL_VERSION);
		return 0;
	}
	if (argc > 1) {
		if (find_command(argv[1]))
			fprintf(stderr, "dermaroll: the command '%s' must come first, before any option.\n"
				"Run 'dermaroll --help' to see the options.\n", argv[1]);
		else
			fprintf(stderr, "dermaroll: unexpected argument '%s'.\n"
				"Run 'dermaroll --help' to see the options.\n", argv[1]);
		return 2;
	}
	if (!(opt_speed >= 0.1 && opt_speed <= 100)) {
		fprintf(stderr, "dermaroll: --speed must be between 0.1 and 100.\n");
		return 2;
	}
	if (opt_simulate && opt_socket) {
		fprintf(stderr, "dermaroll: --simulate and --socket name two rollers: give one.\n");
		return 2;
	}

	app.simulate = opt_simulate;
	app.socket = opt_socket;
	app.speed = opt_speed;
	return app_run(&app);
}

int main(int argc, char **argv)
{
	const struct command *command;
	g_autofree char *prgname = NULL;

	/* The locale's charset, so that GOption turns arguments such as
	 * "décolletage" into UTF-8, and so that curses draws UTF-8. */
	setlocale(LC_ALL, "");

	/* A command is the first argument; anything else is the screens'. */
	if (argc > 1 && argv[1][0] != '-') {
		command = find_command(argv[1]);
		if (!command)
			return unknown_command(argv[1]);
		/* "Usage: dermaroll NAME" in --help. */
		prgname = g_strdup_printf("dermaroll %s", command->name);
		g_set_prgname(prgname);
		return command->run(argc - 1, argv + 1);
	}
	return run_screens(argc, argv);
}
