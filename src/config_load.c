/* SPDX-License-Identifier: MIT */
/*
 * The layers that set struct config from the settings table: the file, the environment and the
 * flags; the checks across settings; and the printed forms (config show, the sample file, the
 * flag help). Errors go to the FILE * the caller gives, never to the log: the CLI prints them.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "log.h"

#define LINE_MAX_BYTES	4096

static void
note(struct config *cfg, const struct config_setting *s, enum config_source src)
{
	cfg->source[s - config_settings] = (unsigned char)src;
}

static char *
trim(char *p)
{
	size_t	n;

	while (isspace((unsigned char)*p))
		p++;
	n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
	return p;
}

/* One line of the file: 0, or -1 with the reason in why. seen[] catches a setting given twice. */
static int
file_line(struct config *cfg, char *line, int lineno, int seen[], char *why, size_t whysz)
{
	const struct config_setting	*s;
	char				*eq, *name, *val, *hash;
	char				 vwhy[256];

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	/* A comment may follow a value after white space: "max_conns = 64  # busy host". */
	for (hash = line; (hash = strchr(hash, '#')) != NULL; hash++) {
		if (hash > line && isspace((unsigned char)hash[-1])) {
			*hash = '\0';
			break;
		}
	}
	eq = strchr(line, '=');
	if (eq == NULL) {
		snprintf(why, whysz, "want 'name = value'");
		return -1;
	}
	*eq = '\0';
	name = trim(line);
	val = trim(eq + 1);
	s = config_setting_find(name, strlen(name));
	if (s == NULL) {
		snprintf(why, whysz, "unknown setting '%.64s' (tskey config sample lists them)",
		    name);
		return -1;
	}
	if (seen[s - config_settings] != 0) {
		snprintf(why, whysz, "%s: set again (first on line %d)", s->name,
		    seen[s - config_settings]);
		return -1;
	}
	seen[s - config_settings] = lineno;
	if (config_value_set(cfg, s, val, vwhy, sizeof(vwhy)) != 0) {
		snprintf(why, whysz, "%s: bad value '%.128s': %s", s->name, val, vwhy);
		return -1;
	}
	note(cfg, s, CONFIG_SRC_FILE);
	return 0;
}

int
config_file(struct config *cfg, const char *path, FILE *errs)
{
	FILE	*f;
	char	 line[LINE_MAX_BYTES], why[512];
	int	 seen[CONFIG_MAX_SETTINGS] = { 0 };
	int	 lineno = 0, nerr = 0, c;
	size_t	 n;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
		return 1;
	}
	snprintf(cfg->config_path, sizeof(cfg->config_path), "%s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		n = strlen(line);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			fprintf(errs, "%s:%d: line longer than %d bytes\n", path, lineno,
			    LINE_MAX_BYTES - 2);
			nerr++;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (file_line(cfg, line, lineno, seen, why, sizeof(why)) != 0) {
			fprintf(errs, "%s:%d: %s\n", path, lineno, why);
			nerr++;
		}
	}
	if (ferror(f)) {
		fprintf(errs, "%s: read error\n", path);
		nerr++;
	}
	fclose(f);
	return nerr;
}

