/* THE route table.  Audit here: method, path, format, who may call, CSRF. */
#include "config.h"
#include "router.h"
#include "auth.h"
#include "req.h"
#include "../handlers/handlers.h"

#define GET M_GET
#define POST M_POST

const struct route routes[] = {
	/* method  pattern        handler               format    auth          roles flags */
	{GET,  "/",               h_home_show,          FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/login",          h_auth_login_form,    FMT_HTML, AUTH_PUBLIC,  0, 0},
	{POST, "/login",          h_auth_login,         FMT_HTML, AUTH_PUBLIC,  0, ROUTE_CSRF_PRE},
	{POST, "/logout",         h_auth_logout,        FMT_HTML, AUTH_PAGE,    0, ROUTE_CSRF},
	{GET,  "/monitoring/jobs/", h_jobs_list,        FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/monitoring/job/{id}", h_job_show,      FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/monitoring/users/", h_users_list,      FMT_HTML, AUTH_PAGE,    ROLE_MANAGER | ROLE_SUPPORT | ROLE_ADMIN, 0},
	{GET,  "/monitoring/projects/", h_projects_list, FMT_HTML, AUTH_PAGE,   ROLE_MANAGER | ROLE_SUPPORT | ROLE_ADMIN, 0},
	{GET,  "/monitoring/user/{id}", h_users_show,    FMT_HTML, AUTH_PAGE,   0, 0},
	{GET,  "/monitoring/tags/", h_tags_list,        FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/search",         h_search_redirect,    FMT_HTML, AUTH_PAGE,    0, 0},
	{GET,  "/imprint",        h_pages_imprint,      FMT_HTML, AUTH_PUBLIC,  0, 0},
	{GET,  "/privacy",        h_pages_privacy,      FMT_HTML, AUTH_PUBLIC,  0, 0},
	{GET,  "/healthz",        h_health_show,        FMT_TEXT, AUTH_PUBLIC,  0, 0},
	{GET,  "/ping",           h_health_ping,        FMT_TEXT, AUTH_PUBLIC,  0, 0},
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
