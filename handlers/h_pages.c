/* /imprint and /privacy: built-in texts, replaced by ./var/imprint.tmpl and
 * ./var/privacy.tmpl when a site provides them (cc-backend's customisation). */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/page.h"
#include "../app/tmpl.h"

static int show(struct req *r, struct resp *w, const char *title, const char *name, const char *custom)
{
	struct json_object *m = page_model(r, w, title);
	return page_render(r, w, 200, tmpl_set_has(the_app->tmpl, custom) ? custom : name, m);
}

int h_pages_imprint(struct req *r, struct resp *w)
{
	return show(r, w, "Imprint", "imprint", "var/imprint");
}

int h_pages_privacy(struct req *r, struct resp *w)
{
	return show(r, w, "Privacy", "privacy", "var/privacy");
}