/* "log_level" -> "TSKEY_LOG_LEVEL" */
static void
env_name(const struct config_setting *s, char *out, size_t outsz)
{
	size_t	i, n;

	n = (size_t)snprintf(out, outsz, "TSKEY_%s", s->name);
	for (i = 6; i < n && i < outsz; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

int
config_env(struct config *cfg, FILE *errs)
{
	const struct config_setting	*s;
	const char			*v;
	char				 name[64], why[256];
	int				 nerr = 0;
	size_t				 i;

	for (i = 0; i < config_nsettings; i++) {
		s = &config_settings[i];
		env_name(s, name, sizeof(name));
		v = getenv(name);
		if (v == NULL || *v == '\0')
			continue;
		if (config_value_set(cfg, s, v, why, sizeof(why)) != 0) {
			fprintf(errs, "environment %s: bad value '%.128s': %s\n", name, v, why);
			nerr++;
			continue;
		}
		note(cfg, s, CONFIG_SRC_ENV);
	}
	return nerr;
}

int
config_flag(struct config *cfg, int global, int argc, char **argv, int *i, FILE *errs)
{
	const struct config_flag	*fl = NULL;
	const struct config_setting	*s;
	const char			*v;
	char				 why[256], both[2048];
	size_t				 k;

	for (k = 0; k < config_nflags && fl == NULL; k++) {
		if (config_flags[k].global == global && strcmp(config_flags[k].flag, argv[*i]) == 0)
			fl = &config_flags[k];
	}
	if (fl == NULL)
		return 0;
	s = config_setting_find(fl->setting, strlen(fl->setting));
	v = fl->sets;
	if (v == NULL) {
		if (*i + 1 >= argc) {
			fprintf(errs, "%s: wants a value (%s)\n", fl->flag, s->arg);
			return -1;
		}
		v = argv[++*i];
	}
	/* A repeated --admin-origin adds to the list the earlier ones made. */
	if (s->type == CT_ORIGINS && cfg->source[s - config_settings] == CONFIG_SRC_FLAG) {
		snprintf(both, sizeof(both), "%s %s", (const char *)cfg + s->off, v);
		v = both;
	}
	if (config_value_set(cfg, s, v, why, sizeof(why)) != 0) {
		fprintf(errs, "%s: bad value '%.128s': %s\n", fl->flag, v, why);
		(*i)++;		/* past the value: it is not an option of its own */
		return -1;
	}
	note(cfg, s, CONFIG_SRC_FLAG);
	(*i)++;
	return 1;
}

int
config_validate(const struct config *cfg, FILE *errs)
{
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		fprintf(errs, "%s%stls_cert and tls_key (--tls-cert, --tls-key) go together: set "
		    "both or neither\n", cfg->config_path, cfg->config_path[0] != '\0' ? ": " : "");
		return 1;
	}
	return 0;
}

static const char *const source_names[] = { "default", "file", "environment", "flag" };

void
config_show(const struct config *cfg, FILE *out)
{
	char	val[1100];
	size_t	i;

	if (cfg->config_path[0] != '\0')
		fprintf(out, "# file: %s\n", cfg->config_path);
	for (i = 0; i < config_nsettings; i++) {
		config_value_format(cfg, &config_settings[i], val, sizeof(val));
		fprintf(out, "%s =%s%s  # %s\n", config_settings[i].name, val[0] != '\0' ? " " : "",
		    val, source_names[cfg->source[i] < 4 ? cfg->source[i] : 0]);
	}
}

/* The flags that set s, as "--flag, -v" (or "" when none). */
static void
flags_of(const struct config_setting *s, char *out, size_t outsz)
{
	size_t	k, n = 0;

	out[0] = '\0';
	for (k = 0; k < config_nflags && n < outsz; k++) {
		if (strcmp(config_flags[k].setting, s->name) == 0)
			n += (size_t)snprintf(out + n, outsz - n, "%s%s", n > 0 ? ", " : "",
			    config_flags[k].flag);
	}
}

void
config_sample(FILE *out)
{
	const struct config_setting	*s;
	struct config			 def;
	char				 val[1100], env[64], flags[128];
	size_t				 i;

	config_defaults(&def);
	fputs("# tskey configuration: every setting, with its default (commented out).\n"
	    "# `key = value` lines; # starts a comment. Later layers win: this file\n"
	    "# (tskey --config FILE, or TSKEY_CONFIG), then TSKEY_<NAME> environment\n"
	    "# variables, then flags. SIGHUP re-reads the file; settings marked\n"
	    "# \"restart\" are kept until the server restarts.\n"
	    "# Check a file with: tskey config check FILE\n", out);
	for (i = 0; i < config_nsettings; i++) {
		s = &config_settings[i];
		config_value_format(&def, s, val, sizeof(val));
		env_name(s, env, sizeof(env));
		flags_of(s, flags, sizeof(flags));
		fprintf(out, "\n# %s\n# %s; env %s%s%s; %s\n#%s =%s%s\n", s->help, s->arg, env,
		    flags[0] != '\0' ? "; flag " : "", flags,
		    s->reload == 2 ? "SIGHUP reloads while TLS stays on" : s->reload ?
		    "SIGHUP reloads" : "restart", s->name, val[0] != '\0' ? " " : "",
		    val);
	}
}

/* Is there a flag that takes s's value (not a switch)? */
static int
has_value_flag(const struct config_setting *s)
{
	size_t	k;

	for (k = 0; k < config_nflags; k++) {
		if (config_flags[k].sets == NULL && strcmp(config_flags[k].setting, s->name) == 0)
			return 1;
	}
	return 0;
}

/* "  LEFT   text..." with text wrapped to 79 columns under itself. */
static void
help_line(FILE *out, const char *left, const char *text)
{
	const char	*p = text, *sp;
	int		 col = fprintf(out, "  %-28s ", left), n;

	if (col > 31) {
		fprintf(out, "\n%31s", "");
		col = 31;
	}
	while (*p != '\0') {
		sp = strchr(p, ' ');
		n = sp != NULL ? (int)(sp - p) : (int)strlen(p);
		if (col > 31 && col + 1 + n > 79) {
			fprintf(out, "\n%31s", "");
			col = 31;
		}
		col += fprintf(out, "%s%.*s", col > 31 ? " " : "", n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

void
config_flag_help(FILE *out, int global)
{
	const struct config_setting	*s;
	const struct config_flag	*fl;
	struct config			 def;
	char				 val[1100], left[64], text[1400];
	size_t				 k;

	config_defaults(&def);
	for (k = 0; k < config_nflags; k++) {
		fl = &config_flags[k];
		if (fl->global != global)
			continue;
		s = config_setting_find(fl->setting, strlen(fl->setting));
		snprintf(left, sizeof(left), "%s%s%s", fl->flag, fl->sets != NULL ? "" : " ",
		    fl->sets != NULL ? "" : s->arg);
		config_value_format(&def, s, val, sizeof(val));
		if (fl->sets != NULL)	/* the help once, where no other flag gives it */
			snprintf(text, sizeof(text), "%s = %s%s%s", s->name, fl->sets,
			    has_value_flag(s) ? "" : ": ", has_value_flag(s) ? "" : s->help);
		else
			snprintf(text, sizeof(text), "%s (default %s)", s->help,
			    val[0] != '\0' ? val : "none");
		help_line(out, left, text);
	}
}

int
config_reload_merge(struct config *next, const struct config *running)
{
	const struct config_setting	*s;
	char				 was[1100], now[1100];
	size_t				 i;
	int				 n = 0;

	for (i = 0; i < config_nsettings; i++) {
		s = &config_settings[i];
		config_value_format(running, s, was, sizeof(was));
		config_value_format(next, s, now, sizeof(now));
		if (strcmp(was, now) == 0)
			continue;
		/* TLS can be renewed by a reload, not switched on or off */
		if (!s->reload || (s->reload == 2 && (running->tls_cert[0] == '\0' ||
		    next->tls_cert[0] == '\0' || next->tls_key[0] == '\0'))) {
			log_warnx("reload: %s changed to '%s': needs restart; still '%s'", s->name,
			    now, was);
			config_value_copy(next, running, s);
			continue;
		}
		log_info("reload: %s = '%s' (was '%s')", s->name, now, was);
		n++;
	}
	return n;
}

int
config_load(struct config *cfg, const char *path, int gargc, char **gargv, int sargc,
    char **sargv, FILE *errs)
{
	int	i, r, nerr = 0;

	config_defaults(cfg);
	if (path != NULL)
		nerr += config_file(cfg, path, errs);
	nerr += config_env(cfg, errs);
	for (i = 0; i < gargc;) {
		if (strcmp(gargv[i], "--config") == 0) {
			i += 2;
			continue;
		}
		r = config_flag(cfg, 1, gargc, gargv, &i, errs);
		if (r == 0) {
			fprintf(errs, "unknown option '%.64s'\n", gargv[i]);
			i++;
		}
		nerr += r != 1;
	}
	for (i = 0; i < sargc;) {
		r = config_flag(cfg, 0, sargc, sargv, &i, errs);
		if (r == 0) {
			fprintf(errs, "serve: unknown option '%.64s'\n", sargv[i]);
			i++;
		}
		nerr += r != 1;
	}
	if (nerr == 0)
		nerr += config_validate(cfg, errs);
	return nerr;
}
