#include "config.h"
#include "app.h"
#include "archive.h"
#include "conf.h"
#include "dir.h"
#include "jsonio.h"
#include "log.h"
#include "tmpl.h"
#include "token.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct app *the_app;

/* cc-backend's override files are Go templates wrapped in {{define "content"}}…{{end}};
 * the wrapper goes, the HTML inside becomes the page's content block. */
static void add_override(struct tmpl_set *set, const char *name, const char *file)
{
	char err[512];
	size_t len;
	char path[256];
	snprintf(path, sizeof(path), "./var/%s", file);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fclose(f);
	char *src = jsonio_read_file(path, 1024 * 1024, &len, err, sizeof(err));
	if (!src) {
		log_warn("%s", err);
		return;
	}
	char *body = src, *p;
	if ((p = strstr(body, "{{define \"content\"}}")) != NULL)
		body = p + strlen("{{define \"content\"}}");
	char *end = strstr(body, "{{end}}");
	if (end)
		*end = '\0';
	size_t blen = strlen(body) + 128;
	char *wrapped = xmalloc(blen);
	snprintf(wrapped, blen, "{{<layout}}{{$content}}%s{{/content}}{{/layout}}", body);
	if (tmpl_set_add(set, name, wrapped, strlen(wrapped), err, sizeof(err)) < 0)
		log_warn("%s: ignored: %s", path, err);
	else
		log_info("using %s", path);
	free(wrapped);
	free(src);
}

int app_init(struct app *app, struct conf *conf, char *err, size_t errlen)
{
	memset(app, 0, sizeof(*app));
	app->conf = conf;
	app->version = PACKAGE_VERSION;
	char terr[512];
	app->tmpl = tmpl_set_load(conf->templates_dir, terr, sizeof(terr));
	if (!app->tmpl) {
		snprintf(err, errlen, "templates in %s: %s", conf->templates_dir, terr);
		return -1;
	}
	add_override(app->tmpl, "var/imprint", "imprint.tmpl");
	add_override(app->tmpl, "var/privacy", "privacy.tmpl");
	app->archive = archive_open(conf, err, errlen);
	if (!app->archive) {
		tmpl_set_free(app->tmpl);
		app->tmpl = NULL;
		return -1;
	}
	char kerr[512];
	app->tokens = token_keys_from_env(kerr, sizeof(kerr));
	if (!app->tokens) {
		snprintf(err, errlen, "%s", kerr);
		app_release(app);
		return -1;
	}
	struct json_object *vu = jsonio_get(jsonio_get(jsonio_get(conf->root, "auth"), "jwts"), "validate-user");
	app->validate_user = vu && json_object_get_boolean(vu);
	if (dir_conf_load(conf->root, conf->path, &app->ldap, err, errlen) < 0) {
		app_release(app);
		return -1;
	}
	if (app->ldap && (app->ldap->sync_interval > 0 || app->ldap->sync_user_on_login) &&
	    !(getenv("LDAP_ADMIN_PASSWORD") && *getenv("LDAP_ADMIN_PASSWORD")))
		log_warn("auth.ldap: LDAP_ADMIN_PASSWORD is not set in .env; the LDAP sync and sync-user-on-login will fail");
	return 0;
}

void app_release(struct app *app)
{
	if (app->tmpl)
		tmpl_set_free(app->tmpl);
	archive_close(app->archive);
	token_keys_free(app->tokens);
	app->tokens = NULL;
	dir_conf_free(app->ldap);
	app->ldap = NULL;
	free(app->archive_error);
	app->tmpl = NULL;
	app->archive = NULL;
}
